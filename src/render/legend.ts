/** A legend: swatches with words, flowed into lines that fit the picture's width. */
import { el, text, textWidth } from "./svg.js";

/** One legend entry: a 12×12 swatch drawn at (x, y) and its words. */
export interface LegendItem {
  swatch(x: number, y: number): string;
  label: string;
}

const SWATCH = 12;
const LINE = 17;

/** Draws the items from (x0, y) on, wrapping at x0 + width. Returns the markup and its height. */
export function drawLegend(items: readonly LegendItem[], x0: number, width: number, y: number): { svg: string; height: number } {
  const out: string[] = [];
  let x = x0;
  let line = 0;
  for (const item of items) {
    const w = SWATCH + 4 + textWidth(item.label, 10) + 14;
    if (x + w > x0 + width && x > x0) {
      x = x0;
      line++;
    }
    const top = y + line * LINE;
    out.push(el("g", { class: "dm-legend-item" }, item.swatch(x, top), text(x + SWATCH + 4, top + 10, item.label, { class: "dm-label" })));
    x += w;
  }
  return { svg: el("g", { class: "dm-legend" }, ...out), height: items.length ? (line + 1) * LINE : 0 };
}

/** A filled square swatch with the given classes. */
export function boxSwatch(className: string, extra = ""): (x: number, y: number) => string {
  return (x, y) =>
    el("rect", { class: className, x, y, width: SWATCH, height: SWATCH }) +
    (extra ? el("rect", { x, y, width: SWATCH, height: SWATCH, fill: extra }) : "");
}

/** A short line swatch with the given classes (and optional arrowhead marker id). */
export function lineSwatch(className: string, marker?: string): (x: number, y: number) => string {
  return (x, y) =>
    el("path", { class: className, d: `M${x} ${y + SWATCH / 2}h${SWATCH}`, "marker-end": marker ? `url(#${marker})` : undefined });
}
