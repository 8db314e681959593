import type { Machine } from "../machine.js";
import type { Domain } from "../domain.js";
import type { Device } from "../device.js";

/** DMA direction, as in the Linux DMA-API (DMA_NONE is accepted only to BUG() like the kernel). */
export type Direction = "TO_DEVICE" | "FROM_DEVICE" | "BIDIRECTIONAL";

/** One implementation of the DMA-API per position in the thread. */
export type BackendName = "direct" | "p2m" | "hypercall" | "swiotlb" | "xen-swiotlb" | "iommu";

export const BACKEND_NAMES: readonly BackendName[] = ["direct", "p2m", "hypercall", "swiotlb", "xen-swiotlb", "iommu"];

/** What a backend works with: the driver domain, its device, the machine. */
export interface BackendContext {
  machine: Machine;
  domain: Domain;
  device: Device;
}

/** A CPU-side range handed to a backend: guest-physical address and length. */
export interface PhysRange {
  gpa: number;
  length: number;
}

/**
 * A failed map normally returns DMA_MAPPING_ERROR; `errorAddress` lets a backend return another
 * failure value the kernel used (2006 swiotlb: the io_tlb_overflow_buffer's bus address).
 */
export type MapResult = { ok: true; busAddress: number; state?: unknown } | { ok: false; reason: string; errorAddress?: number };

/** One DMA segment of a mapped scatterlist. */
export interface SgSegment {
  busAddress: number;
  length: number;
}

export type SgResult = { ok: true; segments: SgSegment[]; state?: unknown } | { ok: false; reason: string };

export type CoherentResult = { ok: true; cpuAddress: number; busAddress: number; state?: unknown } | { ok: false; reason: string };

/**
 * The interface every backend implements, like Linux's struct dma_map_ops. The front (api.ts)
 * validates, runs dma-debug, traces and dispatches; a backend only translates, bounces or
 * programs the IOMMU, emitting trace events for the work it does (translate, hypercall,
 * bounce-copy, iommu-map ...).
 */
export interface DmaBackend {
  readonly name: BackendName;
  /**
   * PCI_DMA_BUS_IS_PHYS for this implementation (dma_map_ops.is_phys): true when bus addresses
   * correspond directly to CPU physical addresses, so the block layer must bounce on its own.
   */
  readonly isPhys: boolean;
  /**
   * dma_mapping_error() beyond DMA_MAPPING_ERROR: true if `busAddress` is this backend's own
   * failure value (2006 swiotlb_dma_mapping_error: the overflow buffer's address).
   */
  isMappingError?(busAddress: number): boolean;
  /** dma_max_mapping_size(). */
  maxMappingSize(): number;
  /** dma_supported(): can this backend serve a device with this mask? */
  dmaSupported(maskBits: number): boolean;
  map(range: PhysRange, dir: Direction): MapResult;
  /** `size`/`dir` are the caller's (copy-back follows them); `state` is what map returned. */
  unmap(busAddress: number, size: number, dir: Direction, state: unknown, skipCpuSync?: boolean): void;
  /** Partial syncs pass the offset into the mapping. */
  syncForCpu(busAddress: number, offset: number, size: number, dir: Direction, state: unknown): void;
  syncForDevice(busAddress: number, offset: number, size: number, dir: Direction, state: unknown): void;
  mapSg(entries: PhysRange[], dir: Direction): SgResult;
  unmapSg(entries: PhysRange[], segments: SgSegment[], dir: Direction, state: unknown): void;
  syncSg(entries: PhysRange[], segments: SgSegment[], dir: Direction, state: unknown, toCpu: boolean): void;
  allocCoherent(size: number): CoherentResult;
  freeCoherent(cpuAddress: number, size: number, busAddress: number, state: unknown): void;
}
