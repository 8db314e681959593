/** log2 of a slot ("slab"): 2 KiB, as include/linux/swiotlb.h's IO_TLB_SHIFT 11. */
export const IO_TLB_SHIFT = 11;
/** Bytes per slot: 2 KiB. */
export const IO_TLB_SIZE = 1 << IO_TLB_SHIFT;
/**
 * IO_TLB_SEGSIZE: "Maximum allowable number of contiguous slabs to map, must be a power of 2".
 * 128 slots of 2 KiB, so no bounce buffer is larger than 256 KiB or crosses a 256 KiB segment.
 */
export const IO_TLB_SEGSIZE = 128;
/** Bytes of one 128-slot segment: 256 KiB, also swiotlb_max_mapping_size(). */
export const IO_TLB_SEGMENT_BYTES = IO_TLB_SEGSIZE * IO_TLB_SIZE;
/** 2006-era io_tlb_overflow: the 32 KiB emergency buffer a full pool hands out instead of failing. */
export const IO_TLB_OVERFLOW = 32 * 1024;

/** Which DMA-API backend a pool serves (they differ in how the pool's frames are placed). */
export type SwiotlbKind = "swiotlb" | "xen-swiotlb";

const INVALID_PHYS_ADDR = -1;

/**
 * One swiotlb bounce pool of a driver domain, kept the way lib/swiotlb.c (2.6.16 to 2.6.27) and
 * kernel/dma/swiotlb.c keep theirs:
 * - `io_tlb_list[i]` = how many free slots follow slot i (itself included) up to the end of its
 *   128-slot segment, 0 for a used slot;
 * - `io_tlb_orig_addr[i]` = the guest-physical address slot i bounces for, used by syncs and unmap;
 * - `io_tlb_index` = where the next search starts (next-fit, wrapping at the end).
 *
 * Simplification: one search area. Modern Linux splits the pool into per-CPU "areas" with their
 * own locks and index (and optional CONFIG_SWIOTLB_DYNAMIC pools); with a single simulated CPU
 * that is the same as one area.
 */
export class SwiotlbPool<Owner = unknown> {
  /** io_tlb_list: free-slot counts, as Linux keeps them. */
  readonly list: Uint16Array;
  /** io_tlb_orig_addr: guest-physical address each slot bounces for (-1 = none). */
  readonly origAddr: Float64Array;
  /**
   * Modern slots[i].alloc_size: bytes of the mapping from slot i to its end. 2006 kept no size
   * and trusted the size the driver passed at unmap.
   */
  readonly allocSize: Uint32Array;
  /** Slots of the mapping that starts at slot i (0 elsewhere): lets snapshots show mappings as runs. */
  readonly runLength: Uint16Array;
  /** io_tlb_index: the next-fit search start. */
  index = 0;
  /** Slots in use now. */
  usedSlots = 0;
  /**
   * The 2006 io_tlb_overflow_buffer (32 KiB), handed out when the pool is full; null in the
   * modern era, which returns DMA_MAPPING_ERROR instead.
   */
  overflow: { address: number; busAddress: number; bytes: number } | null = null;
  /** Highest bus address of the pool (what swiotlb_dma_supported compares with the mask). */
  readonly lastBusAddress: number;

  /**
   * @param domain the driver domain that owns the pool (typed by the caller, so this file stays below the domain) (its frames sit at PFNs above its RAM).
   * @param kind the backend the pool serves.
   * @param nslabs io_tlb_nslabs: number of 2 KiB slots, a multiple of 128.
   * @param address guest-physical address of slot 0 (page-aligned; the pool is pfn-contiguous).
   * @param segmentBus bus address of each 128-slot segment's first byte, as the device must see it.
   */
  constructor(
    readonly domain: Owner,
    readonly kind: SwiotlbKind,
    readonly nslabs: number,
    readonly address: number,
    readonly segmentBus: readonly number[],
  ) {
    this.list = new Uint16Array(nslabs);
    for (let i = 0; i < nslabs; i++) this.list[i] = IO_TLB_SEGSIZE - (i % IO_TLB_SEGSIZE);
    this.origAddr = new Float64Array(nslabs).fill(INVALID_PHYS_ADDR);
    this.allocSize = new Uint32Array(nslabs);
    this.runLength = new Uint16Array(nslabs);
    this.lastBusAddress = segmentBus.reduce((top, bus) => Math.max(top, bus), 0) + IO_TLB_SEGMENT_BYTES - 1;
  }

  /** Bytes of bounce space. */
  get bytes(): number {
    return this.nslabs * IO_TLB_SIZE;
  }

  /** Guest-physical address of slot `index`. */
  slotAddress(index: number): number {
    return this.address + index * IO_TLB_SIZE;
  }

  /** Bus address of slot `index` (segments may lie anywhere in machine memory). */
  slotBus(index: number): number {
    return this.segmentBus[Math.floor(index / IO_TLB_SEGSIZE)]! + (index % IO_TLB_SEGSIZE) * IO_TLB_SIZE;
  }

  /** The slot holding a guest-physical address, or undefined outside the pool (is_swiotlb_buffer). */
  slotOf(gpa: number): number | undefined {
    if (gpa < this.address || gpa >= this.address + this.bytes) return undefined;
    return Math.floor((gpa - this.address) / IO_TLB_SIZE);
  }

  /**
   * The slot search of map_single / swiotlb_area_find_slots: `nslots` free slots starting at a
   * multiple of `stride`, scanning from io_tlb_index and wrapping once round the pool; a run is
   * taken when io_tlb_list says enough free slots follow in its segment, so no run ever crosses
   * a 128-slot segment. `crossesBoundary` is the device's segment-boundary test
   * (iommu_is_span_boundary); the caller leaves it out for era 2006, whose map_single had none
   * (it arrived in 2008). Returns the first slot or -1.
   */
  find(nslots: number, stride: number, crossesBoundary?: (index: number, nslots: number) => boolean): number {
    if (nslots < 1 || nslots > IO_TLB_SEGSIZE || nslots > this.nslabs - this.usedSlots) return -1;
    let index = Math.ceil(this.index / stride) * stride;
    if (index >= this.nslabs) index = 0;
    const wrap = index;
    do {
      if (!crossesBoundary?.(index, nslots) && this.list[index]! >= nslots) return index;
      index += stride;
      if (index >= this.nslabs) index = 0;
    } while (index !== wrap);
    return -1;
  }

  /**
   * Takes slots [index, index+nslots) for a bounce of `bytes` from `orig` (guest-physical; null for
   * a coherent allocation), recounting the free slots before it in its segment, as map_single does.
   */
  occupy(index: number, nslots: number, orig: number | null, bytes: number): void {
    for (let i = index; i < index + nslots; i++) {
      this.list[i] = 0;
      this.origAddr[i] = orig === null ? INVALID_PHYS_ADDR : orig + (i - index) * IO_TLB_SIZE;
      this.allocSize[i] = bytes - (i - index) * IO_TLB_SIZE;
    }
    let count = 0;
    for (let i = index - 1; i >= 0 && i % IO_TLB_SEGSIZE !== IO_TLB_SEGSIZE - 1 && this.list[i] !== 0; i--) this.list[i] = ++count;
    this.runLength[index] = nslots;
    this.index = index + nslots < this.nslabs ? index + nslots : 0;
    this.usedSlots += nslots;
  }

  /**
   * How many slots unmapping at `index` gives back. 2006 (do_unmap_single): computed from the
   * size the driver passes, so an unmap with a smaller size than the map leaks slots. Modern
   * (swiotlb_release_slots): from the alloc_size recorded at map time, whatever the driver says.
   */
  slotsToRelease(index: number, unmapBytes: number, era: "2006" | "modern"): number {
    const bytes = era === "2006" ? unmapBytes : this.allocSize[index]!;
    return Math.max(1, Math.min(Math.ceil(bytes / IO_TLB_SIZE), this.nslabs - index));
  }

  /**
   * Returns slots [index, index+nslots) to the free list, merging with the free slots after and
   * before them within the segment (do_unmap_single / swiotlb_release_slots, steps 1 and 2).
   */
  release(index: number, nslots: number): void {
    const segmentEnd = (Math.floor(index / IO_TLB_SEGSIZE) + 1) * IO_TLB_SEGSIZE;
    // A 2006 unmap with a smaller size leaves the tail of the run in use: keep it visible as a run.
    const run = this.runLength[index]!;
    if (run > nslots) this.runLength[index + nslots] = run - nslots;
    let count = index + nslots < segmentEnd ? this.list[index + nslots]! : 0;
    let freed = 0;
    for (let i = index + nslots - 1; i >= index; i--) {
      if (this.list[i] === 0) freed++;
      this.list[i] = ++count;
      this.origAddr[i] = INVALID_PHYS_ADDR;
      this.allocSize[i] = 0;
      this.runLength[i] = 0;
    }
    for (let i = index - 1; i >= 0 && i % IO_TLB_SEGSIZE !== IO_TLB_SEGSIZE - 1 && this.list[i] !== 0; i--) this.list[i] = ++count;
    this.usedSlots -= freed;
  }

  /** The original guest-physical address behind slot `index`, or undefined (coherent, or free). */
  original(index: number): number | undefined {
    const orig = this.origAddr[index]!;
    return orig === INVALID_PHYS_ADDR ? undefined : orig;
  }

  /** Used slots as runs, one per bounce buffer, for snapshots. */
  usedRuns(): { slot: number; count: number; address: number; busAddress: number; original: number | null }[] {
    const runs: { slot: number; count: number; address: number; busAddress: number; original: number | null }[] = [];
    for (let i = 0; i < this.nslabs; i++) {
      const count = this.runLength[i]!;
      if (count === 0) continue;
      runs.push({ slot: i, count, address: this.slotAddress(i), busAddress: this.slotBus(i), original: this.original(i) ?? null });
      i += count - 1;
    }
    return runs;
  }
}
