/**
 * renderCostChart: what `compareStrategies` returns, as an accessible SVG bar chart. One
 * horizontal bar per strategy, in the order given; each bar is stacked by event kind (where the
 * cycles went: IOTLB flushes, hypercalls, bounce copies ...) and labelled with its total. Kinds
 * keep their colour across charts, so "iotlb-flush" looks the same on every page.
 */
import { SimError, describeValue } from "../sim/index.js";
import type { StrategyResult } from "../sim/index.js";
import { grouped } from "./format.js";
import { drawLegend } from "./legend.js";
import type { LegendItem } from "./legend.js";
import { drawTitle, el, fitText, text, textWidth, tooltip } from "./svg.js";
import { KIND_COLOURS, styleSheet } from "./theme.js";

/** Options of {@link renderCostChart}. All optional. */
export interface CostChartOptions {
  /** Heading drawn above the bars. */
  title?: string;
  /** "perOp" (default): cycles per operation; "total": cycles in the measured window. */
  value?: "perOp" | "total";
  /** What one operation is, for the axis ("packet", "request"). Default "op". */
  opName?: string;
  /** Extra words after a bar's total, e.g. the study's metric: `(r) => "43% of line rate"`. */
  annotate?: (result: StrategyResult) => string;
  /** Width in px (default 760, 320–4000). */
  width?: number;
}

/** Fixed colours for the kinds charts usually show (indices into the theme's chart palette). */
const KIND_COLOUR: Record<string, number> = {
  packet: 10,
  "iotlb-flush": 4,
  hypercall: 1,
  "iommu-map": 0,
  "iommu-unmap": 11,
  "bounce-copy": 3,
  map: 2,
  unmap: 8,
  "mapping-reuse": 5,
  translate: 6,
  "grant-map": 7,
  "grant-unmap": 9,
};

/** The chart colour index of an event kind (stable: fixed for common kinds, hashed for others). */
export function kindColour(kind: string): number {
  const fixed = KIND_COLOUR[kind];
  if (fixed !== undefined) return fixed;
  let h = 0;
  for (let i = 0; i < kind.length; i++) h = (h * 31 + kind.charCodeAt(i)) >>> 0;
  return h % KIND_COLOURS;
}

const LEFT_PAD = 8;
const BAR_H = 22;
const ROW_H = 34;

/** Below this plot width, each bar's total goes on its own line under the bar (a phone's layout). */
const MIN_PLOT_BESIDE_TOTALS = 200;
/** Extra height of a row whose total sits under its bar. */
const TOTAL_LINE_H = 14;

/** Round axis steps: 1, 2 or 5 times a power of ten, about `ticks` of them. */
function niceStep(max: number, ticks = 5): number {
  if (max <= 0) return 1;
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

function checkResults(results: unknown): asserts results is StrategyResult[] {
  const ok =
    Array.isArray(results) &&
    results.every(
      (r) =>
        typeof r === "object" &&
        r !== null &&
        typeof (r as StrategyResult).name === "string" &&
        typeof (r as StrategyResult).total === "number" &&
        typeof (r as StrategyResult).breakdown === "object",
    );
  if (!ok)
    throw new SimError(
      "INVALID_ARGUMENT",
      `renderCostChart(results): results must be what compareStrategies returns (an array of { name, total, perOp, breakdown, ... }), got ${describeValue(results)}`,
      "results",
    );
}

/**
 * Renders the comparison as an SVG string with role="img" and an aria-label that reads the bars.
 * @example
 * const svg = renderCostChart(compareStrategies(packetStream({ packets: 500 }), strategies), { opName: "packet" });
 */
export function renderCostChart(results: readonly StrategyResult[], options: CostChartOptions = {}): string {
  checkResults(results);
  const { width, mode } = chartSettings(options);
  const opName = options.opName ?? "op";
  const unit = mode === "perOp" ? `cycles per ${opName}` : "cycles";
  const scaleOf = (r: StrategyResult) => (mode === "perOp" ? (r.ops > 0 ? 1 / r.ops : 0) : 1);
  const barValue = (r: StrategyResult) => (mode === "perOp" ? r.perOp : r.total);

  // Kinds ordered by their share over all bars: the biggest cost sits next to the axis.
  const weight = new Map<string, number>();
  for (const r of results) for (const [k, v] of Object.entries(r.breakdown)) weight.set(k, (weight.get(k) ?? 0) + (v ?? 0) * scaleOf(r));
  const kinds = [...weight.entries()]
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k]) => k);

  const nameWidth = Math.min(180, width * 0.3, Math.max(60, ...results.map((r) => textWidth(r.name, 11, true) + 12)));
  const x0 = LEFT_PAD + nameWidth;
  const totals = results.map(
    (r) => `${grouped(barValue(r))}${options.annotate ? ` · ${options.annotate(r)}` : ""}${r.ok ? "" : " · failed"}`,
  );
  const labelRoom = Math.min(220, Math.max(60, ...totals.map((t) => textWidth(t, 11) + 10)));
  // Totals beside the bars when there is room, else under them, so the bars keep the width.
  const totalsBelow = width - x0 - labelRoom - 8 < MIN_PLOT_BESIDE_TOTALS;
  const plotW = totalsBelow ? width - x0 - 16 : width - x0 - labelRoom - 8;
  const rowH = totalsBelow ? ROW_H + TOTAL_LINE_H : ROW_H;
  const max = Math.max(0, ...results.map(barValue));
  // As many axis ticks as their numbers have room for, at most five.
  const tickRoom = textWidth(grouped(max * 2), 9) + 12;
  const step = niceStep(max, Math.max(1, Math.min(5, Math.floor(plotW / tickRoom))));
  const axisMax = Math.max(step, Math.ceil(max / step) * step);
  const sx = (v: number) => (v / axisMax) * plotW;

  const parts: string[] = [];
  let y = 6;
  if (options.title) {
    const heading = drawTitle(LEFT_PAD, y, options.title, width - 16);
    parts.push(heading.svg);
    y += heading.height + 2;
  }
  parts.push(text(x0, y + 10, unit, { class: "dm-small" }));
  y += 16;
  const plotTop = y;
  const plotBottom = plotTop + results.length * rowH;
  for (let v = 0; v <= axisMax + step / 2; v += step) {
    const x = x0 + sx(v);
    parts.push(
      el("line", { class: "dm-axis", x1: x, y1: plotTop - 2, x2: x, y2: plotBottom }),
      text(x, plotBottom + 12, grouped(v), { class: "dm-small", "text-anchor": "middle" }),
    );
  }
  results.forEach((r, i) => {
    const top = plotTop + i * rowH + (ROW_H - BAR_H) / 2;
    const bar: string[] = [];
    let x = x0;
    for (const k of kinds) {
      const v = (r.breakdown[k as keyof typeof r.breakdown] ?? 0) * scaleOf(r);
      if (v <= 0) continue;
      const w = sx(v);
      const share = barValue(r) > 0 ? Math.round((v / barValue(r)) * 100) : 0;
      const inside = grouped(v);
      bar.push(
        el(
          "g",
          { class: "dm-segment", "data-kind": k, "data-value": Math.round(v * 100) / 100 },
          el("rect", { class: `dm-bar dm-k${kindColour(k)}`, x, y: top, width: Math.max(0.5, w), height: BAR_H }),
          textWidth(inside, 9) + 4 <= w
            ? text(x + w / 2, top + BAR_H / 2 + 3, inside, { class: "dm-small dm-on-bar", "text-anchor": "middle" })
            : "",
          tooltip(`${r.name}: ${k} ${grouped(v)} ${unit} (${share}%)`),
        ),
      );
      x += w;
    }
    const errors = r.ok ? "" : `\nfailed: ${r.errors.slice(0, 3).join("; ")}`;
    parts.push(
      el(
        "g",
        { class: "dm-bar-row", "data-strategy": r.name, "data-total": Math.round(barValue(r) * 100) / 100 },
        text(x0 - 8, top + BAR_H / 2 + 4, fitText(r.name, nameWidth - 8, 11, true), {
          "text-anchor": "end",
          "font-weight": 600,
          class: "dm-bar-name",
        }),
        ...bar,
        totalsBelow
          ? text(x0, top + BAR_H + 13, fitText(totals[i]!, width - x0 - 8, 11), { class: `dm-bar-total${r.ok ? "" : " dm-err-text"}` })
          : text(x + 6, top + BAR_H / 2 + 4, totals[i]!, { class: `dm-bar-total${r.ok ? "" : " dm-err-text"}` }),
        tooltip(`${r.name}: ${grouped(barValue(r))} ${unit} over ${grouped(r.ops)} ${opName}${r.ops === 1 ? "" : "s"}${errors}`),
      ),
    );
  });
  y = plotBottom + 24;
  const items: LegendItem[] = kinds.map((k) => ({
    swatch: (lx, ly) => el("rect", { class: `dm-bar dm-k${kindColour(k)}`, x: lx, y: ly, width: 12, height: 12 }),
    label: k,
  }));
  const legend = drawLegend(items, LEFT_PAD, width - 16, y);
  parts.push(legend.svg);
  y += legend.height + 4;
  const summary = chartSummary(results, kinds, options, unit, barValue, scaleOf);
  const height = Math.ceil(y + 4);
  return el(
    "svg",
    {
      xmlns: "http://www.w3.org/2000/svg",
      class: "dmalab dm-cost-chart",
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: "img",
      "aria-label": summary,
    },
    tooltip(options.title ?? "Cost by strategy"),
    `<style>${styleSheet()}</style>`,
    ...parts,
  );
}

/** Checks the options a reader can pass and returns the chart's width and value mode. */
function chartSettings(options: CostChartOptions): { width: number; mode: "perOp" | "total" } {
  if (typeof options !== "object" || options === null)
    throw new SimError("INVALID_ARGUMENT", `renderCostChart: options must be an object, got ${describeValue(options)}`, "options");
  const width = options.width ?? 760;
  if (typeof width !== "number" || !Number.isInteger(width) || width < 320 || width > 4000) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `renderCostChart: options.width must be an integer from 320 to 4000, got ${describeValue(width)}`,
      "options.width",
    );
  }
  const mode = options.value ?? "perOp";
  if (mode !== "perOp" && mode !== "total")
    throw new SimError(
      "INVALID_ARGUMENT",
      `renderCostChart: options.value must be "perOp" or "total", got ${describeValue(mode)}`,
      "options.value",
    );
  return { width, mode };
}

/** The chart read as text (its aria-label): each bar's value and what it is made of. */
function chartSummary(
  results: readonly StrategyResult[],
  kinds: string[],
  options: CostChartOptions,
  unit: string,
  barValue: (r: StrategyResult) => number,
  scaleOf: (r: StrategyResult) => number,
): string {
  return `${options.title ? `${options.title}. ` : ""}${unit} by strategy: ${results
    .map(
      (r) =>
        `${r.name} ${grouped(barValue(r))}${options.annotate ? ` (${options.annotate(r)})` : ""}${r.ok ? "" : " (failed)"}${
          kinds.length
            ? `, of which ${kinds
                .filter((k) => (r.breakdown[k as keyof typeof r.breakdown] ?? 0) > 0)
                .map((k) => `${k} ${grouped((r.breakdown[k as keyof typeof r.breakdown] ?? 0) * scaleOf(r))}`)
                .join(", ")}`
            : ""
        }`,
    )
    .join("; ")}.`;
}
