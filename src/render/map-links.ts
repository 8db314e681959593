/**
 * The lines between bands: each domain's p2m (PFN → MFN; grant-mapped foreign frames dashed,
 * tagged pages dotted), each IOMMU domain's page table (IOVA → MFN) and stale IOTLB entries.
 * Runs are split at cell edges on both sides and added up per pair of cells, so one line stands
 * for many pages between elided cells, its width growing with the count and its ends placed where
 * those pages sit inside the cells: parallel lines mean contiguous, a fan or crossings mean
 * fragmented.
 */
import { cellIndexOf } from "./elide.js";
import type { LinkRun } from "./map-model.js";
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
export function aggregateLinks(runs: readonly LinkRun[], from: PlacedBand, to: PlacedBand): Link[] {
  // Numeric keys: a fragmented 4 GiB domain has a quarter of a million single-page runs.
  const pairs = new Map<number, Link>();
  const kinds = new Map<string, number>();
  for (const run of runs) {
    let kindIndex = kinds.get(run.kind);
    if (kindIndex === undefined) kinds.set(run.kind, (kindIndex = kinds.size));
    let pos = 0;
    while (pos < run.count) {
      const a = run.from + pos;
      const b = run.to + pos;
      const fi = cellIndexOf(from.cells, a);
      const ti = cellIndexOf(to.cells, b);
      if (fi < 0 || ti < 0) {
        pos++;
        continue;
      }
      const fc = from.cells[fi]!;
      const tc = to.cells[ti]!;
      const len = Math.min(run.count - pos, fc.start + fc.count - a, tc.start + tc.count - b);
      const key = (fi * 1_000_000 + ti) * 16 + kindIndex;
      let link = pairs.get(key);
      if (!link) pairs.set(key, (link = { fromCell: fi, toCell: ti, kind: run.kind, count: 0, sumFrom: 0, sumTo: 0, minFrom: a, maxFrom: a, minTo: b, maxTo: b }));
      link.count += len;
      link.sumFrom += len * (a + (len - 1) / 2);
      link.sumTo += len * (b + (len - 1) / 2);
      link.minFrom = Math.min(link.minFrom, a);
      link.maxFrom = Math.max(link.maxFrom, a + len - 1);
      link.minTo = Math.min(link.minTo, b);
      link.maxTo = Math.max(link.maxTo, b + len - 1);
      pos += len;
    }
  }
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
export function drawLinks(links: Link[], from: PlacedBand, to: PlacedBand, style: LinkStyle, limit: number): { svg: string; dropped: number } {
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
