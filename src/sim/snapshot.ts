import { CHUNK_FRAMES, FREE, XEN, domidOf } from "./frames.js";
import { Machine } from "./machine.js";
import type { Arch, Era } from "./machine.js";
import type { Domain } from "./domain.js";
import type { Direction } from "./dma/types.js";
import type { SwiotlbPool } from "./swiotlb-pool.js";
import { foreignPagesSnapshot, grantsSnapshot } from "./grant-table.js";
import type { ForeignPageSnapshot, GrantSnapshot } from "./grant.js";
import { DMA_APIS } from "./dma/api.js";

/** A run of consecutive machine frames with one owner (and consecutive PFNs, when `pfn` is set). */
export interface FrameRun {
  /** First machine frame number (MFN) of the run. */
  start: number;
  /** Frames in the run. */
  count: number;
  /** "free", "Xen" or a domain name. */
  owner: string;
  /** PFN of the first frame in its owner's space; the run's PFNs ascend with its MFNs. */
  pfn?: number;
}

/** PFNs [pfn, pfn+count) backed by MFNs [mfn, mfn+count). */
export interface P2mRun {
  /** First pseudo-physical frame number. */
  pfn: number;
  /** The machine frame behind `pfn`. */
  mfn: number;
  /** Frames in the run. */
  count: number;
}

/** One domain in a snapshot: its identity and its p2m, as runs. */
export interface DomainSnapshot {
  /** The domain's name. */
  name: string;
  /** Xen's domain id (dom0 is 0). */
  domid: number;
  /** "P==M", "P2M" or "VP". */
  mode: string;
  /** Whether it is a driver domain. */
  privileged: boolean;
  /** First PFN of RAM (0, or the first MFN for P==M). */
  pfnBase: number;
  /** Pages of RAM. */
  nrPages: number;
  /** RAM, as runs. */
  p2m: P2mRun[];
  /** PFNs outside RAM: the swiotlb pool and grant-mapped foreign frames. */
  extra: P2mRun[];
  /** struct pages with flags or private data. */
  pages: { pfn: number; flags: string[]; private: number | null }[];
}

/** One live DMA mapping in a snapshot (what dma-debug tracks): a single, one DMA segment of a scatterlist, or coherent memory. */
export interface MappingSnapshot {
  /** The device the mapping is for. */
  device: string;
  /** The driver domain that made it. */
  domain: string;
  /** The DMA-API backend that made it. */
  backend: string;
  /** dma-debug's type: "single" (map_single and map_page), "scather-gather" [sic, as Linux spells it] or "coherent". */
  type: string;
  /** The bus address handed to the device. */
  busAddress: number;
  /** Bytes mapped. */
  size: number;
  /** The mapping's direction. */
  dir: Direction;
  /** Guest-physical address of the CPU side. */
  address: number;
}

/** One IOMMU protection domain in a snapshot: its page table, IOTLB entries and IOVA space. */
export interface IommuSnapshot {
  /** The group name: devices of one group share this protection domain. */
  group: string;
  /** "strict" or "lazy" IOTLB invalidation. */
  invalidation: string;
  /** Names of the devices translated through it. */
  devices: string[];
  /** Present PTEs: IOVA page → machine frame with permissions. */
  entries: { iovaPage: number; mfn: number; read: boolean; write: boolean }[];
  /** Unmaps waiting for the lazy flush. */
  queued: number;
  /** IOTLB entries of this protection domain (possibly stale). */
  iotlb: { iovaPage: number; mfn: number; stale: boolean }[];
  /** Allocated IOVA ranges (pages): live mappings, ranges waiting for the lazy flush, the reserved interrupt window. */
  iova: { iovaPage: number; pages: number; use: "mapped" | "flush-queued" | "reserved" }[];
  /** IOVA pages still free in this protection domain. */
  iovaFreePages: number;
}

/** One swiotlb bounce pool: where it is, and which slots bounce for which buffers. */
export interface SwiotlbSnapshot {
  /** The driver domain that owns it. */
  domain: string;
  /** "swiotlb" or "xen-swiotlb" (whose 256 KiB segments are machine-contiguous). */
  kind: string;
  /** Slots of 2 KiB (io_tlb_nslabs). */
  totalSlots: number;
  /** Slots currently holding bounce buffers. */
  usedSlots: number;
  /** Guest-physical address of slot 0 (the pool is pfn-contiguous, above the domain's RAM). */
  address: number;
  /** Pool size in bytes (totalSlots × 2 KiB). */
  bytes: number;
  /** Bus address of each 128-slot (256 KiB) segment. */
  segmentBus: number[];
  /** Bounce buffers in use: first slot, slot count, their addresses, the original buffer (null for coherent memory). */
  used: { slot: number; count: number; address: number; busAddress: number; original: number | null }[];
  /** The pool's PFN → MFN runs. */
  frames: P2mRun[];
  /** Era 2006: the 32 KiB io_tlb_overflow_buffer handed out when the pool is full. */
  overflowBuffer: { address: number; busAddress: number; bytes: number } | null;
}

/** Everything a picture needs, as plain structured-cloneable data (see `machine.snapshot()`). */
export interface MachineSnapshot {
  /** The machine's architecture. */
  arch: Arch;
  /** The simulated Linux era. */
  era: Era;
  /** Bytes per page and frame. */
  pageSize: number;
  /** Machine memory in bytes. */
  memory: number;
  /** Machine frames (memory / pageSize). */
  frameCount: number;
  /** Simulated time, microseconds. */
  time: number;
  /** The panic message that halted the machine, or null while it runs. */
  halted: string | null;
  /** Every machine frame, as runs of one owner ("free", "Xen" or a domain name); empty chunks collapse into one run. */
  frames: FrameRun[];
  /** Every domain with its p2m. */
  domains: DomainSnapshot[];
  /** Every device: its driver domain, DMA mask (bits) and IOMMU group (null without an IOMMU). */
  devices: { name: string; domain: string; dmaMask: number; iommuGroup: string | null }[];
  /** Live DMA mappings of every DMA-API instance. */
  mappings: MappingSnapshot[];
  /** IOMMU protection domains (empty when no device sits behind the IOMMU). */
  iommu: IommuSnapshot[];
  /** swiotlb bounce pools (one per driver domain and kind, once a swiotlb or xen-swiotlb DMA-API exists). */
  swiotlb: SwiotlbSnapshot[];
  /** Grant entries in use, per granting domain (flags include Xen's GTF_reading/GTF_writing while mapped). */
  grants: GrantSnapshot[];
  /** Live grant mappings (maptrack entries) with their foreign struct pages, per mapping domain. */
  foreignPages: ForeignPageSnapshot[];
}

/** Builds the snapshot. Empty 64 Ki-frame chunks collapse into one free run, so huge machines stay cheap. */
export function takeSnapshot(m: Machine): MachineSnapshot {
  return {
    arch: m.arch,
    era: m.era,
    pageSize: m.pageSize,
    memory: m.memory,
    frameCount: m.frameCount,
    time: m.traceLog.now,
    halted: m.halted ?? null,
    frames: frameRuns(m),
    domains: m.domains.map(domainSnapshot),
    devices: m.devices.map((d) => ({ name: d.name, domain: d.domain.name, dmaMask: d.dmaMask, iommuGroup: d.iommu?.group ?? null })),
    mappings: (m.state.peek(DMA_APIS) ?? []).flatMap((api) =>
      api.liveMappings().map((l) => ({ ...l, device: api.device.name, domain: api.domain.name, backend: api.backend })),
    ),
    iommu: iommuSnapshot(m),
    swiotlb: m.swiotlbPools.map(swiotlbSnapshot),
    grants: grantsSnapshot(m),
    foreignPages: foreignPagesSnapshot(m),
  };
}

function ownerLabel(m: Machine, owner: number): string {
  if (owner === FREE) return "free";
  if (owner === XEN) return "Xen";
  return m.domains[domidOf(owner)]?.name ?? `domain ${domidOf(owner)}`;
}

function frameRuns(m: Machine): FrameRun[] {
  const runs: FrameRun[] = [];
  const push = (mfn: number, count: number, owner: string, pfn: number | undefined) => {
    const last = runs[runs.length - 1];
    const continues =
      last &&
      last.owner === owner &&
      last.start + last.count === mfn &&
      (pfn === undefined ? last.pfn === undefined : last.pfn !== undefined && last.pfn + last.count === pfn);
    if (continues) last.count += count;
    else runs.push(pfn === undefined ? { start: mfn, count, owner } : { start: mfn, count, owner, pfn });
  };
  let mfn = 0;
  while (mfn < m.frameCount) {
    if (m.store.chunkFree(mfn)) {
      const next = Math.min(m.frameCount, (Math.floor(mfn / CHUNK_FRAMES) + 1) * CHUNK_FRAMES);
      push(mfn, next - mfn, "free", undefined);
      mfn = next;
      continue;
    }
    push(mfn, 1, ownerLabel(m, m.store.owner(mfn)), m.store.pfnOf(mfn));
    mfn++;
  }
  return runs;
}

function toRuns(pairs: Iterable<[number, number]>): P2mRun[] {
  const runs: P2mRun[] = [];
  for (const [pfn, mfn] of pairs) {
    const last = runs[runs.length - 1];
    if (last && last.pfn + last.count === pfn && last.mfn + last.count === mfn) last.count++;
    else runs.push({ pfn, mfn, count: 1 });
  }
  return runs;
}

function* ramPairs(d: Domain): Iterable<[number, number]> {
  for (let i = 0; i < d.nrPages; i++) yield [d.pfnBase + i, d.p2m[i]!];
}

function domainSnapshot(d: Domain): DomainSnapshot {
  return {
    name: d.name,
    domid: d.domid,
    mode: d.mode,
    privileged: d.privileged,
    pfnBase: d.pfnBase,
    nrPages: d.nrPages,
    p2m: toRuns(ramPairs(d)),
    extra: toRuns([...d.extraP2m.entries()].sort((a, b) => a[0] - b[0])),
    pages: [...d.pageState.entries()]
      .filter(([, s]) => s.flags.size > 0 || s.private !== null)
      .map(([pfn, s]) => ({ pfn, flags: [...s.flags], private: s.private })),
  };
}

function iommuSnapshot(m: Machine): IommuSnapshot[] {
  const iotlb = m.iommu.iotlbEntries();
  return m.iommu.domains.map((d) => ({
    group: d.group,
    invalidation: d.invalidation,
    devices: d.devices.map((dev) => dev.name),
    entries: [...d.pageTable.entries()].map(([iovaPage, pte]) => ({ iovaPage, mfn: pte.mfn, read: pte.read, write: pte.write })),
    queued: d.queue.length,
    iotlb: iotlb.filter((e) => e.domain === d.id).map((e) => ({ iovaPage: e.iovaPage, mfn: e.mfn, stale: !d.pageTable.has(e.iovaPage) })),
    iova: [...d.ranges.entries()].sort((a, b) => a[0] - b[0]).map(([iovaPage, r]) => ({ iovaPage, pages: r.pages, use: r.use })),
    iovaFreePages: d.freeIovaPages(),
  }));
}

function swiotlbSnapshot(p: SwiotlbPool<Domain>): SwiotlbSnapshot {
  const pageSize = p.domain.machine.pageSize;
  // Math.floor keeps the PFNs small integers: a division result stored in a run would make V8
  // widen the field for every run of the snapshot (all p2m runs share one shape), and the first
  // reader of a large snapshot would pay for migrating them all.
  const firstPfn = Math.floor(p.address / pageSize);
  const pages = p.bytes / pageSize;
  return {
    domain: p.domain.name,
    kind: p.kind,
    totalSlots: p.nslabs,
    usedSlots: p.usedSlots,
    address: p.address,
    bytes: p.bytes,
    segmentBus: [...p.segmentBus],
    used: p.usedRuns(),
    frames: toRuns(Array.from({ length: pages }, (_, i): [number, number] => [firstPfn + i, p.domain.pfnToMfn(firstPfn + i)!])),
    overflowBuffer: p.overflow ? { ...p.overflow } : null,
  };
}

declare module "./machine.js" {
  interface Machine {
    /** Everything a picture needs, as plain data. */
    snapshot(): MachineSnapshot;
  }
}

Machine.prototype.snapshot = function (this: Machine): MachineSnapshot {
  return takeSnapshot(this);
};
