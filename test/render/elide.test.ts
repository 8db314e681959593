// Elision: the rule that keeps a 64 GiB machine's picture small. Whatever the segments and the
// candidates, the cells must tile the band exactly (no frame drawn twice or lost), fit the budget,
// and give cells to the most important candidates first.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ELIDED_UNITS, cellUnits, elide } from "../../src/render/elide.js";
import type { Segment } from "../../src/render/elide.js";

const segs = (...spec: [number, string][]): Segment[] => {
  let start = 0;
  return spec.map(([count, kind]) => {
    const s = { start, count, kind };
    start += count;
    return s;
  });
};

describe("elide", () => {
  it("draws every index when the band fits the budget", () => {
    const cells = elide(segs([10, "ram"], [5, "free"]), [], 64);
    expect(cells).toHaveLength(15);
    expect(cells.every((c) => !c.elided && c.count === 1)).toBe(true);
  });

  it("collapses a long stretch into one elided cell that counts its indices", () => {
    const cells = elide(segs([4, "ram"], [4000, "free"]), [0, 1, 2, 3], 16);
    expect(cells.map((c) => [c.start, c.count, c.kind, c.elided])).toEqual([
      [0, 1, "ram", false],
      [1, 1, "ram", false],
      [2, 1, "ram", false],
      [3, 1, "ram", false],
      [4, 4000, "free", true],
    ]);
  });

  it("gives the earlier candidates a cell first when not all fit", () => {
    const cells = elide(segs([1000, "ram"]), [500, 100, 900], 12);
    const detailed = cells.filter((c) => !c.elided).map((c) => c.start);
    expect(detailed).toContain(500);
    expect(detailed).toContain(100);
    expect(detailed).not.toContain(900);
  });

  it("falls back to mixed stretches when there are more segments than budget", () => {
    const many = segs(...Array.from({ length: 200 }, (_, i): [number, string] => [5, i % 2 ? "free" : "ram"]));
    const cells = elide(many, [3], 16);
    expect(cellUnits(cells)).toBeLessThanOrEqual(16);
    expect(cells.some((c) => c.kind === "mixed" && c.parts!.includes("ram") && c.parts!.includes("free"))).toBe(true);
    expect(cells.find((c) => c.start === 3)).toMatchObject({ count: 1, elided: false });
  });

  it("always tiles the band exactly and stays within the budget", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.constantFrom("ram", "free", "pool", "xen")), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.array(fc.nat(200_000), { maxLength: 60 }),
        fc.integer({ min: 2 * ELIDED_UNITS + 1, max: 200 }),
        (spec, candidates, budget) => {
          const segments = segs(...spec);
          const total = segments.reduce((n, s) => n + s.count, 0);
          const cells = elide(segments, candidates, budget);
          let pos = 0;
          for (const c of cells) {
            expect(c.start).toBe(pos);
            expect(c.elided ? c.count > ELIDED_UNITS : c.count === 1).toBe(true);
            pos += c.count;
          }
          expect(pos).toBe(total);
          // Within budget, unless the segments alone need more than one mixed cell can give.
          if (total > budget) expect(cellUnits(cells)).toBeLessThanOrEqual(Math.max(budget, ELIDED_UNITS));
        },
      ),
      { numRuns: 300 },
    );
  });
});
