/**
 * Colours and text styles of the pictures, as CSS custom properties with light and dark values.
 * The site (Starlight) sets `data-theme="light" | "dark"` on <html>; a standalone SVG follows
 * `prefers-color-scheme`. Text and neutral lines use Starlight's own variables when present, so
 * they match the page. A `<style>` inside inline SVG is global to the page, so every rule is
 * scoped to `svg.dmalab`.
 */

/** Colours of domains by index (Okabe-Ito-like hues, distinguishable with colour-vision deficiencies). */
const DOMAIN_LIGHT = ["#2f6db5", "#2e8b3e", "#8e4fa8", "#c77c02", "#3f9fd6", "#8a6d3b", "#5b6bbf", "#7a8f2a"];
const DOMAIN_DARK = ["#74a9f2", "#5cc46d", "#cd8de6", "#f0a840", "#8ccdf5", "#c9a470", "#9aa7ff", "#b5cc5a"];

/** Colours of cost-chart segments by index. */
const KIND_LIGHT = [
  "#2f6db5",
  "#c77c02",
  "#2e8b3e",
  "#8e4fa8",
  "#d1242f",
  "#0e7c86",
  "#8a6d3b",
  "#5b6bbf",
  "#7a8f2a",
  "#b03f7a",
  "#6e7781",
  "#3f9fd6",
];
const KIND_DARK = [
  "#74a9f2",
  "#f0a840",
  "#5cc46d",
  "#cd8de6",
  "#ff7b72",
  "#3fc1c9",
  "#c9a470",
  "#9aa7ff",
  "#b5cc5a",
  "#e882b4",
  "#a0a8b1",
  "#8ccdf5",
];

/** Number of distinct domain colours before they repeat. */
export const DOMAIN_COLOURS = DOMAIN_LIGHT.length;
/** Number of distinct chart colours before they repeat. */
export const KIND_COLOURS = KIND_LIGHT.length;

const LIGHT: Record<string, string> = {
  fg: "var(--sl-color-white, #1f2328)",
  muted: "var(--sl-color-gray-3, #59636e)",
  bg: "var(--sl-color-black, #ffffff)",
  rule: "var(--sl-color-gray-5, #d0d7de)",
  free: "#eceff2",
  "free-edge": "#c5ccd3",
  xen: "#57606a",
  iova: "#0e7c86",
  error: "#d1242f",
  warn: "#b35c00",
};

const DARK: Record<string, string> = {
  fg: "var(--sl-color-white, #e6edf3)",
  muted: "var(--sl-color-gray-3, #9198a1)",
  bg: "var(--sl-color-black, #17181c)",
  rule: "var(--sl-color-gray-5, #3d444d)",
  free: "#2a3038",
  "free-edge": "#444c56",
  xen: "#8b949e",
  iova: "#3fc1c9",
  error: "#ff6b6b",
  warn: "#f2a93b",
};

function variables(base: Record<string, string>, domains: string[], kinds: string[]): string {
  const entries = [
    ...Object.entries(base).map(([k, v]) => `--dm-${k}:${v}`),
    ...domains.map((c, i) => `--dm-d${i}:${c}`),
    ...kinds.map((c, i) => `--dm-k${i}:${c}`),
  ];
  return entries.join(";");
}

const S = "svg.dmalab";

/** The stylesheet shared by every DMA Lab picture (goes in a `<style>` element). */
export function styleSheet(): string {
  const dark = variables(DARK, DOMAIN_DARK, KIND_DARK);
  const domainRules = DOMAIN_LIGHT.map((_, i) => `${S} .dm-d${i}{fill:var(--dm-d${i})}${S} .dm-s${i}{stroke:var(--dm-d${i})}`).join("");
  const kindRules = KIND_LIGHT.map((_, i) => `${S} .dm-k${i}{fill:var(--dm-k${i})}`).join("");
  return [
    `${S}{${variables(LIGHT, DOMAIN_LIGHT, KIND_LIGHT)};font-family:var(--sl-font,system-ui,-apple-system,"Segoe UI",sans-serif);max-width:100%;height:auto}`,
    `[data-theme='dark'] ${S}{${dark}}`,
    `@media (prefers-color-scheme:dark){${S}:root,:root:not([data-theme]) ${S}{${dark}}}`,
    `${S} text{fill:var(--dm-fg);font-size:11px}`,
    // A halo in the background colour keeps labels readable where lines cross them.
    `${S} .dm-halo{paint-order:stroke;stroke:var(--dm-bg);stroke-width:3px;stroke-linejoin:round}`,
    `${S} .dm-title{font-size:13px;font-weight:600}`,
    `${S} .dm-small{font-size:9px;fill:var(--dm-muted)}`,
    `${S} .dm-muted{fill:var(--dm-muted)}`,
    `${S} .dm-label{font-size:10px}`,
    `${S} .dm-cell{stroke:var(--dm-bg);stroke-width:1}`,
    `${S} .dm-elided{opacity:.45}`,
    `${S} .dm-free{fill:var(--dm-free);stroke:var(--dm-free-edge)}`,
    `${S} .dm-xen{fill:var(--dm-xen)}`,
    `${S} .dm-hole{fill:none;stroke:var(--dm-rule);stroke-dasharray:2 2}`,
    `${S} .dm-mixed{fill:var(--dm-rule)}`,
    `${S} .dm-tagged{fill:none;stroke-width:1.5;stroke-dasharray:3 2}`,
    `${S} .dm-iova{fill:var(--dm-iova)}`,
    `${S} .dm-ro{opacity:.55}`,
    `${S} .dm-spare{opacity:.25}`,
    `${S} .dm-arrow.dm-bounce-arc{stroke-dasharray:5 3;stroke-width:1.3}`,
    `${S} .dm-reserved{fill:var(--dm-rule)}`,
    `${S} .dm-queued{fill:var(--dm-warn);opacity:.5}`,
    `${S} .dm-unmapped{fill:none;stroke:var(--dm-muted);stroke-dasharray:2 2}`,
    `${S} .dm-hatch-line{stroke:var(--dm-bg);stroke-width:1.5;opacity:.8}`,
    `${S} .dm-live{fill:none;stroke:var(--dm-fg);stroke-width:2}`,
    `${S} .dm-current{fill:none;stroke:var(--dm-fg);stroke-width:1.5;stroke-dasharray:3 2}`,
    `${S} .dm-err-box{fill:none;stroke:var(--dm-error);stroke-width:2.5}`,
    `${S} .dm-warn-box{fill:none;stroke:var(--dm-warn);stroke-width:2;stroke-dasharray:4 2}`,
    `${S} .dm-err-text{fill:var(--dm-error);font-weight:600;font-size:10px}`,
    `${S} .dm-warn-text{fill:var(--dm-warn);font-weight:600;font-size:10px}`,
    `${S} .dm-link{fill:none;stroke-opacity:.55;stroke-linecap:round}`,
    `${S} .dm-link.dm-hot{stroke-opacity:1}`,
    `${S} .dm-foreign-link{stroke-dasharray:5 3}`,
    `${S} .dm-tag-link{stroke-dasharray:1 3;stroke-width:1.5}`,
    `${S} .dm-iommu-link{stroke:var(--dm-iova)}`,
    `${S} .dm-stale-link{stroke:var(--dm-warn);stroke-dasharray:4 3;stroke-opacity:1}`,
    `${S} .dm-arrow{fill:none;stroke:var(--dm-fg);stroke-width:1.5}`,
    `${S} .dm-arrow.dm-mapped{stroke:var(--dm-muted);stroke-dasharray:4 3;stroke-width:1}`,
    `${S} .dm-arrow.dm-error{stroke:var(--dm-error);stroke-width:2.5}`,
    `${S} .dm-arrow.dm-warning{stroke:var(--dm-warn);stroke-width:2}`,
    `${S} .dm-head{fill:var(--dm-fg)}`,
    `${S} .dm-head-error{fill:var(--dm-error)}`,
    `${S} .dm-head-warning{fill:var(--dm-warn)}`,
    `${S} .dm-device{fill:var(--dm-bg);stroke:var(--dm-fg);stroke-width:1.2}`,
    `${S} .dm-granted{stroke:var(--dm-bg);stroke-width:.5}`,
    `${S} .dm-bounce{fill:var(--dm-fg)}`,
    `${S} .dm-banner{fill:var(--dm-error)}`,
    `${S} .dm-axis{stroke:var(--dm-rule);stroke-width:1}`,
    `${S} .dm-bar{stroke:var(--dm-bg);stroke-width:.5}`,
    // Numbers on a coloured bar: white with a dark halo reads on every palette colour.
    `${S} .dm-on-bar{fill:#fff;paint-order:stroke;stroke:rgba(0,0,0,.45);stroke-width:2px}`,
    domainRules,
    kindRules,
  ].join("");
}

/** Class of a domain's colour (fill `dm-dN`, stroke `dm-sN`) by its index in the snapshot. */
export function domainColour(index: number): number {
  return ((index % DOMAIN_COLOURS) + DOMAIN_COLOURS) % DOMAIN_COLOURS;
}
