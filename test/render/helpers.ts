// Helpers for the renderer tests: render, parse, and read the picture back.
import { renderMemoryMap } from "../../src/render/index.js";
import type { MemoryMapOptions } from "../../src/render/index.js";
import type { Machine } from "../../src/sim/index.js";
import { byClass, findAll, parseXml } from "./xml.js";
import type { XmlElement } from "./xml.js";

/** Renders a machine's snapshot with its trace and parses the SVG (throws if malformed). */
export function drawMachine(m: Machine, options: MemoryMapOptions = {}): { svg: string; root: XmlElement } {
  const svg = renderMemoryMap(m.snapshot(), { trace: m.trace, ...options });
  return { svg, root: parseXml(svg) };
}

/** The cell groups of one band ("domain:dom0", "machine", "iova:device:sda"). */
export function cellsOf(root: XmlElement, band: string): XmlElement[] {
  const group = findAll(root, (e) => e.attrs["data-band"] === band)[0];
  if (!group) throw new Error(`no band ${band}`);
  return byClass(group, "dm-c");
}

/** The cell of `band` whose data attribute (data-pfn, data-mfn, data-iova) is `index`. */
export function cellAt(root: XmlElement, band: string, index: number): XmlElement {
  const cell = cellsOf(root, band).find((c) => [c.attrs["data-pfn"], c.attrs["data-mfn"], c.attrs["data-iova"]].includes(String(index)));
  if (!cell) throw new Error(`no cell ${index} in ${band}`);
  return cell;
}

/** The first rect of a cell: its geometry. */
export function rectOf(cell: XmlElement): { x: number; y: number; w: number; h: number; className: string } {
  const r = findAll(cell, (e) => e.name === "rect")[0]!;
  return {
    x: Number(r.attrs.x),
    y: Number(r.attrs.y),
    w: Number(r.attrs.width),
    h: Number(r.attrs.height),
    className: r.attrs.class ?? "",
  };
}

/** Lines drawn for one band's links (p2m or IOMMU PTEs). */
export function linksOf(root: XmlElement, band: string): XmlElement[] {
  const group = findAll(root, (e) => e.attrs["data-links"] === band)[0];
  return group ? findAll(group, (e) => e.name === "line") : [];
}
