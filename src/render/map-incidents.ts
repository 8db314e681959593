/**
 * Visible words for what went wrong, under the cell it happened in: "stray DMA → domU1",
 * "IOMMU fault", "stale IOTLB", "unmapped DMA", "mapping error". Labels of one band share a few
 * lines below it and never overlap; what does not fit stays in the cell's tooltip.
 */
import { cellIndexOf } from "./elide.js";
import type { Incident } from "./map-activity.js";
import type { PlacedBand } from "./map-layout.js";
import { text, textWidth } from "./svg.js";

/** Lines of labels a band may use below its cells. */
export const INCIDENT_LINES = 2;
/** Height of one label line. */
export const INCIDENT_LINE_HEIGHT = 12;

function wording(i: Incident): { label: string; error: boolean } {
  switch (i.kind) {
    case "stray-dma":
      return { label: i.victim && i.victim !== "none" ? `stray DMA → ${i.victim}` : "stray DMA", error: true };
    case "iommu-fault":
      return { label: "IOMMU fault", error: true };
    case "iotlb-stale":
      return { label: "stale IOTLB", error: false };
    case "unmapped-dma":
      return { label: "unmapped DMA", error: false };
    default:
      return { label: "mapping error", error: false };
  }
}

/** Labels for one band's incidents, placed on lines starting at `top`; returns the markup and how many lines it used. */
export function drawIncidentLabels(
  incidents: readonly Incident[],
  band: PlacedBand,
  top: number,
  x0: number,
  right: number,
): { svg: string; lines: number } {
  // One label per event (a failed 2-page mapping is one problem, not two), spanning its cells.
  const groups = new Map<string, { inc: Incident; label: string; error: boolean; first: number; last: number }>();
  for (const inc of incidents) {
    if (inc.band !== band.spec.id) continue;
    const cell = cellIndexOf(band.cells, inc.index);
    if (cell < 0) continue;
    const { label, error } = wording(inc);
    const key = `${inc.seq}|${label}`;
    const g = groups.get(key);
    if (g) {
      g.first = Math.min(g.first, cell);
      g.last = Math.max(g.last, cell);
    } else groups.set(key, { inc, label, error, first: cell, last: cell });
  }
  const taken: [number, number][][] = Array.from({ length: INCIDENT_LINES }, () => []);
  const seen = new Set<string>();
  const out: string[] = [];
  let used = 0;
  // Newest first: the latest problems get the label when space is short.
  for (const g of [...groups.values()].reverse()) {
    const key = `${g.first}|${g.last}|${g.label}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const a = band.cells[g.first]!;
    const b = band.cells[g.last]!;
    const w = textWidth(g.label, 10);
    // Beside the cell, not under it: the device's arrow arrives at the cell's bottom centre.
    const beside = b.x + b.w + 3 + w <= right ? b.x + b.w + 3 : a.x - 3 - w;
    const left = Math.min(Math.max(x0, g.first === g.last ? beside : (a.x + b.x + b.w) / 2 - w / 2), right - w);
    const line = taken.findIndex((spans) => spans.every(([l, r]) => left + w + 4 <= l || left >= r + 4));
    if (line < 0) continue;
    taken[line]!.push([left, left + w]);
    used = Math.max(used, line + 1);
    out.push(
      text(left, top + (line + 1) * INCIDENT_LINE_HEIGHT - 2, g.label, {
        class: `${g.error ? "dm-err-text" : "dm-warn-text"} dm-halo`,
        "data-incident": g.inc.kind,
        "data-victim": g.inc.victim,
      }),
    );
  }
  return { svg: out.join(""), lines: used };
}
