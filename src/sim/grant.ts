import { SimError } from "./errors.js";
import type { StructPage } from "./domain.js";
import type { Device } from "./device.js";
import type { ForeignPageStrategy } from "./foreign.js";

/**
 * Grant tables (sources: docs/reference/sources.mdx), after Xen's xen/include/public/grant_table.h (K A Fraser, 2004) and
 * xen/common/grant_table.c, with the guest side of Linux drivers/xen/grant-table.c.
 *
 * A granting domain writes v1 entries `{ flags, domid, frame }` into its own shared table
 * (gnttab_grant_foreign_access); the grantee asks Xen to map an entry (GNTTABOP_map_grant_ref)
 * and gets a maptrack handle back, which it later presents to unmap. Xen pins the entry while it
 * is mapped (GTF_reading / GTF_writing), and the granter cannot revoke a pinned entry.
 *
 * Simplifications: one grant-table version (v1) and one vCPU; no GTF_accept_transfer, copy or
 * transitive grants; handles are reused last-freed-first (the 2006 maptrack free list). Where a
 * status differs from what a reader might expect, the comment at the check cites Xen.
 *
 * This file holds the vocabulary (flags, statuses, GrantError, the options and results of the
 * grant calls, snapshot shapes); grant-table.ts holds the tables and the operations.
 */

/** grant_entry_v1.flags: type GTF_permit_access ("Allow @domid to map/access @frame"). */
export const GTF_permit_access = 1;
/** GTF_readonly [GST]: "Restrict @domid to read-only mappings and accesses." */
export const GTF_readonly = 1 << 2;
/** GTF_reading [XEN]: "Grant entry is currently mapped for reading by @domid." */
export const GTF_reading = 1 << 3;
/** GTF_writing [XEN]: "Grant entry is currently mapped for writing by @domid." */
export const GTF_writing = 1 << 4;
/** GNTMAP_device_map: map the frame for device access; Xen returns its `dev_bus_addr`. */
export const GNTMAP_device_map = 1 << 0;
/** GNTMAP_host_map: map the frame for CPU access in the mapping domain. */
export const GNTMAP_host_map = 1 << 1;
/** GNTMAP_readonly: the mapping is read-only (required for a GTF_readonly grant). */
export const GNTMAP_readonly = 1 << 2;

/** The GNTST_* status codes of grant_table.h (0 is GNTST_okay). */
export const GNTST = Object.freeze({
  okay: 0,
  general_error: -1,
  bad_domain: -2,
  bad_gntref: -3,
  bad_handle: -4,
  bad_virt_addr: -5,
  bad_dev_addr: -6,
  no_device_space: -7,
  permission_denied: -8,
  bad_page: -9,
  bad_copy_arg: -10,
  address_too_big: -11,
  eagain: -12,
});

/** Name of a failing GNTST_* status, without the prefix (e.g. "bad_gntref"). */
export type GntStatusName = Exclude<keyof typeof GNTST, "okay">;

/** Entries reserved at the start of every table (GNTTAB_NR_RESERVED_ENTRIES: console, xenstore): the first gref handed out is 8. */
export const GNTTAB_NR_RESERVED_ENTRIES = 8;
/** Grant-table frames a domain may have (Xen's default max_grant_frames of the era). Entries per frame: pageSize / 8. */
export const MAX_GRANT_FRAMES = 32;
/** Maptrack handles a domain may hold at once (a model bound; Xen sizes it with max_maptrack_frames). */
export const MAX_MAPTRACK_HANDLES = 65536;

/**
 * A failed grant-table hypercall: the SimError code is "GRANT_ERROR"; `status` is Xen's GNTST_*
 * value and `statusName` its name (e.g. -3, "GNTST_bad_gntref"). The message quotes Xen's log line.
 */
export class GrantError extends SimError {
  /** Xen's status, e.g. -3. */
  readonly status: number;
  /** e.g. "GNTST_bad_gntref". */
  readonly statusName: string;

  constructor(status: GntStatusName, message: string, field?: string) {
    super("GRANT_ERROR", message, field);
    this.name = "GrantError";
    this.status = GNTST[status];
    this.statusName = `GNTST_${status}`;
  }
}

/** Options of `domain.grantAccess(pfn, grantee, options)`. */
export interface GrantAccessOptions {
  /** GTF_readonly: the grantee may only map it read-only. Default false. */
  readonly?: boolean;
}

/** Options of `domain.mapGrant(granter, gref, options)`: the GNTMAP_* flags of the map op. */
export interface MapGrantOptions {
  /**
   * GNTMAP_host_map: make the frame CPU-addressable in the mapping domain. Default true with
   * `foreignPages: "map"`; the "tag" strategy never maps foreign frames, so there it must stay false.
   */
  host?: boolean;
  /**
   * GNTMAP_device_map. `true` (default): Xen returns the machine address as `dev_bus_addr`.
   * A `Device` of the mapping domain: if it sits behind an IOMMU, Xen installs an IOMMU entry in
   * its protection domain and `devBusAddress` is that IOVA. `false`: no device mapping.
   */
  device?: boolean | Device;
  /** GNTMAP_readonly. Default false; mapping a GTF_readonly grant without it fails as in Xen. */
  readonly?: boolean;
}

/** Options of `domain.unmapGrant(handle, options)`. */
export interface UnmapGrantOptions {
  /** dev_bus_addr of the unmap op: if given it must be the mapping's, else GNTST_bad_dev_addr. */
  devBusAddress?: number;
}

/** What `mapGrant` returns. Plain data. */
export interface GrantMapping {
  /** The maptrack handle: present it to `unmapGrant`. */
  handle: number;
  /**
   * The struct page standing for the foreign frame in the mapping domain: mapped at a ballooned
   * PFN ("map"), or tagged foreign with the handle in `private` and never mapped ("tag").
   * Null for a device-only mapping under "map".
   */
  page: StructPage | null;
  /** Guest-physical address of the frame in the mapping domain ("map" with a host mapping), else null. */
  address: number | null;
  /** Xen's dev_bus_addr: where a device reaches the frame (an IOVA behind an IOMMU), or null without GNTMAP_device_map. */
  devBusAddress: number | null;
  /** The strategy the mapping domain uses (its `foreignPages`). */
  strategy: ForeignPageStrategy;
  /** Mapped read-only (GNTMAP_readonly): CPU writes fault and, behind an IOMMU, device writes are blocked. */
  readonly: boolean;
}

/** One v1 grant entry as Xen's shared table holds it. */
export interface GrantEntry {
  /** GTF_* bits. */
  flags: number;
  /** The grantee. */
  domid: number;
  /** The frame as the granter names it: its MFN for a P2M or P==M guest, its PFN (gfn) for a VP (translated) guest. */
  frame: number;
}

/** One grant entry in a snapshot. */
export interface GrantSnapshot {
  /** The granting domain. */
  domain: string;
  /** The grant reference (index into the granter's table; the first usable one is 8). */
  gref: number;
  /** The entry's GTF_* bits, as a number. */
  flags: number;
  /** e.g. ["GTF_permit_access", "GTF_readonly", "GTF_reading"]. */
  flagNames: string[];
  /** The grantee. */
  grantee: string;
  /** The entry's frame field as the granter wrote it: its MFN (P2M, P==M) or its PFN (VP, a translated guest). */
  frame: number;
  /** The granted page's PFN in the granter. */
  pfn: number;
  /** The machine frame the grant resolves to. */
  mfn: number;
  /** Live host (CPU) mappings of the entry (Xen's pin count). */
  hostPins: number;
  /** Live device mappings of the entry (GNTMAP_device_map; Xen's pin count). */
  devicePins: number;
}

/** One live grant mapping (a maptrack entry) in a snapshot, with its foreign page. */
export interface ForeignPageSnapshot {
  /** The mapping domain. */
  domain: string;
  /** The maptrack handle `mapGrant` returned. */
  handle: number;
  /** The domain that granted the frame. */
  granter: string;
  /** The grant reference that was mapped. */
  gref: number;
  /** "map" or "tag": how the mapping domain represents the foreign frame. */
  strategy: ForeignPageStrategy;
  /** PFN of the struct page in the mapping domain, or null (device-only mapping under "map"). */
  pfn: number | null;
  /** Guest-physical address when host-mapped, else null (always null when tagged). */
  address: number | null;
  /** The foreign machine frame. */
  mfn: number;
  /** Mapped with GNTMAP_readonly. */
  readonly: boolean;
  /** Mapped with GNTMAP_host_map (CPU-addressable in the mapping domain). */
  host: boolean;
  /** dev_bus_addr, or null without GNTMAP_device_map. */
  devBusAddress: number | null;
  /** The device whose IOMMU holds the device mapping, or null. */
  device: string | null;
}
