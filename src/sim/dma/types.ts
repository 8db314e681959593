/**
 * The DMA vocabulary every layer of the simulator shares: a direction, a CPU-side range, a DMA
 * segment. This file imports nothing, so the machine core, the IOMMU, the block layer and the
 * snapshot can all name these types without depending on the DMA-API implementations.
 */

/** DMA direction, as in the Linux DMA-API (DMA_NONE is accepted only to BUG() like the kernel). */
export type Direction = "TO_DEVICE" | "FROM_DEVICE" | "BIDIRECTIONAL";

/** A CPU-side range handed to a backend: guest-physical address and length. */
export interface PhysRange {
  gpa: number;
  length: number;
}

/** One DMA segment of a mapped scatterlist. */
export interface SgSegment {
  /** sg_dma_address(): where the device starts this segment. */
  busAddress: number;
  /** sg_dma_len(): bytes in the segment. */
  length: number;
}
