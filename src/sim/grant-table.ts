import { SimError, describeValue, rejectUnknownKeys, requireObject } from "./errors.js";
import { ownerOf } from "./frames.js";
import { hex } from "./units.js";
import type { Machine } from "./machine.js";
import { Domain } from "./domain.js";
import type { Device } from "./device.js";
import type { IommuDomain, IovaRange } from "./iommu.js";
import { installForeignPage, removeForeignPage } from "./foreign-pages.js";
import type { ForeignPageStrategy } from "./foreign.js";
import { StateKey } from "./state.js";
import {
  GNTMAP_device_map,
  GNTMAP_host_map,
  GNTMAP_readonly,
  GNTST,
  GNTTAB_NR_RESERVED_ENTRIES,
  GTF_permit_access,
  GTF_readonly,
  GTF_reading,
  GTF_writing,
  GrantError,
  MAX_GRANT_FRAMES,
  MAX_MAPTRACK_HANDLES,
} from "./grant.js";
import type {
  ForeignPageSnapshot,
  GntStatusName,
  GrantAccessOptions,
  GrantEntry,
  GrantMapping,
  GrantSnapshot,
  MapGrantOptions,
  UnmapGrantOptions,
} from "./grant.js";

/**
 * The grant tables at work (the vocabulary is in grant.ts): each domain's shared table and
 * maptrack, kept in `domain.state`; gnttab_grant_foreign_access / end_foreign_access on the
 * granter's side, GNTTABOP_map_grant_ref / unmap_grant_ref on the mapper's, with the pins,
 * IOMMU entries and foreign struct pages (foreign-pages.ts) a mapping brings. Adds the grant
 * calls to Domain.
 */

interface GrantSlot extends GrantEntry {
  /** The granter's PFN (kept for messages and snapshots). */
  pfn: number;
  /** Xen's active entry: pin counts while mapped (act->pin), and the frame it resolved to. */
  pins: { hostRead: number; hostWrite: number; devRead: number; devWrite: number };
  mfn: number;
}

interface DeviceMapping {
  /** Null when Xen handed out the machine address (no IOMMU). */
  iommu: IommuDomain | null;
  range: IovaRange | null;
  device: Device | null;
  busAddress: number;
}

/** @internal One maptrack entry of the mapping domain. */
export interface MaptrackEntry {
  handle: number;
  granter: Domain;
  ref: number;
  mfn: number;
  readonly: boolean;
  host: boolean;
  strategy: ForeignPageStrategy;
  /** PFN of the struct page standing for the frame, if any. */
  pfn: number | null;
  address: number | null;
  deviceMap: DeviceMapping | null;
}

/** @internal A domain's grant state: its own shared table (granter side) and its maptrack (mapper side). */
export class GrantTable {
  readonly entries = new Map<number, GrantSlot>();
  private readonly freeRefs: number[] = [];
  private nextRef = GNTTAB_NR_RESERVED_ENTRIES;
  /** Highest table frame count reached (Linux grows the table a frame at a time: gnttab_expand). */
  frames = 1;
  readonly maptrack = new Map<number, MaptrackEntry>();
  private readonly freeHandles: number[] = [];
  private nextHandle = 0;

  constructor(readonly entriesPerFrame: number) {}

  /** nr_grant_entries(): refs at or above this are GNTST_bad_gntref. */
  get nrEntries(): number {
    return this.frames * this.entriesPerFrame;
  }

  /** get_free_entries(1): last freed first, else the next never-used ref; undefined when full. */
  takeRef(): number | undefined {
    const ref = this.freeRefs.pop() ?? (this.nextRef < MAX_GRANT_FRAMES * this.entriesPerFrame ? this.nextRef++ : undefined);
    if (ref !== undefined) this.frames = Math.max(this.frames, Math.floor(ref / this.entriesPerFrame) + 1);
    return ref;
  }

  putRef(ref: number): void {
    this.freeRefs.push(ref);
  }

  /** get_maptrack_handle(): undefined when none is left. */
  takeHandle(): number | undefined {
    return this.freeHandles.pop() ?? (this.nextHandle < MAX_MAPTRACK_HANDLES ? this.nextHandle++ : undefined);
  }

  putHandle(handle: number): void {
    this.freeHandles.push(handle);
  }
}

/** The machine's end-of-run report of grant mappings still held, registered with the first grant table. */
const GRANT_REPORT = new StateKey<true, Machine>("grant end-of-run report", (m) => {
  m.onFinish(() => reportLiveGrantMappings(m));
  return true;
});

const GRANT_TABLE = new StateKey<GrantTable, Domain>("grant table", (domain) => {
  domain.machine.state.get(GRANT_REPORT);
  return new GrantTable(domain.machine.pageSize / 8);
});

/** @internal The grant state of a domain, created on first use. */
export function grantTableOf(domain: Domain): GrantTable {
  return domain.state.get(GRANT_TABLE);
}

function isPinned(slot: GrantSlot): boolean {
  const p = slot.pins;
  return p.hostRead + p.hostWrite + p.devRead + p.devWrite > 0;
}

function writePins(slot: GrantSlot): number {
  return slot.pins.hostWrite + slot.pins.devWrite;
}

/** GTF_* bits by name, for messages and snapshots. */
export function grantFlagNames(flags: number): string[] {
  const names: string[] = [];
  if ((flags & 3) === GTF_permit_access) names.push("GTF_permit_access");
  if (flags & GTF_readonly) names.push("GTF_readonly");
  if (flags & GTF_reading) names.push("GTF_reading");
  if (flags & GTF_writing) names.push("GTF_writing");
  return names;
}

function checkDomainArg(m: Machine, value: unknown, field: string): Domain {
  if (typeof value !== "object" || value === null || !m.domains.includes(value as Domain)) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `${field} must be a domain created on this machine (e.g. dom0), got ${describeValue(value === undefined || value === null ? value : typeof value === "object" ? "another object" : value)}`,
      field,
    );
  }
  return value as Domain;
}

function checkBoolean(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean")
    throw new SimError("INVALID_ARGUMENT", `${field} must be true or false, got ${describeValue(value)}`, field);
  return value;
}

/**
 * gnttab_grant_foreign_access(): `granter` lets `grantee` map its page `pfn`. Writes a v1 entry
 * (domid, frame, then flags, as grant_table.h orders it) and returns the grant reference. The
 * entry's frame is the MFN for a P2M or P==M guest (PV guests name machine frames) and the PFN
 * for a VP guest (a translated guest names its own frames; Xen translates when mapping).
 */
export function grantAccess(granter: Domain, pfn: number, grantee: Domain, options: GrantAccessOptions = {}): number {
  const m = granter.machine;
  m.assertRunning();
  const where = `${granter.name}.grantAccess`;
  const to = checkDomainArg(m, grantee, "grantee");
  if (to === granter) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `${where}: a grant gives another domain access to a page; ${granter.name} cannot grant to itself`,
      "grantee",
    );
  }
  if (typeof pfn !== "number" || !Number.isSafeInteger(pfn) || !granter.isRam(pfn)) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `${where}: pfn must be a page of ${granter.name}'s RAM (pfn ${hex(granter.pfnBase)}-${hex(granter.pfnBase + granter.nrPages - 1)}), got ${describeValue(pfn)}`,
      "pfn",
    );
  }
  const o = requireObject(options, "grantAccess options");
  rejectUnknownKeys(o, ["readonly"], "grantAccess");
  const readonly = checkBoolean(o.readonly, "readonly", false);
  const mfn = granter.pfnToMfn(pfn)!;
  const table = grantTableOf(granter);
  const ref = table.takeRef();
  if (ref === undefined) {
    throw new SimError(
      "RESOURCE_LIMIT",
      `${where}: gnttab_grant_foreign_access returned -ENOSPC: all ${MAX_GRANT_FRAMES * table.entriesPerFrame - GNTTAB_NR_RESERVED_ENTRIES} grant entries of ${granter.name} are in use (end access to some first)`,
      "pfn",
    );
  }
  const frame = granter.mode === "VP" ? pfn : mfn;
  const flags = GTF_permit_access | (readonly ? GTF_readonly : 0);
  table.entries.set(ref, { flags, domid: to.domid, frame, pfn, mfn, pins: { hostRead: 0, hostWrite: 0, devRead: 0, devWrite: 0 } });
  m.emit(
    "grant",
    () =>
      `${granter.name}: gnttab_grant_foreign_access(${to.name} (d${to.domid}), frame ${hex(frame)}, ${readonly ? "readonly" : "read/write"}) = gref ${hex(ref)} (pfn ${hex(pfn)})`,
    {
      domain: granter.name,
      address: pfn * m.pageSize,
      machineAddress: mfn * m.pageSize,
      bytes: m.pageSize,
      // Model assumption: writing one shared entry costs about one cached memory access.
      cost: m.costs.p2mRead,
    },
  );
  return ref;
}

/**
 * gnttab_end_foreign_access_ref(): revokes grant `gref` if no one has it mapped and returns true.
 * While Xen has the entry pinned (GTF_reading/GTF_writing) it cannot be revoked ("Invalidating an
 * in-use GTF_permit_access entry: This cannot be done directly", grant_table.h): Linux prints
 * "WARNING: g.e. %#x still in use!" and returns 0; here: the same warning in the trace, and false.
 */
export function endAccess(granter: Domain, gref: number): boolean {
  const m = granter.machine;
  m.assertRunning();
  const table = grantTableOf(granter);
  const slot = typeof gref === "number" ? table.entries.get(gref) : undefined;
  if (!slot) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `${granter.name}.endAccess: gref must be a grant reference ${granter.name} handed out and has not ended, got ${describeValue(gref)}`,
      "gref",
    );
  }
  if (slot.flags & (GTF_reading | GTF_writing)) {
    m.emit(
      "grant",
      () =>
        `WARNING: g.e. ${hex(gref)} still in use! (${granter.name}: ${grantFlagNames(slot.flags).join("|")}; an in-use GTF_permit_access entry cannot be revoked until the grantee unmaps it)`,
      {
        domain: granter.name,
        address: slot.pfn * m.pageSize,
        severity: "warning",
        code: "in-use",
        cost: m.costs.p2mRead,
      },
    );
    return false;
  }
  table.entries.delete(gref);
  table.putRef(gref);
  m.emit("grant", () => `${granter.name}: gnttab_end_foreign_access_ref(${hex(gref)}): access revoked (pfn ${hex(slot.pfn)})`, {
    domain: granter.name,
    address: slot.pfn * m.pageSize,
    cost: m.costs.p2mRead,
  });
  return true;
}

/** A Domain, or a domid: an existing domain's, or (for GNTST_bad_domain) a number no domain has. */
function resolveGranter(m: Machine, value: unknown): Domain | number {
  if (typeof value !== "number") return checkDomainArg(m, value, "granter");
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `mapGrant: granter must be a domain or a domid (an integer from 0 to 65535), got ${describeValue(value)}`,
      "granter",
    );
  }
  return m.domains[value] ?? value;
}

/**
 * GNTTABOP_map_grant_ref by `mapper` for grant `gref` of `granterArg` (a Domain or a domid).
 * Checks in map_grant_ref()'s order, each failure a {@link GrantError} with Xen's status and log
 * line (after a `grant-map` trace event: the hypercall was made). Xen allows the same domain to
 * map one grant several times: each map takes its own maptrack handle and pin.
 */
export function mapGrant(mapper: Domain, granterArg: Domain | number, gref: number, options: MapGrantOptions = {}): GrantMapping {
  const m = mapper.machine;
  m.assertRunning();
  const o = requireObject(options, "mapGrant options");
  rejectUnknownKeys(o, ["host", "device", "readonly"], "mapGrant");
  const strategy = mapper.foreignPages;
  const host = checkBoolean(o.host, "host", strategy === "map");
  if (host && strategy === "tag") {
    throw new SimError(
      "INVALID_ARGUMENT",
      `${mapper.name}.mapGrant: host: true asks for a CPU mapping, but ${mapper.name} uses foreignPages: "tag", which never maps foreign frames (its struct page only carries the grant handle); use foreignPages: "map" for a host mapping`,
      "host",
    );
  }
  const readonly = checkBoolean(o.readonly, "readonly", false);
  const device = o.device === undefined || typeof o.device === "boolean" ? null : checkDevice(mapper, o.device);
  const deviceMap = o.device === undefined ? true : o.device !== false;
  if (typeof gref !== "number" || !Number.isSafeInteger(gref) || gref < 0 || gref > 0xffffffff) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `${mapper.name}.mapGrant: gref must be a grant reference (an integer from 0 to 0xffffffff), got ${describeValue(gref)}`,
      "gref",
    );
  }
  const flags = (deviceMap ? GNTMAP_device_map : 0) | (host ? GNTMAP_host_map : 0) | (readonly ? GNTMAP_readonly : 0);
  const granter = resolveGranter(m, granterArg);
  const call = `GNTTABOP_map_grant_ref(${typeof granter === "number" ? `d${granter}` : granter.name}, gref ${hex(gref)}, ${flagList(flags)})`;
  const failure = (status: GntStatusName, xenSays: string, field?: string) =>
    hypercallFailure(mapper, "grant-map", call, status, xenSays, field);
  // map_grant_ref(): a map op must ask for a device or a host mapping.
  if ((flags & (GNTMAP_device_map | GNTMAP_host_map)) === 0)
    throw failure("bad_gntref", `Bad flags in grant map op: ${hex(flags)}`, "device");
  if (typeof granter === "number") throw failure("bad_domain", `Could not find domain ${granter}`, "granter");
  const mine = grantTableOf(mapper);
  const handle = mine.takeHandle();
  if (handle === undefined) throw failure("no_device_space", "Failed to obtain maptrack handle");
  const pinFailure = (status: GntStatusName, xenSays: string, field?: string) => {
    mine.putHandle(handle);
    return failure(status, xenSays, field);
  };
  const theirs = grantTableOf(granter);
  if (gref >= theirs.nrEntries) throw pinFailure("bad_gntref", `Bad ref ${hex(gref)} for d${granter.domid}`, "gref");
  const entry = theirs.entries.get(gref);
  const pinned = entry !== undefined && isPinned(entry);
  // If already pinned, Xen checks the active entry's domain first.
  if (entry && pinned && entry.domid !== mapper.domid) {
    throw pinFailure("general_error", `Bad domain (${entry.domid} != ${mapper.domid}), or risk of counter overflow, or subpage`, "granter");
  }
  // _set_status_v1(): a first pin needs GTF_permit_access naming this domain (Xen answers
  // GNTST_general_error, not permission_denied, which only XSM policy returns) ...
  if (!entry || (!pinned && ((entry.flags & 3) !== GTF_permit_access || entry.domid !== mapper.domid))) {
    throw pinFailure(
      "general_error",
      `Bad flags (${hex(entry?.flags ?? 0)}) or dom (${entry?.domid ?? 0}); expected d${mapper.domid}`,
      "gref",
    );
  }
  // ... and a writable pin needs a writable grant.
  if (!readonly && entry.flags & GTF_readonly) throw pinFailure("general_error", "Attempt to write-pin a r/o grant entry", "readonly");
  // get_paged_frame(): the frame must (still) belong to the granter; a VP granter named a gfn.
  const mfn = granter.mode === "VP" ? granter.pfnToMfn(entry.frame) : entry.frame;
  if (mfn === undefined || m.store.owner(mfn) !== ownerOf(granter.domid)) {
    throw pinFailure("general_error", `Could not pin grant frame ${hex(mfn ?? entry.frame)}`, "gref");
  }
  let dmap: DeviceMapping | null = null;
  if (deviceMap) {
    dmap = deviceMapping(m, device, mfn, readonly);
    if (!dmap) throw pinFailure("no_device_space", `IOVA space of ${device!.name} below its ${device!.dmaMask}-bit mask is full`, "device");
  }
  // Pin, then set the status flags the granter sees.
  if (deviceMap) entry.pins[readonly ? "devRead" : "devWrite"]++;
  if (host) entry.pins[readonly ? "hostRead" : "hostWrite"]++;
  entry.flags |= GTF_reading | (readonly ? 0 : GTF_writing);
  entry.mfn = mfn;
  adjustGranted(m, mapper.domid, mfn, readonly, 1);
  const record: MaptrackEntry = { handle, granter, ref: gref, mfn, readonly, host, strategy, pfn: null, address: null, deviceMap: dmap };
  mine.maptrack.set(handle, record);
  m.emit(
    "grant-map",
    () =>
      `${mapper.name}: ${call} = GNTST_okay, handle ${handle}${dmap ? `, dev_bus_addr ${hex(dmap.busAddress)}` : ""} (${granter.name} pfn ${hex(entry.pfn)}, machine ${hex(mfn * m.pageSize)})`,
    {
      domain: mapper.name,
      device: dmap?.device?.name,
      machineAddress: mfn * m.pageSize,
      busAddress: dmap?.busAddress,
      bytes: m.pageSize,
      code: "GNTST_okay",
      cost: m.costs.grantMap,
    },
  );
  // Linux, after the hypercall: mark the page foreign (gnttab_map_refs) and, for "map", enter
  // it in the p2m (set_foreign_p2m_mapping).
  if (host || strategy === "tag") {
    const placed = installForeignPage(mapper, {
      handle,
      granter: granter.name,
      gref,
      mfn,
      readonly,
      host,
      devBusAddress: dmap?.busAddress ?? null,
      iommu: dmap?.iommu ?? null,
    });
    record.pfn = placed.pfn;
    record.address = placed.address;
  }
  return {
    handle,
    page: record.pfn === null ? null : mapper.page(record.pfn),
    address: record.address,
    devBusAddress: dmap?.busAddress ?? null,
    strategy,
    readonly,
  };
}

/** Records a failed grant hypercall in the trace (it was made, so it costs) and builds its error. */
function hypercallFailure(
  domain: Domain,
  kind: "grant-map" | "grant-unmap",
  call: string,
  status: GntStatusName,
  xenSays: string,
  field?: string,
): GrantError {
  const m = domain.machine;
  m.emit(kind, () => `${domain.name}: ${call} = GNTST_${status} (${STATUS_TEXT[status]}): Xen: "${xenSays}"`, {
    domain: domain.name,
    severity: "error",
    code: `GNTST_${status}`,
    cost: kind === "grant-map" ? m.costs.grantMap : m.costs.grantUnmap,
  });
  return new GrantError(status, `${domain.name}: ${call} failed with GNTST_${status} (${GNTST[status]}): ${xenSays}`, field);
}

function checkDevice(mapper: Domain, value: unknown): Device {
  const m = mapper.machine;
  const device = value as Device;
  if (typeof value !== "object" || value === null || !m.devices.includes(device)) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `mapGrant: device must be true, false or a device attached on this machine, got ${describeValue(typeof value === "object" && value !== null ? "another object" : value)}`,
      "device",
    );
  }
  if (device.domain !== mapper) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `mapGrant: device ${device.name} belongs to ${device.domain.name}, not ${mapper.name}: only the mapping domain's own devices can be given a device mapping`,
      "device",
    );
  }
  return device;
}

/**
 * GNTMAP_device_map. Without an IOMMU Xen returns the machine address (op->dev_bus_addr =
 * mfn_to_maddr(mfn)). Behind an IOMMU the device needs a translation: the simulator allocates an
 * IOVA in the device's protection domain and writes a PTE (read-only for GNTMAP_readonly), as the
 * interface anticipated (GNTST_no_device_space: "no spare translation slot in the I/O MMU").
 * Simplification: modern Xen maps a PV domain's grants 1:1 (dfn == mfn) in that domain's IOMMU
 * context (gnttab_need_iommu_mapping → iommu_legacy_map) instead. Returns null when no IOVA is left.
 */
function deviceMapping(m: Machine, device: Device | null, mfn: number, readonly: boolean): DeviceMapping | null {
  const iommu = device?.iommu ?? null;
  if (!device || !iommu) return { iommu: null, range: null, device, busAddress: mfn * m.pageSize };
  const range = iommu.allocIova(1, device);
  if (!range) return null;
  iommu.map(range.iovaPage, mfn, { read: true, write: !readonly }, device);
  return { iommu, range, device, busAddress: range.iovaPage * m.pageSize };
}

/** Keeps machine.grantedFrames (and its writable subset) in step: devices of `domid` may reach `mfn`. */
function adjustGranted(m: Machine, domid: number, mfn: number, readonly: boolean, delta: 1 | -1): void {
  const bump = (table: Map<number, Map<number, number>>) => {
    const byDomain = table.get(mfn) ?? new Map<number, number>();
    const count = (byDomain.get(domid) ?? 0) + delta;
    if (count > 0) byDomain.set(domid, count);
    else byDomain.delete(domid);
    if (byDomain.size > 0) table.set(mfn, byDomain);
    else table.delete(mfn);
  };
  bump(m.grantedFrames);
  if (!readonly) bump(m.writableGrantedFrames);
}

/**
 * GNTTABOP_unmap_grant_ref: tears down the host and device mappings tracked by `handle`. Bad
 * handles fail with GNTST_bad_handle; a `devBusAddress` that is not the mapping's fails with
 * GNTST_bad_dev_addr ("Bus address doesn't match gntref"). An IOMMU entry is flushed from the
 * IOTLB at once even under lazy invalidation: "After executing a batch of unmaps, it is
 * guaranteed that no stale mappings will remain in the device or host TLBs" (grant_table.h).
 */
export function unmapGrant(mapper: Domain, handle: number, options: UnmapGrantOptions = {}): void {
  const m = mapper.machine;
  m.assertRunning();
  const o = requireObject(options, "unmapGrant options");
  rejectUnknownKeys(o, ["devBusAddress"], "unmapGrant");
  if (typeof handle !== "number" || !Number.isSafeInteger(handle) || handle < 0) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `${mapper.name}.unmapGrant: handle must be a maptrack handle returned by mapGrant, got ${describeValue(handle)}`,
      "handle",
    );
  }
  if (
    o.devBusAddress !== undefined &&
    (typeof o.devBusAddress !== "number" || !Number.isSafeInteger(o.devBusAddress) || o.devBusAddress < 0)
  ) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `${mapper.name}.unmapGrant: devBusAddress must be a bus address (a whole number >= 0), got ${describeValue(o.devBusAddress)}`,
      "devBusAddress",
    );
  }
  const table = grantTableOf(mapper);
  const call = `GNTTABOP_unmap_grant_ref(handle ${handle})`;
  const failure = (status: GntStatusName, xenSays: string, field: string) =>
    hypercallFailure(mapper, "grant-unmap", call, status, xenSays, field);
  const r = table.maptrack.get(handle);
  if (!r) {
    throw failure(
      "bad_handle",
      handle >= MAX_MAPTRACK_HANDLES
        ? `Bad d${mapper.domid} handle ${hex(handle)}`
        : `Zero flags for d${mapper.domid} handle ${hex(handle)}`,
      "handle",
    );
  }
  if (o.devBusAddress !== undefined && r.deviceMap && o.devBusAddress !== r.deviceMap.busAddress) {
    throw failure(
      "bad_dev_addr",
      `Bus address doesn't match gntref (${hex(o.devBusAddress)} != ${hex(r.deviceMap.busAddress)})`,
      "devBusAddress",
    );
  }
  // Linux clears the page's foreign state and its p2m entry (gnttab_unmap_refs).
  if (r.pfn !== null) removeForeignPage(mapper, r.handle, r.pfn);
  const d = r.deviceMap;
  if (d?.iommu && d.range) d.iommu.unmap(d.range, d.device ?? undefined);
  // "No stale mappings will remain in the device or host TLBs": flush every IOMMU domain of the
  // mapper's devices with queued (lazy) invalidations, since a lazily unmapped DMA-API mapping of
  // this frame may still sit in the IOTLB.
  for (const iommu of new Set(m.devices.filter((dev) => dev.domain === mapper && dev.iommu).map((dev) => dev.iommu!))) {
    iommu.flushQueue(`grant unmap of handle ${handle}: no stale IOTLB entry may remain`);
  }
  const slot = grantTableOf(r.granter).entries.get(r.ref);
  if (slot) {
    if (d) slot.pins[r.readonly ? "devRead" : "devWrite"]--;
    if (r.host) slot.pins[r.readonly ? "hostRead" : "hostWrite"]--;
    if (writePins(slot) === 0) slot.flags &= ~GTF_writing;
    if (!isPinned(slot)) slot.flags &= ~GTF_reading;
  }
  adjustGranted(m, mapper.domid, r.mfn, r.readonly, -1);
  if (!m.accessibleBy(mapper.domid, r.mfn)) {
    for (const iommu of new Set(m.devices.filter((dev) => dev.domain === mapper && dev.iommu).map((dev) => dev.iommu!))) {
      iommu.revokeFrame(r.mfn, `grant handle ${handle} unmapped`);
    }
  }
  table.maptrack.delete(handle);
  table.putHandle(handle);
  m.emit(
    "grant-unmap",
    () => `${mapper.name}: ${call} = GNTST_okay (${r.granter.name} gref ${hex(r.ref)}, machine ${hex(r.mfn * m.pageSize)})`,
    {
      domain: mapper.name,
      device: d?.device?.name,
      machineAddress: r.mfn * m.pageSize,
      busAddress: d?.busAddress,
      bytes: m.pageSize,
      code: "GNTST_okay",
      cost: m.costs.grantUnmap,
    },
  );
}

/** GNTTABOP_error_msgs of grant_table.h: the text Linux prints for each status. */
const STATUS_TEXT: Record<GntStatusName, string> = {
  general_error: "undefined error",
  bad_domain: "unrecognised domain id",
  bad_gntref: "invalid grant reference",
  bad_handle: "invalid mapping handle",
  bad_virt_addr: "invalid virtual address",
  bad_dev_addr: "invalid device address",
  no_device_space: "no spare translation slot in the I/O MMU",
  permission_denied: "permission denied",
  bad_page: "bad page",
  bad_copy_arg: "copy arguments cross page boundary",
  address_too_big: "page address size too large",
  eagain: "operation not done; try again",
};

function flagList(flags: number): string {
  const names: string[] = [];
  if (flags & GNTMAP_device_map) names.push("GNTMAP_device_map");
  if (flags & GNTMAP_host_map) names.push("GNTMAP_host_map");
  if (flags & GNTMAP_readonly) names.push("GNTMAP_readonly");
  return names.length ? names.join("|") : "0";
}

/** @internal Every grant entry of every domain. */
export function grantsSnapshot(m: Machine): GrantSnapshot[] {
  return m.domains.flatMap((d) =>
    [...grantTableOf(d).entries.entries()].map(([gref, s]) => ({
      domain: d.name,
      gref,
      flags: s.flags,
      flagNames: grantFlagNames(s.flags),
      grantee: m.domains[s.domid]?.name ?? `d${s.domid}`,
      frame: s.frame,
      pfn: s.pfn,
      mfn: s.mfn,
      hostPins: s.pins.hostRead + s.pins.hostWrite,
      devicePins: s.pins.devRead + s.pins.devWrite,
    })),
  );
}

/** @internal Every live grant mapping of every domain. */
export function foreignPagesSnapshot(m: Machine): ForeignPageSnapshot[] {
  return m.domains.flatMap((d) =>
    [...grantTableOf(d).maptrack.values()].map((r) => ({
      domain: d.name,
      handle: r.handle,
      granter: r.granter.name,
      gref: r.ref,
      strategy: r.strategy,
      pfn: r.pfn,
      address: r.address,
      mfn: r.mfn,
      readonly: r.readonly,
      host: r.host,
      devBusAddress: r.deviceMap?.busAddress ?? null,
      device: r.deviceMap?.iommu ? (r.deviceMap.device?.name ?? null) : null,
    })),
  );
}

/**
 * @internal End of run: a backend domain that still holds grant mappings keeps guest frames
 * pinned (the guest cannot end access), which is the backend's leak. One warning per domain.
 */
export function reportLiveGrantMappings(m: Machine): void {
  for (const domain of m.domains) {
    const live = [...grantTableOf(domain).maptrack.values()];
    if (live.length === 0) continue;
    const first = live[0]!;
    m.emit(
      "grant",
      () =>
        `${domain.name} still holds ${live.length} grant mapping${live.length === 1 ? "" : "s"} at the end of the run (e.g. handle ${first.handle}: ${first.granter.name} gref ${hex(first.ref)}); the guest cannot end access to those pages until they are unmapped`,
      {
        domain: domain.name,
        machineAddress: first.mfn * m.pageSize,
        severity: "warning",
        code: "GRANT_LEAK",
      },
    );
  }
}

declare module "./domain.js" {
  interface Domain {
    /**
     * gnttab_grant_foreign_access(): lets `grantee` map this domain's page `pfn` (read-only with
     * `{ readonly: true }`). Returns the grant reference to pass to the grantee (as blkfront puts
     * it in a ring request).
     */
    grantAccess(pfn: number, grantee: Domain, options?: GrantAccessOptions): number;

    /**
     * gnttab_end_foreign_access_ref(): revokes a grant. Returns false, with Linux's
     * "WARNING: g.e. ... still in use!" in the trace, while the grantee still has it mapped.
     */
    endAccess(gref: number): boolean;

    /**
     * GNTTABOP_map_grant_ref: maps grant `gref` of `granter` (a domain or its domid) for this
     * domain's CPU (host) and/or devices. Returns the maptrack handle, the foreign struct page
     * (per this domain's `foreignPages` strategy), its address and the device bus address.
     * Failures throw a GrantError carrying Xen's GNTST_* status.
     */
    mapGrant(granter: Domain | number, gref: number, options?: MapGrantOptions): GrantMapping;

    /** GNTTABOP_unmap_grant_ref: undoes the mapping `handle` tracks (host, device and IOMMU entry). */
    unmapGrant(handle: number, options?: UnmapGrantOptions): void;
  }
}

// The grant operations as methods of Domain (declared above, for the reader's editor and the API reference).
Domain.prototype.grantAccess = function (this: Domain, pfn: number, grantee: Domain, options?: GrantAccessOptions): number {
  return grantAccess(this, pfn, grantee, options);
};
Domain.prototype.endAccess = function (this: Domain, gref: number): boolean {
  return endAccess(this, gref);
};
Domain.prototype.mapGrant = function (this: Domain, granter: Domain | number, gref: number, options?: MapGrantOptions): GrantMapping {
  return mapGrant(this, granter, gref, options);
};
Domain.prototype.unmapGrant = function (this: Domain, handle: number, options?: UnmapGrantOptions): void {
  unmapGrant(this, handle, options);
};
