/**
 * Geometry: how many cells each band of a row may use, and where each cell goes. Bands of one
 * row sit side by side (so links only ever cross the gap between two rows); a cell is one unit
 * wide, an elided cell ELIDED_UNITS wide.
 */
import { ELIDED_UNITS, cellUnits, elide, segmentTotal } from "./elide.js";
import type { Cell } from "./elide.js";
import type { BandSpec } from "./map-model.js";
import { elisionText } from "./map-words.js";
import { textWidth } from "./svg.js";

/** A cell with its position. */
export interface PlacedCell extends Cell {
  x: number;
  w: number;
}

/** A band with its cells placed. */
export interface PlacedBand<B extends BandSpec = BandSpec> {
  spec: B;
  cells: PlacedCell[];
  x: number;
  w: number;
  y: number;
  h: number;
}

/** Gap between two bands of one row, in cell units. */
const BAND_GAP_UNITS = 2;
/** Widest a single cell gets (a band of four frames should not fill the page). */
export const MAX_CELL_WIDTH = 26;
/** Smallest useful budget of one band: an elided cell either side of one detailed cell. */
const MIN_BAND_BUDGET = 2 * ELIDED_UNITS + 1;

/**
 * Splits `total` units between bands that need `needs[i]` each: everyone gets what they need if
 * it fits; otherwise the small needs are met and the rest is shared equally (water-filling).
 */
export function shareBudget(needs: readonly number[], total: number): number[] {
  const out = needs.map(() => 0);
  let left = total;
  let open = needs.map((_, i) => i);
  while (open.length > 0) {
    const share = Math.max(MIN_BAND_BUDGET, Math.floor(left / open.length));
    const small = open.filter((i) => needs[i]! <= share);
    if (small.length === 0) {
      for (const i of open) out[i] = share;
      break;
    }
    for (const i of small) {
      out[i] = needs[i]!;
      left -= needs[i]!;
    }
    open = open.filter((i) => needs[i]! > share);
  }
  return out;
}

/** Elides and places one row of bands within [x0, x0 + width). */
export function placeRow<B extends BandSpec>(
  bands: readonly B[],
  candidates: ReadonlyMap<string, number[]>,
  budget: number,
  x0: number,
  width: number,
  y: number,
  h: number,
): PlacedBand<B>[] {
  const gaps = Math.max(0, bands.length - 1) * BAND_GAP_UNITS;
  const usable = Math.max(MIN_BAND_BUDGET, budget - gaps);
  const budgets = shareBudget(
    bands.map((b) => segmentTotal(b.segments)),
    usable,
  );
  const cellLists = bands.map((b, i) => elide(b.segments, candidates.get(b.id) ?? [], budgets[i]!));
  const widths = cellWidths(bands, cellLists, gaps, width);
  let x = x0;
  return bands.map((spec, i) => {
    const start = x;
    const cells = cellLists[i]!.map((c, j) => {
      const w = widths.of(i, j);
      const placed = { ...c, x, w };
      x += w;
      return placed;
    });
    const band = { spec, cells, x: start, w: x - start, y, h };
    x += BAND_GAP_UNITS * widths.unit;
    return band;
  });
}

/**
 * Cell widths. Elided cells get room for their full marker ("… 4,064 free frames …") when single
 * cells can stay at least 60% as wide as without it; otherwise only the row's spare width goes to
 * them and they show a shorter marker.
 */
function cellWidths(
  bands: readonly BandSpec[],
  cellLists: readonly Cell[][],
  gaps: number,
  width: number,
): { unit: number; of(band: number, cell: number): number } {
  const units = cellLists.reduce((sum, cells) => sum + cellUnits(cells), 0) + gaps;
  const plain = Math.min(MAX_CELL_WIDTH, width / Math.max(1, units));
  const full = cellLists.map((cells, i) => cells.map((c) => (c.elided ? textWidth(elisionText(bands[i]!, c), 9) + 8 : 0)));
  const fullSum = full.flat().reduce((sum, w) => sum + w, 0);
  const singles = cellLists.reduce((sum, cells) => sum + cells.filter((c) => !c.elided).length, 0) + gaps;
  const roomy = Math.min(MAX_CELL_WIDTH, (width - fullSum) / Math.max(1, singles));
  if (fullSum > 0 && roomy >= Math.max(8, 0.6 * plain)) {
    const w = (i: number, j: number) => (cellLists[i]![j]!.elided ? Math.max(full[i]![j]!, ELIDED_UNITS * roomy) : roomy);
    let total = gaps * roomy;
    cellLists.forEach((cells, i) => cells.forEach((_, j) => (total += w(i, j))));
    const shrink = Math.min(1, width / total);
    return { unit: roomy * shrink, of: (i, j) => w(i, j) * shrink };
  }
  // Width the row does not need still goes to elided cells, for a longer marker.
  const wants = full.map((list) => list.map((f) => Math.max(0, f - ELIDED_UNITS * plain)));
  const wanted = wants.flat().reduce((sum, w) => sum + w, 0);
  const spare = Math.max(0, width - units * plain);
  const scale = wanted > 0 ? Math.min(1, spare / wanted) : 0;
  return { unit: plain, of: (i, j) => (cellLists[i]![j]!.elided ? ELIDED_UNITS * plain + wants[i]![j]! * scale : plain) };
}

/** Centre x of the part of a cell that holds indices [from, from + count) (the whole cell when detailed). */
export function xWithin(cell: PlacedCell, meanIndex: number): number {
  if (cell.count === 1) return cell.x + cell.w / 2;
  const t = (meanIndex - cell.start + 0.5) / cell.count;
  return cell.x + cell.w * Math.min(1, Math.max(0, t));
}
