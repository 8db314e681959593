import { CHUNK_FRAMES, FREE, XEN, domidOf } from "./frames.js";
import type { Machine } from "./machine.js";
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

/**
 * @internal Keeps the costly parts of a snapshot (frame runs, p2m runs, a pool's frames: O(memory))
 * and hands them out again while the state under them is unchanged, as told by version counters
 * that the frame store, each domain's p2m and its extra p2m bump on every change. History
 * (history.ts) takes one snapshot per event through a cache, so a 1 GiB fragmented domain's
 * 262,144 p2m runs are built once, not once per event. Parts handed out are shared: read only.
 */
export class SnapshotCache {
  /** Frame store version and domain count: owners are labelled by domain name, and a domain's frames are assigned before it joins machine.domains. */
  private framesVersion = "";
  private frameRunsMemo: FrameRun[] = [];
  private readonly p2mMemo = new WeakMap<Domain, { version: number; runs: P2mRun[] }>();
  private readonly extraMemo = new WeakMap<Domain, { version: number; runs: P2mRun[] }>();
  private readonly poolMemo = new WeakMap<SwiotlbPool<Domain>, { version: string; runs: P2mRun[] }>();

  frames(m: Machine): FrameRun[] {
    const version = `${m.store.layoutVersion}/${m.domains.length}`;
    if (this.framesVersion !== version) {
      this.frameRunsMemo = frameRuns(m);
      this.framesVersion = version;
    }
    return this.frameRunsMemo;
  }

  p2m(d: Domain): P2mRun[] {
    return memo(this.p2mMemo, d, d.p2mVersion, () => ramRuns(d));
  }

  extra(d: Domain): P2mRun[] {
    return memo(this.extraMemo, d, d.extraP2m.version, () => extraRuns(d));
  }

  poolFrames(p: SwiotlbPool<Domain>): P2mRun[] {
    const key = `${p.domain.p2mVersion}/${p.domain.extraP2m.version}`;
    return memo(this.poolMemo, p, key, () => poolRuns(p));
  }
}

function memo<K extends object, V, T>(map: WeakMap<K, { version: V; runs: T }>, owner: K, version: V, build: () => T): T {
  const hit = map.get(owner);
  if (hit && hit.version === version) return hit.runs;
  const runs = build();
  map.set(owner, { version, runs });
  return runs;
}

/** Builds the snapshot. Empty 64 Ki-frame chunks collapse into one free run, so huge machines stay cheap. */
export function takeSnapshot(m: Machine, cache?: SnapshotCache): MachineSnapshot {
  return {
    arch: m.arch,
    era: m.era,
    pageSize: m.pageSize,
    memory: m.memory,
    frameCount: m.frameCount,
    time: m.traceLog.now,
    halted: m.halted ?? null,
    frames: cache ? cache.frames(m) : frameRuns(m),
    domains: m.domains.map((d) => domainSnapshot(d, cache)),
    devices: m.devices.map((d) => ({ name: d.name, domain: d.domain.name, dmaMask: d.dmaMask, iommuGroup: d.iommu?.group ?? null })),
    mappings: (m.state.peek(DMA_APIS) ?? []).flatMap((api) =>
      api.liveMappings().map((l) => ({ ...l, device: api.device.name, domain: api.domain.name, backend: api.backend })),
    ),
    iommu: iommuSnapshot(m),
    swiotlb: m.swiotlbPools.map((p) => swiotlbSnapshot(p, cache)),
    grants: grantsSnapshot(m),
    foreignPages: foreignPagesSnapshot(m),
  };
}

function ownerLabel(m: Machine, owner: number): string {
  if (owner === FREE) return "free";
  if (owner === XEN) return "Xen";
  return m.domains[domidOf(owner)]?.name ?? `domain ${domidOf(owner)}`;
}

/**
 * The machine's frames as runs of one owner whose PFNs ascend with their MFNs. A hot loop (every
 * snapshot of a 2 GiB machine visits 131,072 frames): it reads the store's chunks directly.
 */
function frameRuns(m: Machine): FrameRun[] {
  const runs: FrameRun[] = [];
  const labels = new Map<number, string>();
  let last: FrameRun | undefined;
  /** The M2P entry (pfn + 1, 0 for none) of the last run's first frame. */
  let lastM2p = 0;
  let lastCode = -1;
  for (let chunkStart = 0; chunkStart < m.frameCount; chunkStart += CHUNK_FRAMES) {
    const end = Math.min(m.frameCount, chunkStart + CHUNK_FRAMES);
    const tables = m.store.chunkTables(chunkStart);
    if (!tables) {
      if (lastCode === FREE && last!.start + last!.count === chunkStart) last!.count += end - chunkStart;
      else {
        last = { start: chunkStart, count: end - chunkStart, owner: "free" };
        runs.push(last);
        lastCode = FREE;
        lastM2p = 0;
      }
      continue;
    }
    const { owners, m2p } = tables;
    for (let i = 0; i < end - chunkStart; i++) {
      const code = owners[i]!;
      const entry = m2p[i]!;
      const mfn = chunkStart + i;
      // Continues the last run: same owner, next MFN, and the next PFN (or no PFN, as before).
      if (code === lastCode && (entry === 0 ? lastM2p === 0 : lastM2p !== 0 && lastM2p + last!.count === entry)) {
        last!.count++;
        continue;
      }
      let owner = labels.get(code);
      if (owner === undefined) labels.set(code, (owner = ownerLabel(m, code)));
      last = entry === 0 ? { start: mfn, count: 1, owner } : { start: mfn, count: 1, owner, pfn: entry - 1 };
      runs.push(last);
      lastCode = code;
      lastM2p = entry;
    }
  }
  return runs;
}

/** Runs of consecutive PFNs backed by consecutive MFNs, from `count` pairs in PFN order. */
function toRuns(count: number, pfnAt: (i: number) => number, mfnAt: (i: number) => number): P2mRun[] {
  const runs: P2mRun[] = [];
  let last: P2mRun | undefined;
  for (let i = 0; i < count; i++) {
    const pfn = pfnAt(i);
    const mfn = mfnAt(i);
    if (last && last.pfn + last.count === pfn && last.mfn + last.count === mfn) last.count++;
    else runs.push((last = { pfn, mfn, count: 1 }));
  }
  return runs;
}

function ramRuns(d: Domain): P2mRun[] {
  const { p2m, pfnBase } = d;
  return toRuns(
    d.nrPages,
    (i) => pfnBase + i,
    (i) => p2m[i]!,
  );
}

function extraRuns(d: Domain): P2mRun[] {
  const pairs = [...d.extraP2m.entries()].sort((a, b) => a[0] - b[0]);
  return toRuns(
    pairs.length,
    (i) => pairs[i]![0],
    (i) => pairs[i]![1],
  );
}

function domainSnapshot(d: Domain, cache?: SnapshotCache): DomainSnapshot {
  return {
    name: d.name,
    domid: d.domid,
    mode: d.mode,
    privileged: d.privileged,
    pfnBase: d.pfnBase,
    nrPages: d.nrPages,
    p2m: cache ? cache.p2m(d) : ramRuns(d),
    extra: cache ? cache.extra(d) : extraRuns(d),
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

function poolRuns(p: SwiotlbPool<Domain>): P2mRun[] {
  const pageSize = p.domain.machine.pageSize;
  // Math.floor keeps the PFNs small integers: a division result stored in a run would make V8
  // widen the field for every run of the snapshot (all p2m runs share one shape), and the first
  // reader of a large snapshot would pay for migrating them all.
  const firstPfn = Math.floor(p.address / pageSize);
  const pages = p.bytes / pageSize;
  return toRuns(
    pages,
    (i) => firstPfn + i,
    (i) => p.domain.pfnToMfn(firstPfn + i)!,
  );
}

function swiotlbSnapshot(p: SwiotlbPool<Domain>, cache?: SnapshotCache): SwiotlbSnapshot {
  return {
    domain: p.domain.name,
    kind: p.kind,
    totalSlots: p.nslabs,
    usedSlots: p.usedSlots,
    address: p.address,
    bytes: p.bytes,
    segmentBus: [...p.segmentBus],
    // An idle pool (most moments of a history) needs no walk over its slots.
    used: p.usedSlots === 0 ? [] : p.usedRuns(),
    frames: cache ? cache.poolFrames(p) : poolRuns(p),
    overflowBuffer: p.overflow ? { ...p.overflow } : null,
  };
}
