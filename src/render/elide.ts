/**
 * Elision: turns a band's index space (PFNs, MFNs or IOVA pages, as contiguous segments of one
 * kind each) into at most a budget of cells. Interesting indices (candidates, in priority order)
 * get a cell of their own; the stretches between them collapse into one elided cell each
 * ("… 4,000 free frames …"). A band small enough is drawn whole.
 */

/** A run of indices of one kind (e.g. dom0's RAM, free frames, the swiotlb pool). */
export interface Segment {
  start: number;
  count: number;
  /** What the run is ("ram", "pool", "free", "xen", "hole", "iova-mapped", ...). */
  kind: string;
  /** The domain it belongs to (colour and labels), if any. */
  owner?: string;
}

/** One drawn cell: a single index, or an elided stretch of `count` indices. */
export interface Cell {
  start: number;
  count: number;
  kind: string;
  owner?: string;
  elided: boolean;
  /** For a stretch spanning several segments ("mixed"): their owners or kinds, for the tooltip. */
  parts?: string[];
}

/** Width of an elided cell, in units of a single cell. */
export const ELIDED_UNITS = 3;

/** Width of a cell list in single-cell units. */
export function cellUnits(cells: readonly Cell[]): number {
  let units = 0;
  for (const c of cells) units += c.elided ? ELIDED_UNITS : 1;
  return units;
}

/** Total indices the segments cover. */
export function segmentTotal(segments: readonly Segment[]): number {
  let total = 0;
  for (const s of segments) total += s.count;
  return total;
}

/**
 * Cells for `segments` (sorted, contiguous) within `budget` units. Candidates earlier in the list
 * win when not all fit (binary search on how many of them to keep). Returns every index as its
 * own cell when the whole band fits.
 */
export function elide(segments: readonly Segment[], candidates: readonly number[], budget: number): Cell[] {
  if (segments.length === 0) return [];
  if (segmentTotal(segments) <= budget) return build(segments, [], true, Infinity);
  // Stretches split at segment boundaries read better; fall back to mixed stretches only when
  // the segments alone overflow the budget (e.g. a layout of scattered single frames).
  const split = cellUnits(build(segments, [], true)) <= budget;
  let lo = 0;
  let hi = candidates.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (cellUnits(build(segments, sortedUnique(candidates, mid), split)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return build(segments, sortedUnique(candidates, lo), split);
}

function sortedUnique(candidates: readonly number[], count: number): number[] {
  return [...new Set(candidates.slice(0, count))].sort((a, b) => a - b);
}

/**
 * Builds cells: each index in `detail` (sorted) alone, each stretch between them elided (or
 * drawn whole when it is no wider than an elided cell). `split`: stretches stop at segment edges.
 */
function build(segments: readonly Segment[], detail: readonly number[], split: boolean, wholeUpTo = ELIDED_UNITS): Cell[] {
  const cells: Cell[] = [];
  const first = segments[0]!.start;
  const last = segments[segments.length - 1]!;
  const end = last.start + last.count;
  let seg = 0;
  let d = 0;
  let pos = first;
  while (pos < end) {
    while (d < detail.length && detail[d]! < pos) d++;
    const next = d < detail.length && detail[d]! < end ? detail[d]! : end;
    if (next > pos) seg = stretch(cells, segments, seg, pos, next, split, wholeUpTo);
    if (next < end) {
      while (segments[seg]!.start + segments[seg]!.count <= next) seg++;
      const s = segments[seg]!;
      cells.push(cell(s, next, 1, false));
      pos = next + 1;
    } else pos = end;
  }
  return cells;
}

/** Adds cells for [from, to); returns the segment index reached. */
function stretch(
  cells: Cell[],
  segments: readonly Segment[],
  seg: number,
  from: number,
  to: number,
  split: boolean,
  wholeUpTo: number,
): number {
  while (segments[seg]!.start + segments[seg]!.count <= from) seg++;
  const pieces: [Segment, number, number][] = [];
  for (let i = seg; i < segments.length && segments[i]!.start < to; i++) {
    const s = segments[i]!;
    pieces.push([s, Math.max(from, s.start), Math.min(to, s.start + s.count)]);
  }
  if (!split && pieces.length > 1 && to - from > wholeUpTo) {
    const parts = [...new Set(pieces.map(([s]) => s.owner ?? s.kind))];
    cells.push({ start: from, count: to - from, kind: "mixed", elided: true, parts });
  } else {
    for (const [s, a, b] of pieces) {
      if (b - a <= wholeUpTo) for (let i = a; i < b; i++) cells.push(cell(s, i, 1, false));
      else cells.push(cell(s, a, b - a, true));
    }
  }
  return seg + Math.max(0, pieces.length - 1);
}

function cell(s: Segment, start: number, count: number, elided: boolean): Cell {
  return s.owner === undefined ? { start, count, kind: s.kind, elided } : { start, count, kind: s.kind, owner: s.owner, elided };
}

/** Index of the cell holding `index`, or -1 (binary search; cells are sorted and contiguous). */
export function cellIndexOf(cells: readonly Cell[], index: number): number {
  let lo = 0;
  let hi = cells.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = cells[mid]!;
    if (index < c.start) hi = mid - 1;
    else if (index >= c.start + c.count) lo = mid + 1;
    else return mid;
  }
  return -1;
}
