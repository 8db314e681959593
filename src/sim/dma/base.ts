import { SimError } from "../errors.js";
import { formatSize, hex } from "../units.js";
import type { BackendContext, BackendName, CoherentResult, Direction, DmaBackend, MapResult, PhysRange, SgResult, SgSegment } from "./backend.js";

/**
 * Defaults shared by backends: scatterlists mapped entry by entry with no merging (what
 * dma-direct, swiotlb and xen-swiotlb all do), unwinding on failure; syncs that need no work.
 */
export abstract class BaseBackend implements DmaBackend {
  abstract readonly name: BackendName;
  abstract readonly isPhys: boolean;

  constructor(protected readonly ctx: BackendContext) {}

  abstract map(range: PhysRange, dir: Direction): MapResult;
  abstract unmap(busAddress: number, size: number, dir: Direction, state: unknown, skipCpuSync?: boolean): void;
  abstract allocCoherent(size: number): CoherentResult;

  maxMappingSize(): number {
    return Number.MAX_SAFE_INTEGER;
  }

  dmaSupported(_maskBits: number): boolean {
    return true;
  }

  syncForCpu(_busAddress: number, _offset: number, _size: number, _dir: Direction, _state: unknown): void {}

  syncForDevice(_busAddress: number, _offset: number, _size: number, _dir: Direction, _state: unknown): void {}

  mapSg(entries: PhysRange[], dir: Direction): SgResult {
    const segments: SgSegment[] = [];
    const states: unknown[] = [];
    for (const entry of entries) {
      const result = this.map(entry, dir);
      if (!result.ok) {
        // As swiotlb_map_sg / xen_swiotlb_map_sg: undo what was mapped, without copying back.
        segments.forEach((s, i) => this.unmap(s.busAddress, s.length, dir, states[i], true));
        return { ok: false, reason: result.reason };
      }
      segments.push({ busAddress: result.busAddress, length: entry.length });
      states.push(result.state);
    }
    return { ok: true, segments, state: states };
  }

  unmapSg(_entries: PhysRange[], segments: SgSegment[], dir: Direction, state: unknown): void {
    const states = state as unknown[];
    segments.forEach((s, i) => this.unmap(s.busAddress, s.length, dir, states[i]));
  }

  syncSg(_entries: PhysRange[], segments: SgSegment[], dir: Direction, state: unknown, toCpu: boolean): void {
    const states = state as unknown[];
    segments.forEach((s, i) => (toCpu ? this.syncForCpu(s.busAddress, 0, s.length, dir, states[i]) : this.syncForDevice(s.busAddress, 0, s.length, dir, states[i])));
  }

  freeCoherent(cpuAddress: number, _size: number, _busAddress: number, _state: unknown): void {
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
