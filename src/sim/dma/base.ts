import { SimError } from "../errors.js";
import { formatSize, hex } from "../units.js";
import type {
  BackendContext,
  BackendName,
  CoherentResult,
  Direction,
  DmaBackend,
  MapResult,
  PhysRange,
  SgResult,
  SgSegment,
} from "./backend.js";

/**
 * Defaults shared by backends: no limit on a mapping's size, any mask, syncs that need no work,
 * coherent memory from the page allocator. The type parameters are the backend's own state per
 * single mapping, scatterlist and coherent allocation (see {@link DmaBackend}).
 */
export abstract class BaseBackend<MapState, SgState, CoherentState = undefined> implements DmaBackend<MapState, SgState, CoherentState> {
  abstract readonly name: BackendName;
  readonly enforcesGrantPermissions: boolean = false;

  constructor(protected readonly ctx: BackendContext) {}

  abstract map(range: PhysRange, dir: Direction): MapResult<MapState>;
  abstract unmap(busAddress: number, size: number, dir: Direction, state: MapState, skipCpuSync?: boolean): void;
  abstract mapSg(entries: PhysRange[], dir: Direction): SgResult<SgState>;
  abstract unmapSg(entries: PhysRange[], segments: SgSegment[], dir: Direction, state: SgState): void;
  abstract syncSg(entries: PhysRange[], segments: SgSegment[], dir: Direction, state: SgState, toCpu: boolean): void;
  abstract allocCoherent(size: number): CoherentResult<CoherentState>;

  maxMappingSize(): number {
    return Number.MAX_SAFE_INTEGER;
  }

  dmaSupported(_maskBits: number): boolean {
    return true;
  }

  syncForCpu(_busAddress: number, _offset: number, _size: number, _dir: Direction, _state: MapState): void {}

  syncForDevice(_busAddress: number, _offset: number, _size: number, _dir: Direction, _state: MapState): void {}

  freeCoherent(cpuAddress: number, _size: number, _busAddress: number, _state: CoherentState): void {
    this.ctx.domain.free(cpuAddress);
  }

  /** Coherent memory comes from the page allocator: page-order sized and aligned, zeroed. */
  protected allocCoherentPages(size: number): number | undefined {
    const pageSize = this.ctx.machine.pageSize;
    const bytes = 2 ** Math.ceil(Math.log2(Math.max(size, pageSize)));
    try {
      const gpa = this.ctx.domain.alloc(bytes, { align: bytes });
      this.ctx.domain.write(gpa, new Uint8Array(bytes));
      return gpa;
    } catch (error) {
      if (error instanceof SimError && error.code === "OUT_OF_MEMORY") return undefined;
      throw error;
    }
  }

  /** The dev_WARN dma-direct prints when an address is beyond the device's mask. */
  protected overflowReason(busAddress: number, size: number): string {
    const device = this.ctx.device;
    return `DMA addr ${hex(busAddress)}+${size} overflow (mask ${hex(device.dmaLimit - 1)}, bus limit 0): ${device.name} has a ${device.dmaMask}-bit mask`;
  }

  /** True if [busAddress, busAddress+size) is reachable with the device's mask (dma_capable). */
  protected dmaCapable(busAddress: number, size: number): boolean {
    return busAddress + size <= this.ctx.device.dmaLimit;
  }

  protected describe(size: number): string {
    return formatSize(size);
  }
}

/**
 * A backend that keeps no state per mapping and maps a scatterlist entry by entry with no merging
 * (what dma-direct, swiotlb and xen-swiotlb all do), unwinding on failure.
 */
export abstract class EntryWiseBackend<CoherentState = undefined> extends BaseBackend<undefined, undefined, CoherentState> {
  mapSg(entries: PhysRange[], dir: Direction): SgResult<undefined> {
    const segments: SgSegment[] = [];
    for (const entry of entries) {
      const result = this.mapSgEntry(entry, dir);
      if (!result.ok) {
        // As swiotlb_map_sg / xen_swiotlb_map_sg: undo what was mapped, without copying back.
        for (const s of segments) this.unmap(s.busAddress, s.length, dir, undefined, true);
        return { ok: false, reason: result.reason };
      }
      segments.push({ busAddress: result.busAddress, length: entry.length });
    }
    return { ok: true, segments };
  }

  /** One scatterlist entry: as a single mapping, unless the backend's map_sg tested less. */
  protected mapSgEntry(entry: PhysRange, dir: Direction): MapResult<undefined> {
    return this.map(entry, dir);
  }

  unmapSg(_entries: PhysRange[], segments: SgSegment[], dir: Direction): void {
    for (const s of segments) this.unmap(s.busAddress, s.length, dir, undefined);
  }

  syncSg(_entries: PhysRange[], segments: SgSegment[], dir: Direction, _state: undefined, toCpu: boolean): void {
    for (const s of segments)
      toCpu ? this.syncForCpu(s.busAddress, 0, s.length, dir, undefined) : this.syncForDevice(s.busAddress, 0, s.length, dir, undefined);
  }
}
