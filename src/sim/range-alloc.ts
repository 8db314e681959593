/**
 * First-fit allocator over a range of integers (bytes of a domain's memory, IOVA pages), with
 * coalescing frees. Holes are kept sorted; every operation is O(holes).
 */
export class RangeAllocator {
  /** Sorted, non-overlapping, non-adjacent free ranges [start, end). */
  private holes: { start: number; end: number }[];

  constructor(
    readonly start: number,
    readonly end: number,
  ) {
    this.holes = end > start ? [{ start, end }] : [];
  }

  /**
   * Takes `size` units aligned to `align` (a power of two), lowest first or, with `topDown`,
   * highest first (as Linux's IOVA allocator does). Returns undefined when nothing fits.
   */
  alloc(size: number, align = 1, topDown = false, below = this.end): number | undefined {
    const order = topDown ? [...this.holes.keys()].reverse() : [...this.holes.keys()];
    for (const i of order) {
      const hole = this.holes[i]!;
      const end = Math.min(hole.end, below);
      let at: number;
      if (topDown) {
        at = Math.floor((end - size) / align) * align;
        if (at < hole.start) continue;
      } else {
        at = Math.ceil(hole.start / align) * align;
        if (at + size > end) continue;
      }
      this.take(i, at, size);
      return at;
    }
    return undefined;
  }

  private take(index: number, at: number, size: number): void {
    const hole = this.holes[index]!;
    const pieces: { start: number; end: number }[] = [];
    if (at > hole.start) pieces.push({ start: hole.start, end: at });
    if (at + size < hole.end) pieces.push({ start: at + size, end: hole.end });
    this.holes.splice(index, 1, ...pieces);
  }

  /** Returns [at, at+size) to the free pool. The caller guarantees it was allocated. */
  free(at: number, size: number): void {
    let i = 0;
    while (i < this.holes.length && this.holes[i]!.start < at) i++;
    const range = { start: at, end: at + size };
    this.holes.splice(i, 0, range);
    const next = this.holes[i + 1];
    if (next && next.start === range.end) {
      range.end = next.end;
      this.holes.splice(i + 1, 1);
    }
    const prev = this.holes[i - 1];
    if (prev && prev.end === range.start) {
      prev.end = range.end;
      this.holes.splice(i, 1);
    }
  }

  /** Units currently free. */
  freeUnits(): number {
    return this.holes.reduce((sum, h) => sum + h.end - h.start, 0);
  }

  /** A copy of the free ranges, for snapshots and invariant checks. */
  freeRanges(): { start: number; end: number }[] {
    return this.holes.map((h) => ({ ...h }));
  }
}
