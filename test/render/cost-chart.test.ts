// The cost chart draws compareStrategies' data: bars in the given order, one stacked segment per
// event kind with its share, labelled totals. The comparisons themselves are the simulator's
// (src/sim/scenarios/compare.ts); the chart must not reorder or re-scale them.
import { describe, expect, it } from "vitest";
import { compareStrategies, packetStream } from "../../src/sim/scenarios/index.js";
import type { StrategyResult } from "../../src/sim/scenarios/index.js";
import { SimError } from "../../src/sim/index.js";
import { kindColour, renderCostChart } from "../../src/render/index.js";
import { byClass, findAll, parseXml, textOf, tooltipOf } from "./xml.js";

const result = (name: string, breakdown: Record<string, number>, ops = 10, ok = true): StrategyResult => {
  const total = Object.values(breakdown).reduce((a, b) => a + b, 0);
  return {
    name,
    total,
    perOp: total / ops,
    ops,
    breakdown,
    events: {},
    metrics: {},
    ok,
    errors: ok ? [] : ["DMA: Memory would be corrupted"],
  };
};

describe("renderCostChart", () => {
  const data = [
    result("strict", { packet: 10_000, "iotlb-flush": 20_000, "iommu-map": 5_000 }),
    result("deferred", { packet: 10_000, "iommu-map": 5_000, "iotlb-flush": 80 }),
    result("none", { packet: 10_000, map: 100 }),
  ];

  it("draws one bar per strategy in the data's order, labelled with its name and per-op total", () => {
    const root = parseXml(renderCostChart(data, { opName: "packet" }));
    const rows = byClass(root, "dm-bar-row");
    expect(rows.map((r) => r.attrs["data-strategy"])).toEqual(["strict", "deferred", "none"]);
    expect(rows.map((r) => textOf(byClass(r, "dm-bar-name")[0]!))).toEqual(["strict", "deferred", "none"]);
    expect(rows.map((r) => textOf(byClass(r, "dm-bar-total")[0]!))).toEqual(["3,500", "1,508", "1,010"]);
    expect(rows.map((r) => Number(r.attrs["data-total"]))).toEqual([3500, 1508, 1010]);
    // Top to bottom in that order.
    const ys = rows.map((r) => Number(findAll(r, (e) => e.name === "rect")[0]!.attrs.y));
    expect([...ys].sort((a, b) => a - b)).toEqual(ys);
  });

  it("stacks the breakdown by kind, segments adding up to the bar and sized in proportion", () => {
    const root = parseXml(renderCostChart(data, { opName: "packet" }));
    const strict = byClass(root, "dm-bar-row")[0]!;
    const segments = byClass(strict, "dm-segment");
    expect(segments.map((s) => [s.attrs["data-kind"], Number(s.attrs["data-value"])])).toEqual([
      ["packet", 1000],
      ["iotlb-flush", 2000],
      ["iommu-map", 500],
    ]);
    const widths = segments.map((s) => Number(findAll(s, (e) => e.name === "rect")[0]!.attrs.width));
    expect(widths[1]! / widths[0]!).toBeCloseTo(2, 1);
    expect(tooltipOf(segments[1]!)).toBe("strict: iotlb-flush 2,000 cycles per packet (57%)");
  });

  it("keeps each kind's colour the same in every chart", () => {
    const a = parseXml(renderCostChart(data));
    const b = parseXml(renderCostChart([result("copy", { "bounce-copy": 5, "iotlb-flush": 1 })]));
    const colourOf = (root: ReturnType<typeof parseXml>, kind: string) =>
      findAll(root, (e) => e.attrs["data-kind"] === kind)[0]!.children.find((c) => typeof c !== "string" && c.name === "rect");
    expect((colourOf(a, "iotlb-flush") as { attrs: Record<string, string> }).attrs.class).toBe(
      (colourOf(b, "iotlb-flush") as { attrs: Record<string, string> }).attrs.class,
    );
    expect(kindColour("iotlb-flush")).not.toBe(kindColour("packet"));
  });

  it("can show totals instead of per-op figures, and annotations after them", () => {
    const root = parseXml(renderCostChart(data, { value: "total", annotate: (r) => `${r.name.length} letters` }));
    expect(textOf(byClass(root, "dm-bar-total")[0]!)).toBe("35,000 · 6 letters");
    expect(root.attrs["aria-label"]).toMatch(
      /^cycles by strategy: strict 35,000 \(6 letters\), of which packet 10,000, iotlb-flush 20,000, iommu-map 5,000; /,
    );
  });

  it("marks a strategy that failed", () => {
    const root = parseXml(renderCostChart([result("broken", { packet: 10 }, 1, false)]));
    const total = byClass(root, "dm-bar-total")[0]!;
    expect(textOf(total)).toBe("10 · failed");
    expect(total.attrs.class).toContain("dm-err-text");
    expect(tooltipOf(byClass(root, "dm-bar-row")[0]!)).toContain("failed: DMA: Memory would be corrupted");
  });

  it("draws a real comparison: a packet stream under strict and deferred IOTLB invalidation", () => {
    const results = compareStrategies(packetStream({ packets: 40, hypervisor: "none" }), [
      { name: "strict", mapping: "strict" },
      { name: "deferred", mapping: "deferred" },
    ]);
    const root = parseXml(renderCostChart(results, { opName: "packet" }));
    const rows = byClass(root, "dm-bar-row");
    expect(rows.map((r) => r.attrs["data-strategy"])).toEqual(["strict", "deferred"]);
    for (const [i, r] of results.entries()) {
      const sum = byClass(rows[i]!, "dm-segment").reduce((n, s) => n + Number(s.attrs["data-value"]), 0);
      expect(sum).toBeCloseTo(r.perOp, 0);
    }
    expect(root.attrs.role).toBe("img");
  });

  it("refuses what is not compareStrategies output", () => {
    expect(() => renderCostChart([{ nope: 1 }] as never)).toThrow(SimError);
    expect(() => renderCostChart(data, { width: 10 })).toThrow(
      "renderCostChart: options.width must be an integer from 320 to 4000, got 10",
    );
  });
});
