/**
 * The lines between bands: each domain's p2m (PFN → MFN; grant-mapped foreign frames dashed,
 * tagged pages dotted), each IOMMU domain's page table (IOVA → MFN) and stale IOTLB entries.
 * Runs are split at cell edges on both sides and added up per pair of cells, so one line stands
 * for many pages between elided cells, its width growing with the count and its ends placed where
 * those pages sit inside the cells: parallel lines mean contiguous, a fan or crossings mean
 * fragmented.
 */
import { cellIndexOf } from "./elide.js";
import { forEachLink } from "./map-model.js";
import type { LinkSet } from "./map-model.js";
import type { PlacedBand } from "./map-layout.js";
import { xWithin } from "./map-layout.js";
import { grouped, hex } from "./format.js";
import { el, tooltip } from "./svg.js";

/** One drawn line: many pages between one pair of cells, of one kind. */
export interface Link {
  fromCell: number;
  toCell: number;
  kind: string;
  count: number;
  /** Sums of the indices on each side (for the mean position inside an elided cell). */
  sumFrom: number;
  sumTo: number;
  minFrom: number;
  maxFrom: number;
  minTo: number;
  maxTo: number;
}

/** Adds up link runs per pair of cells. */
export function aggregateLinks(runs: LinkSet, from: PlacedBand, to: PlacedBand): Link[] {
  const pairs = new Map<number, Link>();
  const kinds = new Map<string, number>();
  const toCells = to.cells.length;
  // A fragmented 2 GiB domain has a quarter of a million single-page runs: small-integer keys and
  // no allocation per run keep this pass cheap even before the JIT has warmed up.
  const add = (runFrom: number, runTo: number, runCount: number, runKind: string) => {
    let kindIndex = kinds.get(runKind);
    if (kindIndex === undefined) kinds.set(runKind, (kindIndex = kinds.size));
    let pos = 0;
    while (pos < runCount) {
      const a = runFrom + pos;
      const b = runTo + pos;
      const fi = cellIndexOf(from.cells, a);
      const ti = cellIndexOf(to.cells, b);
      if (fi < 0 || ti < 0) {
        pos++;
        continue;
      }
      const fc = from.cells[fi]!;
      const tc = to.cells[ti]!;
      const len = Math.min(runCount - pos, fc.start + fc.count - a, tc.start + tc.count - b);
      const key = (fi * toCells + ti) * 16 + kindIndex;
      const link = pairs.get(key);
      if (link) {
        link.count += len;
        link.sumFrom += len * (a + (len - 1) / 2);
        link.sumTo += len * (b + (len - 1) / 2);
        if (a < link.minFrom) link.minFrom = a;
        if (a + len - 1 > link.maxFrom) link.maxFrom = a + len - 1;
        if (b < link.minTo) link.minTo = b;
        if (b + len - 1 > link.maxTo) link.maxTo = b + len - 1;
      } else {
        pairs.set(key, {
          fromCell: fi,
          toCell: ti,
          kind: runKind,
          count: len,
          sumFrom: len * (a + (len - 1) / 2),
          sumTo: len * (b + (len - 1) / 2),
          minFrom: a,
          maxFrom: a + len - 1,
          minTo: b,
          maxTo: b + len - 1,
        });
      }
      pos += len;
    }
  };
  forEachLink(runs, add);
  return [...pairs.values()];
}

/** How a link is drawn and described. */
export interface LinkStyle {
  /** Class list of the line. */
  classOf(link: Link): string;
  /** Tooltip text. */
  describe(link: Link): string;
  /** Drawn on top and opaque (e.g. the pages of a live mapping). */
  hot(link: Link): boolean;
}

/** Stroke width for a line standing for `count` pages. */
function strokeWidth(count: number): number {
  return count <= 1 ? 1.2 : Math.min(6, 1.2 + Math.log2(count) * 0.6);
}

/**
 * Lines from `from` (a domain or IOVA band) to the machine band. `fromBottom`: lines leave the
 * source band's bottom edge (domains above the machine) or its top edge (IOVA below it).
 * At most `limit` lines: hot ones first, then the largest counts.
 */
export function drawLinks(
  links: Link[],
  from: PlacedBand,
  to: PlacedBand,
  style: LinkStyle,
  limit: number,
): { svg: string; dropped: number } {
  const ranked = links.map((l) => ({ l, hot: style.hot(l) })).sort((x, y) => Number(y.hot) - Number(x.hot) || y.l.count - x.l.count);
  const kept = ranked.slice(0, Math.max(0, limit));
  // Cold lines first so hot ones draw over them.
  kept.sort((x, y) => Number(x.hot) - Number(y.hot));
  const fromAbove = from.y < to.y;
  const y1 = fromAbove ? from.y + from.h : from.y;
  const y2 = fromAbove ? to.y : to.y + to.h;
  const svg = kept
    .map(({ l, hot }) => {
      const fc = from.cells[l.fromCell]!;
      const tc = to.cells[l.toCell]!;
      return el(
        "line",
        {
          class: `dm-link ${style.classOf(l)}${hot ? " dm-hot" : ""}`,
          x1: xWithin(fc, l.sumFrom / l.count),
          y1,
          x2: xWithin(tc, l.sumTo / l.count),
          y2,
          "stroke-width": strokeWidth(l.count),
          "data-from": l.minFrom,
          "data-to": l.minTo,
          "data-count": l.count > 1 ? l.count : undefined,
        },
        tooltip(style.describe(l)),
      );
    })
    .join("");
  return { svg, dropped: ranked.length - kept.length };
}

/** "PFN 0x3 → MFN 0x1a" or "12 pages: PFN 0x0–0xb → MFN 0x10–0x40". */
export function describeLink(l: Link, fromUnit: string, fromIndex: (i: number) => string, what = "pages"): string {
  if (l.count === 1) return `${fromUnit} ${fromIndex(l.minFrom)} → MFN ${hex(l.minTo)}`;
  return `${grouped(l.count)} ${what}: ${fromUnit} ${fromIndex(l.minFrom)}–${fromIndex(l.maxFrom)} → MFN ${hex(l.minTo)}–${hex(l.maxTo)}`;
}
