import type { Machine } from "../machine.js";
import type { Domain } from "../domain.js";
import type { Device } from "../device.js";

import type { Direction, PhysRange, SgSegment } from "./types.js";

export type { Direction, PhysRange, SgSegment } from "./types.js";

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

/**
 * A failed map normally returns DMA_MAPPING_ERROR; `errorAddress` lets a backend return another
 * failure value the kernel used (2006 swiotlb: the io_tlb_overflow_buffer's bus address).
 * `state` is what the backend needs back at unmap and sync (its type is the backend's own).
 */
export type MapResult<State = unknown> =
  | { ok: true; busAddress: number; state?: State }
  | { ok: false; reason: string; errorAddress?: number };

export type SgResult<State = unknown> = { ok: true; segments: SgSegment[]; state?: State } | { ok: false; reason: string };

export type CoherentResult<State = unknown> =
  | { ok: true; cpuAddress: number; busAddress: number; state?: State }
  | { ok: false; reason: string };

/**
 * The interface every backend implements, like Linux's struct dma_map_ops. The front (api.ts)
 * validates, runs dma-debug, traces and dispatches; a backend only translates, bounces or
 * programs the IOMMU, emitting trace events for the work it does (translate, hypercall,
 * bounce-copy, iommu-map ...).
 *
 * The type parameters are the state a backend keeps per single mapping, per scatterlist and per
 * coherent allocation; the front stores it opaquely and hands it back (DmaBackend<unknown>).
 */
export interface DmaBackend<MapState = unknown, SgState = unknown, CoherentState = unknown> {
  readonly name: BackendName;
  /**
   * True when Xen installs this backend's device mappings (an IOMMU it programs for the domain):
   * Xen then refuses a device-writable mapping of a frame the domain holds only read-only (a
   * GNTMAP_readonly grant mapping). Other backends hand the device a machine address unchecked.
   */
  readonly enforcesGrantPermissions: boolean;
  /**
   * dma_mapping_error() beyond DMA_MAPPING_ERROR: true if `busAddress` is this backend's own
   * failure value (2006 swiotlb_dma_mapping_error: the overflow buffer's address).
   */
  isMappingError?(busAddress: number): boolean;
  /** dma_max_mapping_size(). */
  maxMappingSize(): number;
  /** dma_supported(): can this backend serve a device with this mask? */
  dmaSupported(maskBits: number): boolean;
  map(range: PhysRange, dir: Direction): MapResult<MapState>;
  /** `size`/`dir` are the caller's (copy-back follows them); `state` is what map returned. */
  unmap(busAddress: number, size: number, dir: Direction, state: MapState, skipCpuSync?: boolean): void;
  /** Partial syncs pass the offset into the mapping. */
  syncForCpu(busAddress: number, offset: number, size: number, dir: Direction, state: MapState): void;
  syncForDevice(busAddress: number, offset: number, size: number, dir: Direction, state: MapState): void;
  mapSg(entries: PhysRange[], dir: Direction): SgResult<SgState>;
  unmapSg(entries: PhysRange[], segments: SgSegment[], dir: Direction, state: SgState): void;
  syncSg(entries: PhysRange[], segments: SgSegment[], dir: Direction, state: SgState, toCpu: boolean): void;
  allocCoherent(size: number): CoherentResult<CoherentState>;
  freeCoherent(cpuAddress: number, size: number, busAddress: number, state: CoherentState): void;
}
