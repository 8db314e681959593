import { SimError, describeValue, rejectUnknownKeys, requireObject } from "../errors.js";
import type { Machine, MachineConfig, Era } from "../machine.js";
import type { Domain, DomainMode, Layout, StructPage } from "../domain.js";
import type { Device } from "../device.js";
import type { BackendName } from "../dma/backend.js";
import type { DmaApi } from "../dma/api.js";
import { BACKEND_NAMES } from "../dma/backend.js";
import type { ForeignPageStrategy } from "../foreign.js";
import type { Invalidation } from "../iommu.js";
import type { Stats, TraceEvent } from "../trace.js";
import { makeMachineContiguous } from "../exchange.js";
import { formatSize, hex } from "../units.js";
import {
  attachScenarioDevice,
  attempt,
  freshName,
  lastSeq,
  machineFrom,
  patternBytes,
  recordError,
  sameBytes,
  statsDelta,
  traceSince,
} from "./common.js";
import type { ScenarioError } from "./common.js";

/**
 * Where netfront's skb data sits in the domU:
 * - "straddling": a linear skb whose data runs across a page boundary (e.g. headroom pushing a
 *   2 KiB object over the edge, or a multi-page kmalloc buffer for a jumbo frame). In a Xen guest
 *   the pages on either side are pseudo-physically but usually not machine-contiguous.
 * - "xen-skb": Xen's skb allocator (xenified drivers/xen/core/skbuff.c): skb data comes from
 *   caches "xen-skb-<size>" created with size = align = a power of two (`kmem_cache_create(name,
 *   size, size, ...)`), so an object never crosses a page boundary; objects larger than a page
 *   are made machine-contiguous by xen_create_contiguous_region in the cache constructor.
 *   This is the "skb slab cache" Ian Pratt names in the thread: "Other modifications we've made
 *   try to avoid this happening (preventing block request merging across boundries that aren't
 *   machine and phys contiguous, skb slab cache)".
 */
export type SkbAllocation = "straddling" | "xen-skb";

/** Options of {@link netbackPacket}. Everything but `backend` has a default. */
export interface NetbackOptions {
  /** A machine to run on, or the config of a new one. Default: ia64, 1 GiB, the given `era`. */
  machine?: Machine | MachineConfig;
  /** Era of a machine the scenario creates. Default "modern". */
  era?: Era;
  /** dom0's DMA-API backend for the NIC. */
  backend: BackendName;
  /** Default "map". */
  foreignPages?: ForeignPageStrategy;
  /** Default "straddling". */
  allocation?: SkbAllocation;
  /** Bytes in the packet. Default 1514 (a full Ethernet frame); at most 9018 (a jumbo frame). */
  packetSize?: number;
  /** Default "P2M" ("VP" for backend "hypercall", "P==M" for "direct"). */
  dom0Mode?: DomainMode;
  /** Default "VP". */
  domUMode?: DomainMode;
  /** Default "fragmented". */
  domULayout?: Layout;
  /** Default "128 MiB". */
  dom0Memory?: string | number;
  /** Default "32 MiB". */
  domUMemory?: string | number;
  /** The NIC's DMA mask in bits. Default 32. */
  dmaMask?: number;
  /** IOTLB policy when `backend` is "iommu". Default "strict". */
  invalidation?: Invalidation;
  /** When a linear mapping fails, map each page as its own fragment (netback's frags). Default true. */
  split?: boolean;
  /** Seed of the packet bytes and of a machine the scenario creates. Default 1. */
  seed?: number;
}

/** How the packet reached the NIC. */
export type PacketHandling = "single-page" | "contiguous" | "bounced" | "split" | "failed";

/** What {@link netbackPacket} reports. */
export interface NetbackResult {
  /** The packet went out byte-identical and nothing failed. */
  ok: boolean;
  /** The NIC sent exactly the domU's bytes. */
  bytesIdentical: boolean;
  /** Failures caught on the way (SimError codes, GNTST_* names). */
  errors: ScenarioError[];
  /** The packet crossed a page boundary in the domU. */
  straddles: boolean;
  /** The pages it spans are machine-contiguous (trivially true for one page). */
  machineContiguous: boolean;
  /** How the packet reached the NIC: in one page, as one contiguous range, bounced, split, or not at all. */
  handling: PacketHandling;
  /** DMA segments (TX descriptors) the NIC was given. */
  segments: number;
  /** Bytes the DMA layer copied through a bounce buffer. */
  bounceBytes: number;
  /** Guest-physical address of the packet in the domU. */
  address: number;
  /** Costs and counts of the packet's trip alone. */
  stats: Stats;
  /** The trip's trace events. */
  trace: TraceEvent[];
  /** The machine it ran on. */
  machine: Machine;
  /** The backend domain (netback and the NIC driver). */
  dom0: Domain;
  /** The frontend domain that sent the packet. */
  domU: Domain;
  /** dom0's network card ("eth0"). */
  nic: Device;
}

const OPTION_KEYS = [
  "machine",
  "era",
  "backend",
  "foreignPages",
  "allocation",
  "packetSize",
  "dom0Mode",
  "domUMode",
  "domULayout",
  "dom0Memory",
  "domUMemory",
  "dmaMask",
  "invalidation",
  "split",
  "seed",
] as const;
/** Headroom netfront reserves in front of the data (skb_reserve(skb, 16) in __dev_alloc_skb). */
const SKB_HEADROOM = 16;

/**
 * One packet from a domU through netback to dom0's NIC (transmit). The domU's netfront put the
 * packet in an skb allocated as `allocation` says and grants the page(s) it occupies (read-only);
 * netback maps the grants ("map": host mappings at consecutive ballooned PFNs, so dom0 sees one
 * linear buffer; "tag": tagged struct pages, which only work page by page); the NIC driver maps
 * the packet with dma_map_single and, when that fails, falls back to one fragment per page
 * (dma_map_page each). The result says how the packet got out: in one page, as one contiguous
 * range (IOMMU), through a bounce buffer (xen-swiotlb), split into fragments, or not at all.
 */
export function netbackPacket(options: NetbackOptions): NetbackResult {
  const o = requireObject(options, "netbackPacket options");
  rejectUnknownKeys(o, OPTION_KEYS, "netbackPacket");
  const backend = o.backend as BackendName;
  if (!BACKEND_NAMES.includes(backend)) {
    throw new SimError(
      "UNKNOWN_BACKEND",
      `netbackPacket: backend must be one of ${BACKEND_NAMES.map((b) => JSON.stringify(b)).join(", ")}, got ${describeValue(o.backend)}`,
      "backend",
    );
  }
  const foreignPages = (o.foreignPages ?? "map") as ForeignPageStrategy;
  if (foreignPages !== "map" && foreignPages !== "tag")
    throw new SimError(
      "INVALID_CONFIG",
      `netbackPacket: foreignPages must be "map" or "tag", got ${describeValue(o.foreignPages)}`,
      "foreignPages",
    );
  const allocation = (o.allocation ?? "straddling") as SkbAllocation;
  if (allocation !== "straddling" && allocation !== "xen-skb")
    throw new SimError(
      "INVALID_CONFIG",
      `netbackPacket: allocation must be "straddling" or "xen-skb", got ${describeValue(o.allocation)}`,
      "allocation",
    );
  const packetSize = o.packetSize ?? 1514;
  if (typeof packetSize !== "number" || !Number.isSafeInteger(packetSize) || packetSize < 60 || packetSize > 9018) {
    throw new SimError(
      "INVALID_CONFIG",
      `netbackPacket: packetSize must be a whole number of bytes from 60 to 9018, got ${describeValue(packetSize)}`,
      "packetSize",
    );
  }
  if (o.split !== undefined && typeof o.split !== "boolean")
    throw new SimError("INVALID_CONFIG", `netbackPacket: split must be true or false, got ${describeValue(o.split)}`, "split");
  const seed = o.seed ?? 1;
  if (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 0)
    throw new SimError("INVALID_CONFIG", `netbackPacket: seed must be a whole number >= 0, got ${describeValue(seed)}`, "seed");
  const machine = machineFrom(o.machine as Machine | MachineConfig | undefined, {
    arch: "ia64",
    memory: "1 GiB",
    era: (o.era as Era | undefined) ?? "modern",
    seed,
  });
  const names = () => machine.domains.map((d) => d.name);
  const dom0Mode = (o.dom0Mode as DomainMode | undefined) ?? (backend === "direct" ? "P==M" : backend === "hypercall" ? "VP" : "P2M");
  const dom0 = machine.createDomain({
    name: freshName(names(), "dom0"),
    mode: dom0Mode,
    memory: (o.dom0Memory as string | number | undefined) ?? "128 MiB",
    privileged: true,
    foreignPages,
  });
  const domU = machine.createDomain({
    name: freshName(names(), "domU1"),
    mode: (o.domUMode as DomainMode | undefined) ?? "VP",
    memory: (o.domUMemory as string | number | undefined) ?? "32 MiB",
    privileged: false,
    layout: (o.domULayout as Layout | undefined) ?? "fragmented",
  });
  const nic = attachScenarioDevice(machine, dom0, backend, {
    base: "eth0",
    driver: "netback-nic",
    dmaMask: o.dmaMask as number | undefined,
    invalidation: o.invalidation as Invalidation | undefined,
  });
  // Created before the measured part: a swiotlb pool is set aside with the first DMA-API that needs one.
  const dma = dom0.dmaApi(nic, backend);
  return runPacket({ machine, dom0, domU, nic, dma, allocation, packetSize, split: (o.split as boolean | undefined) ?? true, seed });
}

interface PacketRun {
  machine: Machine;
  dom0: Domain;
  domU: Domain;
  nic: Device;
  dma: DmaApi;
  allocation: SkbAllocation;
  packetSize: number;
  split: boolean;
  seed: number;
}

/** Places the skb data in the domU; returns its guest-physical address. */
function allocateSkb(r: PacketRun): number {
  const { domU, machine: m } = r;
  const pageSize = m.pageSize;
  if (r.allocation === "straddling") {
    // The data's middle sits on a page boundary.
    const offset = pageSize - (Math.ceil(r.packetSize / 2) % pageSize);
    const base = domU.alloc(Math.ceil((offset + r.packetSize) / pageSize) * pageSize);
    return base + offset;
  }
  // xen-skb-<size>: size = align = the power of two holding headroom + data.
  const size = 2 ** Math.ceil(Math.log2(Math.max(512, r.packetSize + SKB_HEADROOM)));
  const object = domU.alloc(size, { align: size });
  if (size > pageSize && !makeMachineContiguous(domU, object / pageSize, size / pageSize, 32)) {
    throw new SimError(
      "OUT_OF_MEMORY",
      `xen-skb-${size}: xen_create_contiguous_region found no machine-contiguous ${formatSize(size)} for the cache object`,
      "allocation",
    );
  }
  return object + SKB_HEADROOM;
}

function runPacket(r: PacketRun): NetbackResult {
  const { machine: m, dom0, domU, nic } = r;
  const pageSize = m.pageSize;
  const errors: ScenarioError[] = [];
  const startSeq = lastSeq(m);
  const startStats = m.stats();
  const packet = patternBytes(r.seed, r.packetSize);
  const dma = r.dma;
  let address = 0;
  let straddles = false;
  let machineContiguous = true;
  let handling: PacketHandling = "failed";
  let segments = 0;
  let bytesIdentical = false;
  const grefs: number[] = [];
  const handles: number[] = [];
  const mappings: { bus: number; length: number; page: boolean }[] = [];
  try {
    address = allocateSkb(r);
    domU.write(address, packet);
    const firstPfn = Math.floor(address / pageSize);
    const lastPfn = Math.floor((address + r.packetSize - 1) / pageSize);
    straddles = lastPfn > firstPfn;
    for (let pfn = firstPfn + 1; pfn <= lastPfn; pfn++) if (domU.pfnToMfn(pfn) !== domU.pfnToMfn(pfn - 1)! + 1) machineContiguous = false;
    m.emit(
      "setup",
      () =>
        `${domU.name} (netfront): ${r.packetSize}-byte packet at ${hex(address)} in a ${r.allocation} skb: ${straddles ? `crosses ${lastPfn - firstPfn} page boundar${lastPfn - firstPfn === 1 ? "y" : "ies"}, ${machineContiguous ? "machine-contiguous" : "NOT machine-contiguous"}` : "within one page"}`,
      { domain: domU.name, address, bytes: r.packetSize, severity: straddles && !machineContiguous ? "warning" : "info" },
    );
    // netfront grants every page the packet touches; netback maps them.
    const pages: { page: StructPage; offset: number; length: number }[] = [];
    for (let pfn = firstPfn; pfn <= lastPfn; pfn++) {
      const gref = domU.grantAccess(pfn, dom0, { readonly: true });
      grefs.push(gref);
      const mapped = dom0.mapGrant(
        domU,
        gref,
        dom0.foreignPages === "map"
          ? { host: true, device: false, readonly: true }
          : { host: false, device: nic.iommu ? nic : true, readonly: true },
      );
      handles.push(mapped.handle);
      const start = Math.max(address, pfn * pageSize);
      const end = Math.min(address + r.packetSize, (pfn + 1) * pageSize);
      pages.push({ page: mapped.page!, offset: start - pfn * pageSize, length: end - start });
    }
    const bounceBefore = m.stats().events["bounce-copy"] ?? 0;
    // One linear buffer in dom0 only if netback's pages sit at consecutive PFNs (host mappings).
    const linear = dom0.foreignPages === "map" && pages.every((p, i) => i === 0 || p.page.pfn === pages[i - 1]!.page.pfn + 1);
    let bus = -1;
    if (linear) {
      bus = dma.mapSingle(pages[0]!.page.pfn * pageSize + pages[0]!.offset, r.packetSize, "TO_DEVICE");
      if (!dma.mappingError(bus)) mappings.push({ bus, length: r.packetSize, page: false });
    }
    if (mappings.length === 0 && (straddles ? r.split : !linear)) {
      // netback's skb carries the foreign pages as fragments: dma_map_page for each.
      for (const p of pages) {
        const b = dma.mapPage(p.page, p.offset, p.length, "TO_DEVICE");
        if (dma.mappingError(b))
          throw new SimError(
            "RESOURCE_LIMIT",
            `dma_map_page of a ${p.length}-byte fragment failed (see the mapping-error event): the packet is dropped`,
            "backend",
          );
        mappings.push({ bus: b, length: p.length, page: true });
      }
    }
    if (mappings.length === 0)
      throw new SimError(
        "RESOURCE_LIMIT",
        `dma_map_single of the ${r.packetSize}-byte packet failed and splitting is off: the packet is dropped`,
        "backend",
      );
    segments = mappings.length;
    const bounced = (m.stats().events["bounce-copy"] ?? 0) > bounceBefore;
    handling = !straddles ? "single-page" : segments > 1 ? "split" : bounced ? "bounced" : "contiguous";
    // The NIC fetches the packet, descriptor by descriptor.
    const parts = mappings.map((x) => nic.read(x.bus, x.length));
    const sent = new Uint8Array(r.packetSize);
    let at = 0;
    for (const p of parts) {
      sent.set(p.subarray(0, Math.min(p.length, r.packetSize - at)), at);
      at += p.length;
    }
    bytesIdentical = at === r.packetSize && sameBytes(sent, packet);
    if (!bytesIdentical) errors.push({ code: "DATA_MISMATCH", message: "the bytes the NIC sent differ from the domU's packet" });
  } catch (error) {
    recordError(errors, error);
  }
  for (const x of mappings)
    attempt(m, errors, () => (x.page ? dma.unmapPage(x.bus, x.length, "TO_DEVICE") : dma.unmapSingle(x.bus, x.length, "TO_DEVICE")));
  for (const h of handles) attempt(m, errors, () => dom0.unmapGrant(h));
  for (const g of grefs) attempt(m, errors, () => void domU.endAccess(g));
  const stats = statsDelta(startStats, m.stats());
  const bounceBytes = traceSince(m.trace, startSeq)
    .filter((e) => e.kind === "bounce-copy")
    .reduce((n, e) => n + (e.bytes ?? 0), 0);
  return {
    ok: bytesIdentical && errors.length === 0,
    bytesIdentical,
    errors,
    straddles,
    machineContiguous,
    handling: errors.length > 0 && !bytesIdentical ? "failed" : handling,
    segments,
    bounceBytes,
    address,
    stats,
    trace: traceSince(m.trace, startSeq),
    machine: m,
    dom0,
    domU,
    nic,
  };
}
