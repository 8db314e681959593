/**
 * The layouts each build-time picture is drawn in, so that its labels stay legible (≥ 9 px) on a
 * phone and on a laptop without a DOM to measure: a narrow one for a phone's column and a wide one
 * for a desktop column. The page carries both; dma-figure.css shows the one its figure's width
 * suits (a container query at WIDE_FROM px), and never draws either below its own width
 * (the smallest font in a picture is 9 px, so any shrinking would take labels below 9 px).
 *
 * Why variants rather than one picture to pan and zoom: a reader of a phone sees the whole
 * picture at once, the page needs no script, and labels keep their size without pinching.
 */
import { renderMemoryMap } from "./memory-map.js";
import type { MemoryMapOptions } from "./memory-map.js";
import { renderCostChart } from "./cost-chart.js";
import type { CostChartOptions } from "./cost-chart.js";
import type { MachineSnapshot, StrategyResult } from "../sim/index.js";

export interface FigureLayout {
  name: "narrow" | "wide";
  /** Width of the picture in px, as drawn: its viewBox width. */
  width: number;
  /** Most cells per memory-map row: fewer when narrow, so cells keep a readable width. */
  maxCells: number;
}

/**
 * A figure's content box is 340 px on a 390 px phone, and 560–702 px in Starlight's content
 * column from a 768 px tablet up (634 px at 1280 px, beside the sidebar and the contents).
 * Between those, the narrow layout is drawn larger.
 */
export const FIGURE_LAYOUTS: readonly FigureLayout[] = [
  { name: "narrow", width: 340, maxCells: 32 },
  { name: "wide", width: 560, maxCells: 64 },
];

/** The figure width from which the wide layout shows; dma-figure.css has the same number. */
export const WIDE_FROM = 560;

/** The layout a picture `width` px wide shows (as dma-figure.css picks one for a figure). */
export function layoutFor(width: number): FigureLayout {
  return FIGURE_LAYOUTS[width >= WIDE_FROM ? 1 : 0]!;
}

export interface FigureVariant {
  layout: FigureLayout;
  svg: string;
}

/** The memory map in every layout; `maxCells` caps each layout's own cell budget. */
export function memoryMapVariants(snapshot: MachineSnapshot, options: MemoryMapOptions & { idPrefix: string }): FigureVariant[] {
  return FIGURE_LAYOUTS.map((layout) => ({
    layout,
    svg: renderMemoryMap(snapshot, {
      ...options,
      width: layout.width,
      maxCells: Math.min(layout.maxCells, options.maxCells ?? layout.maxCells),
      idPrefix: `${options.idPrefix}-${layout.name}`,
    }),
  }));
}

/** The cost chart in every layout. */
export function costChartVariants(results: readonly StrategyResult[], options: CostChartOptions): FigureVariant[] {
  return FIGURE_LAYOUTS.map((layout) => ({ layout, svg: renderCostChart(results, { ...options, width: layout.width }) }));
}
