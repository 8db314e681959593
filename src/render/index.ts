/**
 * DMA Lab's pictures: SVG renderers shared by the build (Astro components) and the browser
 * (playground). Pure TypeScript with string output: no DOM, no Node-only APIs.
 */
export { renderMemoryMap } from "./memory-map.js";
export type { MemoryMapOptions } from "./memory-map.js";
export { renderCostChart, kindColour } from "./cost-chart.js";
export type { CostChartOptions } from "./cost-chart.js";
export { FIGURE_LAYOUTS, layoutFor } from "./figure-layouts.js";
export type { FigureLayout } from "./figure-layouts.js";
