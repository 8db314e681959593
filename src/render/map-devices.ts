/**
 * The device row and its arrows: each device is a box under the cells it touches; an arrow per
 * touched cell shows the data's direction (a DMA read points at the device, a write at memory),
 * a dashed line a live mapping the device may use, red a stray DMA or IOMMU fault, amber a stale
 * IOTLB hit or unmapped DMA.
 */
import { cellIndexOf } from "./elide.js";
import type { Touch } from "./map-activity.js";
import type { PlacedBand } from "./map-layout.js";
import type { MachineSnapshot } from "../sim/index.js";
import { el, text, textWidth, tooltip } from "./svg.js";

/** A device box. */
export interface DeviceBox {
  name: string;
  x: number;
  y: number;
  w: number;
  h: number;
  sub: string;
}

/** One arrow: a device's strongest touch of one cell. */
export interface Arrow {
  device: string;
  band: PlacedBand;
  cell: number;
  kind: Touch["kind"];
  notes: string[];
  seq: number;
}

/** Most arrows drawn per device (errors and the latest touches win). */
export const ARROWS_PER_DEVICE = 24;
const RANK: Record<Touch["kind"], number> = { error: 4, warning: 3, write: 2, read: 1, mapped: 0 };
const BOX_H = 28;

/** Groups touches per device and cell, keeping the strongest kind and the latest events. */
export function arrowsFor(touches: readonly Touch[], bands: ReadonlyMap<string, PlacedBand>): Arrow[] {
  const byKey = new Map<string, Arrow>();
  for (const t of touches) {
    const band = bands.get(t.band);
    if (!band) continue;
    const cell = cellIndexOf(band.cells, t.index);
    if (cell < 0) continue;
    const key = `${t.device}|${t.band}|${cell}`;
    let a = byKey.get(key);
    if (!a) byKey.set(key, (a = { device: t.device, band, cell, kind: t.kind, notes: [], seq: t.seq }));
    if (RANK[t.kind] > RANK[a.kind]) a.kind = t.kind;
    a.seq = Math.max(a.seq, t.seq);
    if (!a.notes.includes(t.note)) a.notes.push(t.note);
  }
  const perDevice = new Map<string, Arrow[]>();
  for (const a of byKey.values()) {
    const list = perDevice.get(a.device) ?? [];
    list.push(a);
    perDevice.set(a.device, list);
  }
  return [...perDevice.values()].flatMap((list) =>
    list.sort((x, y) => RANK[y.kind] - RANK[x.kind] || y.seq - x.seq).slice(0, ARROWS_PER_DEVICE),
  );
}

/** Where an arrow arrives: the bottom centre of its cell. */
export function targetX(a: Arrow): number {
  const c = a.band.cells[a.cell]!;
  return c.x + c.w / 2;
}

/** Places device boxes under their targets without overlaps, within [x0, x0 + width). */
export function placeDevices(s: MachineSnapshot, arrows: readonly Arrow[], x0: number, width: number, y: number): DeviceBox[] {
  const boxes = s.devices.map((d, i) => {
    const sub = `${d.domain} · ${d.iommuGroup === null ? "no IOMMU" : "IOMMU"}`;
    const w = Math.max(textWidth(d.name, 11), textWidth(sub, 9)) + 14;
    const mine = arrows.filter((a) => a.device === d.name);
    const want = mine.length ? mine.reduce((sum, a) => sum + targetX(a), 0) / mine.length : x0 + (width * (i + 0.5)) / s.devices.length;
    return { name: d.name, sub, w, h: BOX_H, y, x: want - w / 2 };
  });
  boxes.sort((a, b) => a.x - b.x);
  const gap = 8;
  for (let i = 0; i < boxes.length; i++) {
    const b = boxes[i]!;
    b.x = Math.max(b.x, i === 0 ? x0 : boxes[i - 1]!.x + boxes[i - 1]!.w + gap);
  }
  for (let i = boxes.length - 1; i >= 0; i--) {
    const b = boxes[i]!;
    b.x = Math.min(b.x, i === boxes.length - 1 ? x0 + width - b.w : boxes[i + 1]!.x - gap - b.w);
  }
  return boxes;
}

const ARROW_CLASS: Record<Touch["kind"], string> = {
  mapped: "dm-arrow dm-mapped",
  read: "dm-arrow dm-read",
  write: "dm-arrow dm-write",
  error: "dm-arrow dm-error",
  warning: "dm-arrow dm-warning",
};

/** The boxes and their arrows. `marker(kind)` names the arrowhead marker ids. */
export function drawDevices(
  boxes: readonly DeviceBox[],
  arrows: readonly Arrow[],
  marker: (kind: "plain" | "error" | "warning") => string,
): string {
  const out: string[] = [];
  for (const box of boxes) {
    const mine = arrows.filter((a) => a.device === box.name).sort((a, b) => targetX(a) - targetX(b));
    mine.forEach((a, j) => {
      const c = a.band.cells[a.cell]!;
      const sx = box.x + (box.w * (j + 1)) / (mine.length + 1);
      const sy = box.y;
      const tx = c.x + c.w / 2;
      const ty = a.band.y + a.band.h + 1;
      const my = (sy + ty) / 2;
      const head = a.kind === "error" ? marker("error") : a.kind === "warning" ? marker("warning") : marker("plain");
      const ends = a.kind === "mapped" ? {} : a.kind === "read" ? { "marker-start": `url(#${head})` } : { "marker-end": `url(#${head})` };
      const label =
        a.kind === "mapped"
          ? "mapped for"
          : a.kind === "read"
            ? "read by"
            : a.kind === "write"
              ? "written by"
              : a.kind === "error"
                ? "error:"
                : "warning:";
      out.push(
        el(
          "path",
          {
            class: ARROW_CLASS[a.kind],
            d: `M${r(sx)} ${r(sy)}C${r(sx)} ${r(my)} ${r(tx)} ${r(my)} ${r(tx)} ${r(ty)}`,
            "data-device": a.device,
            "data-kind": a.kind,
            ...ends,
          },
          tooltip(`${label} ${a.device}\n${a.notes.slice(-4).join("\n")}`),
        ),
      );
    });
  }
  for (const box of boxes) {
    out.push(
      el(
        "g",
        { class: "dm-device-box", "data-device": box.name },
        el("rect", { class: "dm-device", x: box.x, y: box.y, width: box.w, height: box.h, rx: 4 }),
        text(box.x + box.w / 2, box.y + 12, box.name, { "text-anchor": "middle", "font-weight": 600 }),
        text(box.x + box.w / 2, box.y + 23, box.sub, { class: "dm-small", "text-anchor": "middle" }),
        tooltip(`device ${box.name} (${box.sub})`),
      ),
    );
  }
  return out.join("");
}

function r(v: number): number {
  return Math.round(v * 10) / 10;
}

/** Arrowhead markers (ids `${prefix}-plain`, `-error`, `-warning`). */
export function arrowMarkers(prefix: string): string {
  const one = (kind: string, cls: string) =>
    el(
      "marker",
      { id: `${prefix}-${kind}`, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
      el("path", { d: "M0 0L10 5L0 10z", class: cls }),
    );
  return one("plain", "dm-head") + one("error", "dm-head-error") + one("warning", "dm-head-warning");
}
