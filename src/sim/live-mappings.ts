import type { DebugType } from "./dma/debug.js";
import type { Direction, PhysRange, SgSegment } from "./dma/types.js";

/**
 * The one record of live DMA mappings on a machine: what each DMA-API instance has mapped
 * (singles, scatterlists, coherent memory) with the backend state to undo it, and, derived from
 * it, which bus pages of each device a live mapping covers (a device access elsewhere is
 * reported as unmapped DMA). The DMA-API front writes it; devices and snapshots read it.
 *
 * dma-debug (dma/debug.ts) keeps its own entries on purpose: like kernel/dma/debug.c it audits
 * the driver's calls independently of the mapping code, which is what lets it report a mismatch.
 */

/** A dma_map_single / dma_map_page mapping. */
export interface SingleMapping {
  type: DebugType;
  busAddress: number;
  size: number;
  dir: Direction;
  /** Guest-physical address of the CPU buffer. */
  gpa: number;
  /** What the backend returned at map time, handed back at unmap and sync. */
  state: unknown;
}

/** A mapped scatterlist. */
export interface SgListMapping {
  entries: PhysRange[];
  segments: SgSegment[];
  dir: Direction;
  state: unknown;
  /** The array the driver passed (dma_unmap_sg must get the same list back). */
  source: readonly unknown[];
}

/** A dma_alloc_coherent allocation. */
export interface CoherentMapping {
  cpuAddress: number;
  busAddress: number;
  size: number;
  state: unknown;
}

/** A live mapping as snapshots list it. */
export interface LiveMappingView {
  type: DebugType;
  busAddress: number;
  size: number;
  dir: Direction;
  address: number;
}

/** What the record needs of a device: behind an IOMMU, coverage is the IOMMU's business. */
export interface MappedDevice {
  readonly iommu: object | null;
}

/** The mappings of one DMA-API instance. */
class OwnerMappings {
  readonly singles = new Map<number, SingleMapping[]>();
  readonly sgLists: SgListMapping[] = [];
  readonly coherents = new Map<number, CoherentMapping>();
}

export class LiveMappings {
  private readonly owners = new Map<object, OwnerMappings>();
  /** Bus pages covered by live mappings, per device without an IOMMU: page → count. */
  private readonly coverage = new Map<MappedDevice, Map<number, number>>();

  constructor(private readonly pageSize: number) {}

  private of(owner: object): OwnerMappings {
    let record = this.owners.get(owner);
    if (!record) {
      record = new OwnerMappings();
      this.owners.set(owner, record);
    }
    return record;
  }

  addSingle(owner: object, device: MappedDevice, mapping: SingleMapping): void {
    const singles = this.of(owner).singles;
    const list = singles.get(mapping.busAddress);
    if (list) list.push(mapping);
    else singles.set(mapping.busAddress, [mapping]);
    this.cover(device, mapping.busAddress, mapping.size, 1);
  }

  /** Removes and returns the mapping at `busAddress`, preferring one of this size and direction. */
  takeSingle(owner: object, device: MappedDevice, busAddress: number, size: number, dir: Direction): SingleMapping | undefined {
    const singles = this.of(owner).singles;
    const list = singles.get(busAddress);
    if (!list || list.length === 0) return undefined;
    const best = list.find((m) => m.size === size && m.dir === dir) ?? list[0]!;
    list.splice(list.indexOf(best), 1);
    if (list.length === 0) singles.delete(busAddress);
    this.cover(device, best.busAddress, best.size, -1);
    return best;
  }

  /** The single mapping starting at `busAddress`, else the first one containing it. */
  singleContaining(owner: object, busAddress: number): SingleMapping | undefined {
    const singles = this.of(owner).singles;
    const exact = singles.get(busAddress);
    if (exact && exact.length > 0) return exact[0];
    for (const list of singles.values()) {
      for (const m of list) if (busAddress >= m.busAddress && busAddress < m.busAddress + m.size) return m;
    }
    return undefined;
  }

  addSg(owner: object, device: MappedDevice, mapping: SgListMapping): void {
    this.of(owner).sgLists.push(mapping);
    for (const s of mapping.segments) this.cover(device, s.busAddress, s.length, 1);
  }

  /** True if this very array is mapped now. */
  isSgMapped(owner: object, source: readonly unknown[]): boolean {
    return this.of(owner).sgLists.some((r) => r.source === source);
  }

  /** The mapped scatterlist these entries describe: the same array, or one with the same first entry. */
  findSg(owner: object, source: readonly unknown[], firstGpa: number): SgListMapping | undefined {
    const lists = this.of(owner).sgLists;
    return lists.find((r) => r.source === source) ?? lists.find((r) => r.entries[0]!.gpa === firstGpa);
  }

  removeSg(owner: object, device: MappedDevice, mapping: SgListMapping): void {
    const lists = this.of(owner).sgLists;
    lists.splice(lists.indexOf(mapping), 1);
    for (const s of mapping.segments) this.cover(device, s.busAddress, s.length, -1);
  }

  addCoherent(owner: object, device: MappedDevice, mapping: CoherentMapping): void {
    this.of(owner).coherents.set(mapping.busAddress, mapping);
    this.cover(device, mapping.busAddress, mapping.size, 1);
  }

  /** Removes and returns the coherent allocation at `busAddress`. */
  takeCoherent(owner: object, device: MappedDevice, busAddress: number): CoherentMapping | undefined {
    const coherents = this.of(owner).coherents;
    const mapping = coherents.get(busAddress);
    if (!mapping) return undefined;
    coherents.delete(busAddress);
    this.cover(device, mapping.busAddress, mapping.size, -1);
    return mapping;
  }

  /** True if a live mapping covers bus page `busPage` of `device` (a device without an IOMMU). */
  covers(device: MappedDevice, busPage: number): boolean {
    return this.coverage.get(device)?.has(busPage) ?? false;
  }

  /** The live mappings of one DMA-API instance: singles, then scatterlist segments, then coherent memory. */
  list(owner: object): LiveMappingView[] {
    const record = this.owners.get(owner);
    if (!record) return [];
    const singles = [...record.singles.values()]
      .flat()
      .map((m) => ({ type: m.type, busAddress: m.busAddress, size: m.size, dir: m.dir, address: m.gpa }));
    const sgs = record.sgLists.flatMap((r) =>
      r.segments.map((s, i) => ({
        type: "scather-gather" as const,
        busAddress: s.busAddress,
        size: s.length,
        dir: r.dir,
        address: r.entries[Math.min(i, r.entries.length - 1)]!.gpa,
      })),
    );
    const coherent = [...record.coherents.values()].map((c) => ({
      type: "coherent" as const,
      busAddress: c.busAddress,
      size: c.size,
      dir: "BIDIRECTIONAL" as const,
      address: c.cpuAddress,
    }));
    return [...singles, ...sgs, ...coherent];
  }

  /** Marks [bus, bus+length) of a device without an IOMMU as covered by one more (or one fewer) mapping. */
  private cover(device: MappedDevice, busAddress: number, length: number, delta: 1 | -1): void {
    if (device.iommu || length === 0) return;
    let pages = this.coverage.get(device);
    if (!pages) {
      pages = new Map();
      this.coverage.set(device, pages);
    }
    const last = Math.floor((busAddress + length - 1) / this.pageSize);
    for (let page = Math.floor(busAddress / this.pageSize); page <= last; page++) {
      const count = (pages.get(page) ?? 0) + delta;
      if (count <= 0) pages.delete(page);
      else pages.set(page, count);
    }
  }
}
