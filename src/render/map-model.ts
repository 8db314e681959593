/**
 * What the memory map shows, before any geometry: the bands (each domain's pseudo-physical
 * space, machine memory, each IOMMU protection domain's IOVA space) as segments, the links
 * between them (p2m, foreign mappings, tagged pages, IOMMU PTEs) and lookups across spaces.
 * Everything comes from the snapshot; nothing here walks a frame at a time except the snapshot's
 * own runs, so a 64 GiB machine costs what its runs cost.
 */
import type { DomainSnapshot, IommuSnapshot, MachineSnapshot } from "../sim/index.js";
import type { Segment } from "./elide.js";
import { formatSize } from "../sim/index.js";

/** A run of `count` consecutive indices of one band mapped to consecutive indices of another. */
export interface LinkRun {
  from: number;
  to: number;
  count: number;
  /** "ram", "pool", "foreign" (grant-mapped), "tagged" (struct page only), "iommu", "iommu-ro", "stale". */
  kind: string;
}

/**
 * A band's links to machine frames: the snapshot's own p2m runs as they are (not copied: a
 * fragmented 2 GiB domain has one per page) plus the other runs (pool, foreign, tagged, PTEs).
 */
export interface LinkSet {
  /** Sorted by PFN. */
  main: readonly { pfn: number; mfn: number; count: number }[];
  /** Kind of every main run. */
  mainKind: string;
  /** Sorted by `from`, disjoint from `main`. */
  other: LinkRun[];
}

/** One band of the picture before elision. */
export interface BandSpec {
  /** "domain:<name>", "machine" or "iova:<group>". */
  id: string;
  /** Short name drawn above the band. */
  label: string;
  /** Longer description for the tooltip. */
  description: string;
  /** What an index is: pseudo-physical frame, machine frame or IOVA page. */
  unit: "pfn" | "mfn" | "iova";
  segments: Segment[];
  /** Links from this band's indices to machine frames. */
  links: LinkSet;
}

/** A domain's band plus its snapshot. */
export interface DomainBand extends BandSpec {
  domain: DomainSnapshot;
  colour: number;
}

/** An IOMMU protection domain's band plus its snapshot. */
export interface IovaBand extends BandSpec {
  iommu: IommuSnapshot;
}

/** The model of one picture. */
export interface MapModel {
  snapshot: MachineSnapshot;
  domains: DomainBand[];
  machine: BandSpec;
  iommu: IovaBand[];
  /** Domain name → colour index. */
  colourOf: Map<string, number>;
}

/** Owner and PFN of a machine frame (binary search over the snapshot's frame runs). */
export function frameOwner(s: MachineSnapshot, mfn: number): { owner: string; pfn: number | undefined } | undefined {
  const runs = s.frames;
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid]!;
    if (mfn < r.start) hi = mid - 1;
    else if (mfn >= r.start + r.count) lo = mid + 1;
    else return { owner: r.owner, pfn: r.pfn === undefined ? undefined : r.pfn + (mfn - r.start) };
  }
  return undefined;
}

function search<T>(runs: readonly T[], index: number, start: (r: T) => number, count: (r: T) => number): T | undefined {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid]!;
    if (index < start(r)) hi = mid - 1;
    else if (index >= start(r) + count(r)) lo = mid + 1;
    else return r;
  }
  return undefined;
}

/** The link run holding `index`, or undefined. */
export function linkAt(links: LinkSet, index: number): LinkRun | undefined {
  const m = search(
    links.main,
    index,
    (r) => r.pfn,
    (r) => r.count,
  );
  if (m) return { from: m.pfn, to: m.mfn, count: m.count, kind: links.mainKind };
  return search(
    links.other,
    index,
    (r) => r.from,
    (r) => r.count,
  );
}

/** The linked index of `index` (e.g. the MFN of a PFN), or undefined. */
export function follow(links: LinkSet, index: number): number | undefined {
  const r = linkAt(links, index);
  return r && r.to + (index - r.from);
}

/** Calls `visit` for every run of the set. */
export function forEachLink(links: LinkSet, visit: (from: number, to: number, count: number, kind: string) => void): void {
  const { main, other, mainKind } = links;
  for (let i = 0; i < main.length; i++) visit(main[i]!.pfn, main[i]!.mfn, main[i]!.count, mainKind);
  for (let i = 0; i < other.length; i++) visit(other[i]!.from, other[i]!.to, other[i]!.count, other[i]!.kind);
}

/** The MFN behind a PFN of `d` (RAM or extra), or undefined. */
export function pfnToMfn(d: DomainSnapshot, pfn: number): number | undefined {
  const r =
    search(
      d.p2m,
      pfn,
      (x) => x.pfn,
      (x) => x.count,
    ) ??
    search(
      d.extra,
      pfn,
      (x) => x.pfn,
      (x) => x.count,
    );
  return r && r.mfn + (pfn - r.pfn);
}

/** Merges adjacent segments of the same kind and owner, and fills gaps with `holeKind` segments. */
export function normalise(segments: Segment[], holeKind: string): Segment[] {
  segments.sort((a, b) => a.start - b.start);
  const out: Segment[] = [];
  for (const s of segments) {
    const last = out[out.length - 1];
    const lastEnd = last ? last.start + last.count : s.start;
    if (last && s.start < lastEnd) {
      // Overlap (a page listed twice): keep the first claim, clip the rest.
      const clipped = s.start + s.count - lastEnd;
      if (clipped > 0) out.push({ ...s, start: lastEnd, count: clipped });
      continue;
    }
    if (last && s.start > lastEnd) out.push({ start: lastEnd, count: s.start - lastEnd, kind: holeKind });
    const prev = out[out.length - 1];
    if (prev && prev.kind === s.kind && prev.owner === s.owner && prev.start + prev.count === s.start) prev.count += s.count;
    else out.push({ ...s });
  }
  return out;
}

/** Interval lists with owners, sorted: the swiotlb pools' machine frames or one domain's pool PFNs. */
interface Interval {
  start: number;
  end: number;
  owner: string;
}

function poolIntervals(s: MachineSnapshot, side: "mfn" | "pfn", domain?: string): Interval[] {
  const out: Interval[] = [];
  for (const pool of s.swiotlb) {
    if (domain !== undefined && pool.domain !== domain) continue;
    for (const r of pool.frames) out.push({ start: r[side], end: r[side] + r.count, owner: pool.domain });
    const o = pool.overflowBuffer;
    if (o) {
      const first = Math.floor(o.address / s.pageSize);
      const pages = Math.max(1, Math.ceil(o.bytes / s.pageSize));
      const d = s.domains.find((x) => x.name === pool.domain);
      for (let pfn = first; pfn < first + pages; pfn++) {
        const index = side === "pfn" ? pfn : d && pfnToMfn(d, pfn);
        if (index !== undefined) out.push({ start: index, end: index + 1, owner: pool.domain });
      }
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Splits [start, end) at interval edges: pieces inside an interval carry its owner. */
function splitByIntervals(
  start: number,
  end: number,
  intervals: readonly Interval[],
  from: number,
): { pieces: { start: number; end: number; inside: Interval | undefined }[]; next: number } {
  const pieces: { start: number; end: number; inside: Interval | undefined }[] = [];
  let i = from;
  while (i < intervals.length && intervals[i]!.end <= start) i++;
  let pos = start;
  let j = i;
  while (pos < end) {
    const iv = intervals[j];
    if (!iv || iv.start >= end) {
      pieces.push({ start: pos, end, inside: undefined });
      break;
    }
    if (iv.start > pos) {
      pieces.push({ start: pos, end: iv.start, inside: undefined });
      pos = iv.start;
    }
    const stop = Math.min(end, iv.end);
    if (stop > pos) pieces.push({ start: pos, end: stop, inside: iv });
    pos = stop;
    if (iv.end <= end) j++;
  }
  return { pieces, next: i };
}

function machineBand(s: MachineSnapshot): BandSpec {
  const pools = poolIntervals(s, "mfn");
  const segments: Segment[] = [];
  let cursor = 0;
  // Indexed loops, not for-of, over arrays with a run per page: before the JIT optimises the
  // loop, for-of allocates an iterator result per element (megabytes for a 2 GiB domain).
  for (let i = 0; i < s.frames.length; i++) {
    const run = s.frames[i]!;
    // A fragmented domain gives one frame run per page: merge as we go, allocating nothing per run.
    const last = segments[segments.length - 1];
    const plain = run.owner === "free" ? "free" : run.owner === "Xen" ? "xen" : "ram";
    while (cursor < pools.length && pools[cursor]!.end <= run.start) cursor++;
    const clear = cursor >= pools.length || pools[cursor]!.start >= run.start + run.count;
    if (clear && last && last.kind === plain && (plain !== "ram" || last.owner === run.owner) && last.start + last.count === run.start) {
      last.count += run.count;
      continue;
    }
    const { pieces } = splitByIntervals(run.start, run.start + run.count, pools, cursor);
    for (const p of pieces) {
      const kind = plain === "ram" && p.inside ? "pool" : plain;
      const seg: Segment = { start: p.start, count: p.end - p.start, kind };
      if (kind === "ram" || kind === "pool") seg.owner = run.owner;
      const prev = segments[segments.length - 1];
      if (prev && prev.kind === seg.kind && prev.owner === seg.owner && prev.start + prev.count === seg.start) prev.count += seg.count;
      else segments.push(seg);
    }
  }
  return {
    id: "machine",
    label: "machine frames",
    description: `Machine memory: ${s.frameCount} frames (MFNs) of ${formatSize(s.pageSize)}, coloured by owner`,
    unit: "mfn",
    segments: normalise(segments, "free"),
    links: { main: [], mainKind: "", other: [] },
  };
}

function domainBand(s: MachineSnapshot, d: DomainSnapshot, colour: number): DomainBand {
  const pools = poolIntervals(s, "pfn", d.name);
  const segments: Segment[] = [{ start: d.pfnBase, count: d.nrPages, kind: "ram", owner: d.name }];
  const links: LinkRun[] = [];
  let cursor = 0;
  for (const r of d.extra) {
    const { pieces, next } = splitByIntervals(r.pfn, r.pfn + r.count, pools, cursor);
    cursor = next;
    for (const p of pieces) {
      const mfn = r.mfn + (p.start - r.pfn);
      if (p.inside) {
        segments.push({ start: p.start, count: p.end - p.start, kind: "pool", owner: d.name });
        links.push({ from: p.start, to: mfn, count: p.end - p.start, kind: "pool" });
        continue;
      }
      // A grant-mapped foreign frame: drawn in the colour of the domain that owns the frame.
      for (let pfn = p.start; pfn < p.end; pfn++) {
        const owner = frameOwner(s, mfn + (pfn - p.start))?.owner;
        segments.push({ start: pfn, count: 1, kind: "foreign", owner: owner === "free" || owner === "Xen" ? undefined : owner });
        links.push({ from: pfn, to: mfn + (pfn - p.start), count: 1, kind: "foreign" });
      }
    }
  }
  for (const f of s.foreignPages) {
    if (f.domain !== d.name || f.strategy !== "tag" || f.pfn === null) continue;
    segments.push({ start: f.pfn, count: 1, kind: "tagged", owner: f.granter });
    links.push({ from: f.pfn, to: f.mfn, count: 1, kind: "tagged" });
  }
  links.sort((a, b) => a.from - b.from);
  return {
    id: `domain:${d.name}`,
    label: `${d.name} · ${d.mode}`,
    description: `${d.name} (domid ${d.domid}, ${d.mode}${d.privileged ? ", driver domain" : ""}): ${d.nrPages} pseudo-physical frames (${formatSize(d.nrPages * s.pageSize)}) from PFN ${d.pfnBase}`,
    unit: "pfn",
    segments: normalise(segments, "hole"),
    links: { main: d.p2m, mainKind: "ram", other: links },
    domain: d,
    colour,
  };
}

function iovaBand(io: IommuSnapshot, extraPages: ReadonlySet<number>): IovaBand {
  const segments: Segment[] = io.iova.map((r) => ({
    start: r.iovaPage,
    count: r.pages,
    kind: r.use === "mapped" ? "iova-mapped" : r.use === "flush-queued" ? "iova-queued" : "iova-reserved",
  }));
  segments.sort((a, b) => a.start - b.start);
  // Allocated ranges never overlap: binary search keeps thousands of mappings cheap.
  const covered = (page: number) =>
    search(
      segments,
      page,
      (r) => r.start,
      (r) => r.count,
    ) !== undefined;
  const loose = new Set<number>();
  for (const e of io.entries) if (!covered(e.iovaPage)) loose.add(e.iovaPage);
  const pieces: Segment[] = [...loose].map((p) => ({ start: p, count: 1, kind: "iova-mapped" }));
  for (const p of extraPages) if (!covered(p) && !loose.has(p)) pieces.push({ start: p, count: 1, kind: "iova-unmapped" });
  for (const e of io.iotlb)
    if (e.stale && !covered(e.iovaPage) && !loose.has(e.iovaPage) && !extraPages.has(e.iovaPage))
      pieces.push({ start: e.iovaPage, count: 1, kind: "iova-unmapped" });
  const links: LinkRun[] = io.entries.map((e) => ({ from: e.iovaPage, to: e.mfn, count: 1, kind: e.write ? "iommu" : "iommu-ro" }));
  links.sort((a, b) => a.from - b.from);
  const devices = io.devices.join(", ");
  return {
    id: `iova:${io.group}`,
    label: `IOVA · ${devices}`,
    description: `IOMMU protection domain ${io.group} (${io.invalidation} invalidation) of ${devices}: ${io.entries.length} present PTEs, ${io.queued} unmaps queued, ${io.iovaFreePages} IOVA pages free`,
    unit: "iova",
    segments: normalise([...segments, ...pieces], "iova-free"),
    links: { main: [], mainKind: "", other: links },
    iommu: io,
  };
}

/**
 * Builds the model. `extraIova` adds IOVA pages that only the trace mentions (faults, DMA through
 * since-unmapped IOVAs), so they get cells too.
 */
export function buildModel(s: MachineSnapshot, extraIova: ReadonlyMap<string, ReadonlySet<number>> = new Map()): MapModel {
  const colourOf = new Map(s.domains.map((d, i) => [d.name, i]));
  return {
    snapshot: s,
    domains: s.domains.map((d, i) => domainBand(s, d, i)),
    machine: machineBand(s),
    iommu: s.iommu.map((io) => iovaBand(io, extraIova.get(io.group) ?? new Set())),
    colourOf,
  };
}
