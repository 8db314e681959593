import type { Machine } from "../machine.js";
import type { Domain } from "../domain.js";
import type { Device } from "../device.js";

/** DMA direction, as in the Linux DMA-API (DMA_NONE is accepted only to BUG() like the kernel). */
export type Direction = "TO_DEVICE" | "FROM_DEVICE" | "BIDIRECTIONAL";

/**
 * One implementation of the DMA-API per position in the thread ("a DMA-API implementation is the
 * only part of the dom0 Linux kernel that would need to know to read the P2M table (P2M) or do
 * nothing (P=M) or call into Xen ... (VP without IOMMU) or call into Xen to establish an IOMMU
 * mapping (VP w/ IOMMU)", Muli Ben-Yehuda, 2006-01-20):
 * - "direct": bus = guest-physical address (dma-direct / nommu). Right only in P==M.
 * - "p2m": reads the domain's p2m table per page; cannot bounce, so a buffer that is not
 *   machine-contiguous fails to map (2006: "Fatal DMA error! Please use 'swiotlb=force'").
 * - "hypercall": like "p2m" but asks Xen per page (a VP domain without an IOMMU).
 * - "swiotlb": the generic software IOMMU (lib/swiotlb.c, kernel/dma/swiotlb.c): bounces
 *   buffers beyond the mask; knows nothing of a p2m.
 * - "xen-swiotlb": Xen's swiotlb (drivers/xen/swiotlb-xen.c): translates through the p2m and
 *   bounces beyond the mask or across machine-discontiguous frames, via a machine-contiguous pool.
 * - "iommu": a hardware IOMMU programmed through Xen: IOVA → MFN, one contiguous IOVA range per mapping.
 */
export type BackendName = "direct" | "p2m" | "hypercall" | "swiotlb" | "xen-swiotlb" | "iommu";

/**
 * Every {@link BackendName}, in the order the thread's positions build on each other: nothing to
 * translate (P==M), read the p2m, ask Xen, bounce (generic and Xen's swiotlb), hardware IOMMU.
 */
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
  /** sg_dma_address(): where the device starts this segment. */
  busAddress: number;
  /** sg_dma_len(): bytes in the segment. */
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
