/**
 * Draws a placed band: its cells coloured by owner or kind, marks (live mapping, current step,
 * error, warning, granted page, bounce slots in use), elision labels, index ticks, the band's
 * label, and a tooltip on every cell.
 */
import { cellIndexOf } from "./elide.js";
import type { Activity, Mark } from "./map-activity.js";
import { follow, frameOwner, linkAt } from "./map-model.js";
import type { BandSpec, MapModel } from "./map-model.js";
import type { PlacedBand, PlacedCell } from "./map-layout.js";
import { compact, grouped, hex } from "./format.js";
import { SHORT_NOUN, elisionText, noun, nounOne } from "./map-words.js";
import { el, esc, fitText, text, textWidth, tooltip } from "./svg.js";
import { domainColour } from "./theme.js";

/** Marks merged over the indices a cell holds. */
export interface CellMarks {
  errors: string[];
  warnings: string[];
  notes: string[];
  live: boolean;
  current: boolean;
  granted: string[];
  bounce: boolean;
}

/** Per cell index of `band`: the merged marks of the indices it holds. */
export function cellMarks(band: PlacedBand, marks: ReadonlyMap<number, Mark> | undefined): Map<number, CellMarks> {
  const out = new Map<number, CellMarks>();
  if (!marks) return out;
  for (const [index, m] of marks) {
    const i = cellIndexOf(band.cells, index);
    if (i < 0) continue;
    let c = out.get(i);
    if (!c) out.set(i, (c = { errors: [], warnings: [], notes: [], live: false, current: false, granted: [], bounce: false }));
    c.errors.push(...m.errors);
    c.warnings.push(...m.warnings);
    c.notes.push(...m.notes);
    c.live ||= m.live;
    c.current ||= m.current;
    c.granted.push(...m.granted);
    c.bounce ||= m.bounce;
  }
  return out;
}

/** Index as shown: frame numbers for PFN/MFN bands, addresses for IOVA. */
export function indexLabel(spec: BandSpec, index: number, pageSize: number): string {
  return spec.unit === "iova" ? hex(index * pageSize) : hex(index);
}

function rangeLabel(spec: BandSpec, cell: PlacedCell, pageSize: number): string {
  const unit = spec.unit === "pfn" ? "PFN" : spec.unit === "mfn" ? "MFN" : "IOVA";
  const first = indexLabel(spec, cell.start, pageSize);
  return cell.count === 1 ? `${unit} ${first}` : `${unit} ${first}–${indexLabel(spec, cell.start + cell.count - 1, pageSize)}`;
}

function describe(model: MapModel, band: PlacedBand, cell: PlacedCell): string {
  const s = model.snapshot;
  const spec = band.spec;
  if (cell.elided) return `… ${grouped(cell.count)} ${noun(spec, cell)} … (${rangeLabel(spec, cell, s.pageSize)})`;
  const index = cell.start;
  if (spec.unit === "mfn") {
    const o = frameOwner(s, index);
    const who =
      !o || o.owner === "free" ? "free" : o.owner === "Xen" ? "Xen" : `${o.owner}${o.pfn === undefined ? "" : ` PFN ${hex(o.pfn)}`}`;
    return `MFN ${hex(index)} (machine ${hex(index * s.pageSize)}): ${who}${cell.kind === "pool" ? ", swiotlb bounce pool" : ""}`;
  }
  const target = follow(spec.links, index);
  if (spec.unit === "iova") {
    const perm = linkAt(spec.links, index)?.kind === "iommu-ro" ? "device may only read" : "device may read and write";
    const spare =
      cell.kind === "iova-mapped"
        ? ": allocated with its range but holds no PTE (IOVA allocations round up to a power of two)"
        : `: ${nounOne(spec, cell)}`;
    return `IOVA ${hex(index * s.pageSize)}${target === undefined ? spare : ` → MFN ${hex(target)} (${perm})`}`;
  }
  const name = spec.id.slice("domain:".length);
  const kind =
    cell.kind === "ram"
      ? ""
      : cell.kind === "hole"
        ? " (unpopulated)"
        : cell.kind === "pool"
          ? " (swiotlb pool)"
          : cell.kind === "tagged"
            ? ` (tagged foreign page of ${cell.owner}: not mapped, page->private holds the grant handle)`
            : ` (foreign frame of ${cell.owner ?? "another domain"})`;
  return `${name} PFN ${hex(index)}${target === undefined || cell.kind === "tagged" ? "" : ` → MFN ${hex(target)}`}${kind}`;
}

/** Fill classes of a cell. */
function fillClass(model: MapModel, band: PlacedBand, cell: PlacedCell): string {
  const colour = (owner: string | undefined) =>
    owner !== undefined && model.colourOf.has(owner) ? `dm-d${domainColour(model.colourOf.get(owner)!)}` : "dm-mixed";
  switch (cell.kind) {
    case "ram":
    case "pool":
    case "foreign":
      return colour(cell.owner);
    case "tagged":
      return `dm-tagged dm-s${domainColour(model.colourOf.get(cell.owner ?? "") ?? 0)}`;
    case "free":
      return "dm-free";
    case "xen":
      return "dm-xen";
    case "hole":
    case "iova-free":
      return "dm-hole";
    case "mixed":
      return "dm-mixed";
    case "iova-mapped": {
      if (cell.elided) return "dm-iova";
      const link = linkAt(band.spec.links, cell.start);
      return link === undefined ? "dm-iova dm-spare" : link.kind === "iommu-ro" ? "dm-iova dm-ro" : "dm-iova";
    }
    case "iova-queued":
      return "dm-queued";
    case "iova-reserved":
      return "dm-reserved";
    default:
      return "dm-unmapped";
  }
}

function elisionLabel(spec: BandSpec, cell: PlacedCell, y: number, h: number): string {
  const options = [
    elisionText(spec, cell),
    `… ${compact(cell.count)} ${SHORT_NOUN[cell.kind] ?? ""} …`.replace("  ", " "),
    compact(cell.count),
    "…",
  ];
  const fits = options.find((o) => textWidth(o, 9) <= cell.w - 3);
  if (!fits) return "";
  return text(cell.x + cell.w / 2, y + h / 2 + 3, fits, { class: "dm-small", "text-anchor": "middle" });
}

/** Draws a band's cells. `hatch` is the id of the swiotlb hatch pattern. */
export function drawCells(model: MapModel, band: PlacedBand, a: Activity, hatch: string): string {
  const marks = cellMarks(band, a.marks.get(band.spec.id));
  const { y, h } = band;
  const out: string[] = [];
  band.cells.forEach((cell, i) => {
    const m = marks.get(i);
    const parts: string[] = [
      el("rect", {
        class: `dm-cell ${fillClass(model, band, cell)}${cell.elided ? " dm-elided" : ""}`,
        x: cell.x,
        y,
        width: cell.w,
        height: h,
      }),
    ];
    if (cell.kind === "pool") parts.push(el("rect", { x: cell.x, y, width: cell.w, height: h, fill: `url(#${hatch})` }));
    if (cell.kind === "foreign")
      parts.push(
        el("rect", {
          class: `dm-tagged dm-s${domainColour(model.colourOf.get(band.spec.id.slice("domain:".length)) ?? 0)}`,
          x: cell.x + 1.5,
          y: y + 1.5,
          width: Math.max(0, cell.w - 3),
          height: h - 3,
        }),
      );
    if (cell.elided) parts.push(elisionLabel(band.spec, cell, y, h));
    if (m?.bounce) parts.push(el("rect", { class: "dm-bounce", x: cell.x + 1, y: y + h - 4, width: Math.max(1, cell.w - 2), height: 3 }));
    if (m && m.granted.length > 0) {
      const grantee = model.colourOf.get(m.granted[0]!);
      parts.push(el("path", { class: `dm-granted dm-d${domainColour(grantee ?? 0)}`, d: `M${cell.x + cell.w / 2 - 4} ${y - 1}h8l-4 6z` }));
    }
    const outline =
      m && (m.errors.length ? "dm-err-box" : m.warnings.length ? "dm-warn-box" : m.live ? "dm-live" : m.current ? "dm-current" : "");
    if (outline) parts.push(el("rect", { class: outline, x: cell.x + 1, y: y + 1, width: Math.max(1, cell.w - 2), height: h - 2 }));
    if (m?.current && outline !== "dm-current")
      parts.push(el("rect", { class: "dm-current", x: cell.x - 1.5, y: y - 1.5, width: cell.w + 3, height: h + 3 }));
    const notes = m ? [...m.errors.map((e) => `✕ ${e}`), ...m.warnings.map((w) => `⚠ ${w}`), ...m.notes] : [];
    const tip = [describe(model, band, cell), ...[...new Set(notes)].slice(0, 6)].join("\n");
    const data = band.spec.unit === "pfn" ? "data-pfn" : band.spec.unit === "mfn" ? "data-mfn" : "data-iova";
    const cls = `dm-c${m?.errors.length ? " dm-has-error" : ""}${m?.warnings.length ? " dm-has-warning" : ""}${m?.live ? " dm-has-live" : ""}${cell.elided ? " dm-has-elision" : ""}`;
    out.push(
      el(
        "g",
        {
          class: cls,
          [data]: cell.start,
          "data-count": cell.count > 1 ? cell.count : undefined,
          "data-kind": cell.kind,
          "data-owner": cell.owner,
        },
        ...parts,
        tooltip(tip),
      ),
    );
  });
  return el("g", { class: "dm-band", "data-band": band.spec.id }, ...out);
}

/** Where tick labels must not go: x of arrows arriving at the band's bottom edge, and the picture's right edge. */
export interface TickRoom {
  arrows?: readonly number[];
  maxRight?: number;
}

/** Moves a label [left, left + w] off any arrow (to its right, else to its left); undefined if it cannot fit. */
function clearOfArrows(left: number, w: number, arrows: readonly number[], maxRight: number): number | undefined {
  const crossing = (l: number) => arrows.filter((x) => x >= l - 4 && x <= l + w + 4);
  let at = Math.min(left, maxRight - w);
  for (let tries = 0; tries < 4; tries++) {
    const hit = crossing(at);
    if (hit.length === 0) return at;
    const after = Math.max(...hit) + 6;
    at = after + w <= maxRight ? after : Math.min(...hit) - 6 - w;
  }
  return undefined;
}

/**
 * Index labels (hex) where a stretch of cells starts, skipping any that would overlap. A label
 * whose cell an arrow arrives at moves beside the arrow, so the arrowhead never covers it.
 */
export function drawTicks(band: PlacedBand, pageSize: number, y: number, room: TickRoom = {}): string {
  const out: string[] = [];
  const maxRight = room.maxRight ?? Infinity;
  let right = -Infinity;
  band.cells.forEach((cell, i) => {
    const prev = band.cells[i - 1];
    if (cell.elided || !(i === 0 || prev?.elided || cell.start % 4 === 0)) return;
    const label = indexLabel(band.spec, cell.start, pageSize);
    const w = textWidth(label, 9);
    const left = clearOfArrows(cell.x, w, room.arrows ?? [], maxRight);
    if (left === undefined || left < right + 4) return;
    out.push(text(left, y, label, { class: "dm-small dm-halo" }));
    right = left + w;
  });
  return out.join("");
}

/** The band's name above it, shortened to its width, with the full description as tooltip. */
export function drawBandLabel(band: PlacedBand, y: number): string {
  const label = fitText(band.spec.label, Math.max(band.w, 60), 10);
  return el("text", { x: band.x, y, class: "dm-label", "font-weight": 600 }, esc(label), tooltip(band.spec.description));
}
