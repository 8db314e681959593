// The two layouts of every build-time picture (src/render/figure-layouts.ts): each drawn at its own
// width, the narrow one with the cost chart's totals under the bars, address labels clear of the
// arrows that arrive at their cells, and headings that wrap rather than lose their end.
import { describe, expect, it } from "vitest";
import { FIGURE_LAYOUTS, costChartVariants, memoryMapVariants } from "../../src/render/figure-layouts.js";
import { SCENARIOS, runScenario } from "../../src/components/memory-map-scenarios.js";
import { LITERATURE } from "../../src/sim/scenarios/index.js";
import { textWidth } from "../../src/render/svg.js";
import { findAll, parseXml } from "./xml.js";
import type { XmlElement } from "./xml.js";

const textOf = (e: XmlElement): string => e.children.map((c) => (typeof c === "string" ? c : c.name === "title" ? "" : textOf(c))).join("");
const viewBoxWidth = (root: XmlElement) => Number(root.attrs.viewBox!.split(" ")[2]);

describe("figure layouts", () => {
  it.each(Object.keys(SCENARIOS))("%s: one memory map per layout, at that layout's width, with distinct ids", (name) => {
    const p = runScenario(name);
    const variants = memoryMapVariants(p.snapshot, { trace: p.trace, title: p.title, idPrefix: `mm-${name}` });
    expect(variants.map((v) => v.layout.name)).toEqual(FIGURE_LAYOUTS.map((l) => l.name));
    const ids = new Set<string>();
    for (const v of variants) {
      const root = parseXml(v.svg);
      expect(viewBoxWidth(root)).toBe(v.layout.width);
      for (const e of findAll(root, (x) => x.attrs.id !== undefined)) {
        expect(ids.has(e.attrs.id!)).toBe(false);
        ids.add(e.attrs.id!);
      }
    }
  });

  it("a narrow memory map keeps its whole heading, on two lines", () => {
    const p = runScenario("iommu-lazy-stale");
    const narrow = parseXml(memoryMapVariants(p.snapshot, { trace: p.trace, title: p.title, idPrefix: "t" })[0]!.svg);
    const lines = findAll(narrow, (e) => e.attrs.class === "dm-title").map(textOf);
    expect(lines.length).toBe(2);
    expect(lines.join(" ")).toBe(p.title);
  });

  it("address labels never sit where a device's arrow arrives", () => {
    for (const name of Object.keys(SCENARIOS)) {
      const p = runScenario(name);
      for (const v of memoryMapVariants(p.snapshot, { trace: p.trace, idPrefix: name })) {
        const root = parseXml(v.svg);
        // Arrow paths end at (x, y) on a band's bottom edge: "... x y" is the last pair of the path.
        const ends = findAll(
          root,
          (e) => e.name === "path" && (e.attrs.class ?? "").startsWith("dm-arrow") && e.attrs["data-device"] !== undefined,
        ).map((e) => {
          const nums = e.attrs.d!.match(/-?\d+(\.\d+)?/g)!.map(Number);
          return { x: nums.at(-2)!, y: nums.at(-1)! };
        });
        const ticks = findAll(root, (e) => e.name === "text" && e.attrs.class === "dm-small dm-halo");
        for (const t of ticks) {
          const left = Number(t.attrs.x);
          const right = left + textWidth(textOf(t), 9);
          const y = Number(t.attrs.y);
          const under = ends.filter((a) => a.x >= left - 2 && a.x <= right + 2 && y > a.y && y - a.y < 20);
          expect(under, `${name} ${v.layout.name}: tick ${textOf(t)}`).toEqual([]);
        }
      }
    }
  });

  it("a narrow cost chart puts each total under its bar, inside the picture", () => {
    const study = LITERATURE.find((s) => s.id === "markuze")!;
    const [narrow, wide] = costChartVariants(study.simulated.results, {
      title: study.claim,
      opName: "packet",
      annotate: () => "1 × strict map/unmap",
    }).map((v) => parseXml(v.svg));
    const barsAndTotals = (root: XmlElement) =>
      findAll(root, (e) => e.attrs.class === "dm-bar-row").map((row) => {
        const rects = findAll(row, (e) => e.name === "rect");
        const total = findAll(row, (e) => e.name === "text" && (e.attrs.class ?? "").startsWith("dm-bar-total"))[0]!;
        return {
          barBottom: Number(rects[0]!.attrs.y) + Number(rects[0]!.attrs.height),
          barRight: Math.max(...rects.map((r) => Number(r.attrs.x) + Number(r.attrs.width))),
          total,
        };
      });
    for (const { barBottom, total } of barsAndTotals(narrow!)) {
      expect(Number(total.attrs.y)).toBeGreaterThan(barBottom);
      expect(Number(total.attrs.x) + textWidth(textOf(total), 11)).toBeLessThanOrEqual(viewBoxWidth(narrow!));
    }
    for (const { barRight, total } of barsAndTotals(wide!)) expect(Number(total.attrs.x)).toBeGreaterThan(barRight);
  });
});
