/**
 * renderMemoryMap: a simulator snapshot (and optionally its trace) as an accessible SVG string.
 *
 * Rows, top to bottom: each domain's pseudo-physical frames (side by side), machine frames
 * coloured by owner, each IOMMU protection domain's IOVA pages, then the devices. Lines join a
 * PFN to its MFN (the p2m) and an IOVA page to its MFN (the I/O page table); arrows join a device
 * to what it mapped, read or wrote. Stray DMA and IOMMU faults are red, stale IOTLB use and
 * mapping errors amber. Large machines stay small: each row draws at most `maxCells` cells,
 * spending them on what is interesting and eliding the rest ("… 4,000 free frames …").
 *
 * The snapshot is the machine's state when it was taken; `uptoSeq` only limits which trace
 * events count (DMA arrows, incidents, the current step), it does not rewind the snapshot.
 */
import { SimError, describeValue } from "../sim/index.js";
import type { MachineSnapshot, TraceEvent } from "../sim/index.js";
import { collectActivity, type Activity } from "./map-activity.js";
import { candidateLists, spreadLiveMarks } from "./map-candidates.js";
import { buildModel } from "./map-model.js";
import type { DomainBand, IovaBand, MapModel } from "./map-model.js";
import { placeRow } from "./map-layout.js";
import type { PlacedBand } from "./map-layout.js";
import { drawBandLabel, drawCells, drawTicks } from "./map-cells.js";
import { linkLayers } from "./map-link-layers.js";
import { arrowMarkers, arrowsFor, drawDevices, placeDevices, targetX } from "./map-devices.js";
import { INCIDENT_LINE_HEIGHT, drawIncidentLabels } from "./map-incidents.js";
import { drawBounces } from "./map-bounces.js";
import { mapLegend } from "./map-legend.js";
import { drawLegend } from "./legend.js";
import { summarise } from "./map-summary.js";
import { grouped, size } from "./format.js";
import { drawTitle, el, fitText, shortHash, text, tooltip } from "./svg.js";
import { styleSheet } from "./theme.js";

/** Options of {@link renderMemoryMap}. All optional. */
export interface MemoryMapOptions {
  /** The run's events (`machine.trace`): DMA arrows, stray DMA, faults, the current step. */
  trace?: readonly TraceEvent[];
  /** Step-through: only events with `seq <= uptoSeq` count, and the event at that step is outlined. */
  uptoSeq?: number;
  /** Most cells per row (default 64, 16–2000): beyond it, stretches are elided. */
  maxCells?: number;
  /** Most p2m and IOMMU lines (default 400). */
  maxLinks?: number;
  /** Width of the picture in px (default 760, 320–4000). */
  width?: number;
  /** A heading drawn at the top and used as the picture's tooltip. */
  title?: string;
  /** Prefix of element ids (patterns, markers); default: derived from the content. Ids are page-global in inline SVG. */
  idPrefix?: string;
}

const GUTTER = 66;
const RIGHT = 8;
const CELL_H = 20;
const IOVA_H = 16;
const LINK_GAP = 62;
const IOVA_GAP = 40;
const DEVICE_GAP = 46;

function integerOption(o: Record<string, unknown>, key: string, fallback: number, min: number, max: number): number {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `renderMemoryMap: options.${key} must be an integer from ${min} to ${max}, got ${describeValue(v)}`,
      `options.${key}`,
    );
  }
  return v;
}

function checkSnapshot(s: unknown): asserts s is MachineSnapshot {
  const ok =
    typeof s === "object" &&
    s !== null &&
    Array.isArray((s as MachineSnapshot).frames) &&
    Array.isArray((s as MachineSnapshot).domains) &&
    typeof (s as MachineSnapshot).pageSize === "number";
  if (!ok)
    throw new SimError(
      "INVALID_ARGUMENT",
      `renderMemoryMap(snapshot): snapshot must be what machine.snapshot() returns, got ${describeValue(s)}`,
      "snapshot",
    );
}

/** Orders domains by where their memory sits, so their p2m lines cross each other as little as possible. */
function byMachinePosition(domains: readonly DomainBand[]): DomainBand[] {
  const centre = (d: DomainBand) => {
    let sum = 0;
    let n = 0;
    for (const r of d.domain.p2m) {
      sum += (r.mfn + r.count / 2) * r.count;
      n += r.count;
    }
    return n ? sum / n : 0;
  };
  return domains
    .map((d) => ({ d, c: centre(d) }))
    .sort((a, b) => a.c - b.c || a.d.domain.domid - b.d.domain.domid)
    .map((x) => x.d);
}

function gutterLabel(lines: string[], y: number): string {
  return lines
    .map((line, i) =>
      text(GUTTER - 8, y + (i - (lines.length - 1) / 2) * 11 + 4, line, { class: "dm-label dm-muted", "text-anchor": "end" }),
    )
    .join("");
}

/**
 * Renders the memory map of `snapshot` (from `machine.snapshot()`) as an SVG string with
 * role="img", an aria-label summarising it, and a tooltip on every cell, line and arrow.
 * @example
 * const svg = renderMemoryMap(m.snapshot(), { trace: m.trace });
 */
export function renderMemoryMap(snapshot: MachineSnapshot, options: MemoryMapOptions = {}): string {
  checkSnapshot(snapshot);
  const { maxCells, maxLinks, width } = mapSettings(options);
  const s = snapshot;
  const a = collectActivity(s, options.trace, options.uptoSeq);
  const model = buildModel(s, a.extraIova);
  spreadLiveMarks(model, a);
  const candidates = candidateLists(model, a, maxCells);
  const summary = summarise(s, a);
  const prefix = options.idPrefix ?? `dm${shortHash(`${summary}|${options.uptoSeq ?? ""}|${options.trace?.length ?? 0}|${maxCells}`)}`;
  const x0 = GUTTER;
  const inner = width - GUTTER - RIGHT;
  const layers: MapLayers = { links: [], cells: [], arrows: [], labels: [] };
  let y = 6;

  if (options.title) {
    const heading = drawTitle(8, y, options.title, width - 16);
    layers.labels.push(heading.svg);
    y += heading.height;
  }
  const step = a.current ? ` · step ${a.current.seq}` : "";
  layers.labels.push(
    text(8, y + 11, `${s.arch} · ${size(s.memory)} · ${grouped(s.frameCount)} frames of ${size(s.pageSize)} · era ${s.era}${step}`, {
      class: "dm-muted dm-label",
    }),
  );
  y += 18;
  y = drawHaltBanner(s, width, y, layers.labels);

  // Domains (pseudo-physical frames).
  const domainY = y + 26;
  const domainRow = placeRow(byMachinePosition(model.domains), candidates, maxCells, x0, inner, domainY, CELL_H);
  if (domainRow.length) {
    layers.labels.push(gutterLabel(["guest", "PFNs"], domainY + CELL_H / 2));
    for (const band of domainRow) {
      layers.labels.push(drawBandLabel(band, y + 10), drawTicks(band, s.pageSize, y + 22, { maxRight: width - RIGHT }));
      layers.cells.push(drawCells(model, band, a, `${prefix}-hatch`));
    }
  }
  layers.arrows.push(drawBounces(a, domainRow, `${prefix}-plain`));
  y = domainY + CELL_H;
  let lines = 0;
  for (const band of domainRow) {
    const r = drawIncidentLabels(a.incidents, band, y + 2, x0, x0 + inner);
    layers.labels.push(r.svg);
    lines = Math.max(lines, r.lines);
  }
  y += domainRow.length ? LINK_GAP + lines * INCIDENT_LINE_HEIGHT : 8;

  // Machine frames.
  const [machine] = placeRow([model.machine], candidates, maxCells, x0, inner, y, CELL_H);
  layers.labels.push(gutterLabel(["machine", "MFNs"], y + CELL_H / 2));
  const machineTicksY = y + CELL_H + 10;
  layers.cells.push(drawCells(model, machine!, a, `${prefix}-hatch`));
  y += CELL_H + 13;
  const machineLabels = drawIncidentLabels(a.incidents, machine!, y, x0, x0 + inner);
  layers.labels.push(machineLabels.svg);
  y += machineLabels.lines * INCIDENT_LINE_HEIGHT;

  // IOVA spaces.
  const iova = drawIovaRow(model, a, candidates, { maxCells, x0, inner, y, hatch: `${prefix}-hatch` }, layers);
  const iovaRow = iova.row;
  y = iova.y;

  const links = linkLayers(model, a, domainRow, machine!, iovaRow, maxLinks);
  layers.links.push(links.svg);

  // Devices and their arrows.
  const bandsById = new Map<string, PlacedBand>([
    [machine!.spec.id, machine!],
    ...iovaRow.map((b): [string, PlacedBand] => [b.spec.id, b]),
  ]);
  const arrows = arrowsFor(a.touches, bandsById);
  // Address ticks under the machine and IOVA bands, drawn once the arrows arriving there are known.
  const ticks = (band: PlacedBand, tickY: number) =>
    drawTicks(band, s.pageSize, tickY, { arrows: arrows.filter((r) => r.band === band).map(targetX), maxRight: width - RIGHT });
  layers.labels.push(ticks(machine!, machineTicksY), ...iovaRow.map((band) => ticks(band, band.y + IOVA_H + 10)));
  if (s.devices.length) {
    y += DEVICE_GAP;
    const boxes = placeDevices(s, arrows, x0, inner, y);
    layers.arrows.push(drawDevices(boxes, arrows, (kind) => `${prefix}-${kind}`));
    layers.labels.push(gutterLabel(["devices"], y + 14));
    y += 28;
  }

  // Legend and notes.
  y += 16;
  const legend = drawLegend(mapLegend(model, a, domainRow, machine!, iovaRow, arrows, prefix), 8, width - 16, y);
  layers.labels.push(legend.svg);
  y += legend.height;
  if (links.dropped > 0) {
    layers.labels.push(text(8, y + 10, `${grouped(links.dropped)} more p2m/IOMMU lines not drawn (maxLinks)`, { class: "dm-small" }));
    y += 14;
  }
  const height = Math.ceil(y + 6);

  const label = `${options.title ? `${options.title}. ` : ""}${summary}`;
  return wrapSvg({ width, height, label, step: a.current?.seq, title: options.title, prefix }, layers);
}

/** The drawing's layers of SVG strings, back to front. */
interface MapLayers {
  links: string[];
  cells: string[];
  arrows: string[];
  labels: string[];
}

/** The IOMMU's IOVA bands at `at.y`, if any; returns them and the y below their labels. */
function drawIovaRow(
  model: MapModel,
  a: Activity,
  candidates: Map<string, number[]>,
  at: { maxCells: number; x0: number; inner: number; y: number; hatch: string },
  layers: MapLayers,
): { row: PlacedBand<IovaBand>[]; y: number } {
  if (!model.iommu.length) return { row: [], y: at.y };
  const y = at.y + IOVA_GAP;
  const row = placeRow(model.iommu, candidates, at.maxCells, at.x0, at.inner, y, IOVA_H);
  layers.labels.push(gutterLabel(["IOMMU", "IOVA"], y + IOVA_H / 2));
  let used = 0;
  for (const band of row) {
    layers.labels.push(drawBandLabel(band, y - 4));
    layers.cells.push(drawCells(model, band, a, at.hatch));
    const r = drawIncidentLabels(a.incidents, band, y + IOVA_H + 13, at.x0, at.x0 + at.inner);
    layers.labels.push(r.svg);
    used = Math.max(used, r.lines);
  }
  return { row, y: y + IOVA_H + 13 + used * INCIDENT_LINE_HEIGHT };
}

/** The `<svg>` element around the layers, with its accessible name and tooltip. */
function wrapSvg(
  o: { width: number; height: number; label: string; step: number | undefined; title: string | undefined; prefix: string },
  layers: MapLayers,
): string {
  return el(
    "svg",
    {
      xmlns: "http://www.w3.org/2000/svg",
      class: "dmalab dm-memory-map",
      viewBox: `0 0 ${o.width} ${o.height}`,
      width: o.width,
      height: o.height,
      role: "img",
      "aria-label": o.label,
      "data-step": o.step,
    },
    tooltip(`${o.title ?? "Memory map"} (hover a cell, line or arrow for details)`),
    `<style>${styleSheet()}</style>`,
    mapDefs(o.prefix),
    el("g", { class: "dm-links" }, ...layers.links),
    el("g", { class: "dm-cells" }, ...layers.cells),
    el("g", { class: "dm-arrows" }, ...layers.arrows),
    el("g", { class: "dm-labels" }, ...layers.labels),
  );
}

/** A halted machine's panic message across the top; returns the y below it. */
function drawHaltBanner(s: MachineSnapshot, width: number, y: number, labels: string[]): number {
  if (!s.halted) return y;
  labels.push(
    el("rect", { class: "dm-banner", x: 8, y, width: width - 16, height: 18, rx: 3 }),
    text(14, y + 13, fitText(`halted: ${s.halted.trim()}`, width - 28, 11), { fill: "#fff", style: "fill:#fff", "font-weight": 600 }),
  );
  return y + 24;
}

/** Checks the options a reader can pass and returns the map's cell, link and width limits. */
function mapSettings(options: MemoryMapOptions): { maxCells: number; maxLinks: number; width: number } {
  if (typeof options !== "object" || options === null)
    throw new SimError("INVALID_ARGUMENT", `renderMemoryMap: options must be an object, got ${describeValue(options)}`, "options");
  const o = options as Record<string, unknown>;
  const maxCells = integerOption(o, "maxCells", 64, 16, 2000);
  const maxLinks = integerOption(o, "maxLinks", 400, 0, 100_000);
  const width = integerOption(o, "width", 760, 320, 4000);
  if (options.uptoSeq !== undefined && (typeof options.uptoSeq !== "number" || Number.isNaN(options.uptoSeq))) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `renderMemoryMap: options.uptoSeq must be a trace event's seq (a number), got ${describeValue(options.uptoSeq)}`,
      "options.uptoSeq",
    );
  }
  if (options.trace !== undefined && !Array.isArray(options.trace)) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `renderMemoryMap: options.trace must be machine.trace (an array of events), got ${describeValue(options.trace)}`,
      "options.trace",
    );
  }
  return { maxCells, maxLinks, width };
}

/** The hatch pattern (frames not drawn one by one) and the arrow markers, ids prefixed per picture. */
function mapDefs(prefix: string): string {
  return el(
    "defs",
    {},
    el(
      "pattern",
      { id: `${prefix}-hatch`, width: 5, height: 5, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
      el("line", { x1: 0, y1: 0, x2: 0, y2: 5, class: "dm-hatch-line" }),
    ),
    arrowMarkers(prefix),
  );
}
