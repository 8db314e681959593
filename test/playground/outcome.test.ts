// What a run did, as exercise checks and comparisons see it: console lines, the error that ended
// it, the machines; and the side-by-side numbers with their differences.
import { describe, expect, test } from "vitest";
import { CHECKS } from "../../src/playground/page/checks.js";
import { OutcomeBuilder } from "../../src/playground/page/outcome.js";
import { compareKinds, diffLines, formatDelta, summarize } from "../../src/playground/page/compare-summary.js";
import { runInNode } from "../support/run-in-node.js";

const STRAY = (backend: string) => `import { createMachine } from "dma-lab";
const m = createMachine({ arch: "ia64", memory: "1 GiB" });
m.createDomain({ name: "domU1", mode: "VP", memory: "256 MiB", layout: "contiguous" });
const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "256 MiB", privileged: true });
const nic = m.attachDevice({ name: "eth0", domain: dom0, dmaMask: 32 });
const dma = dom0.dmaApi(nic, "${backend}");
const rx = dom0.alloc("16 KiB");
const bus = dma.mapSingle(rx, 16384, "FROM_DEVICE");
if (dma.mappingError(bus)) throw new Error("mapping failed");
nic.write(bus, new TextEncoder().encode("incoming packet"));
dma.unmapSingle(bus, 16384, "FROM_DEVICE");
console.log("done");
`;

describe("OutcomeBuilder", () => {
  test("console lines of every level in order; the first error ends it; results bring the machines", () => {
    const b = new OutcomeBuilder();
    b.add({ type: "console", level: "log", text: "one" });
    b.add({ type: "console", level: "warn", text: "two" });
    b.add({ type: "error", name: "SimError", message: "bad", code: "INVALID_ARGUMENT", line: 3 });
    b.add({ type: "crash", message: "later" });
    expect(b.hasResults).toBe(false);
    b.add({ type: "results", machines: [], machinesOmitted: 2, labels: [], flags: { errors: 0, warnings: 0, dmaDebug: 0 } });
    expect(b.outcome()).toEqual({
      console: ["one", "two"],
      error: { name: "SimError", message: "bad", code: "INVALID_ARGUMENT" },
      machines: [],
    });
    expect(b.hasResults).toBe(true);
    expect(b.machinesOmitted).toBe(2);
    // An outcome is a copy: later lines do not change one already handed to a check.
    const first = b.outcome();
    b.add({ type: "console", level: "log", text: "three" });
    expect(first.console).toEqual(["one", "two"]);
  });

  test("the time limit and a runner crash are errors too, without a code", () => {
    const t = new OutcomeBuilder();
    t.add({ type: "timeout", limitMs: 3000 });
    expect(t.outcome().error).toEqual({ name: "TimeoutError", message: expect.stringContaining("3 s time limit") });
    const c = new OutcomeBuilder();
    c.add({ type: "crash", message: "The runner failed to load." });
    expect(c.outcome().error).toEqual({ name: "RunnerError", message: "The runner failed to load." });
  });

  test("a run in Node gives the outcome the page gets: console, uncaught error with its code, machines", async () => {
    const r = await runInNode(
      'import { createMachine } from "dma-lab";\nconst m = createMachine({ memory: "64 MiB" });\nconsole.log("before");\nm.createDomain({ name: "d", mode: "P2M", memory: "1 GiB" });\n',
    );
    const o = r.outcome();
    expect(o.console).toEqual(["before"]);
    expect(o.error).toMatchObject({ name: "SimError", code: expect.any(String) });
    expect(o.machines).toHaveLength(1);
  });
});

describe("the no-stray-dma check", () => {
  // "direct" hands the device a pseudo-physical address, which is a machine address only under
  // P==M (the thread's premise; Documentation/core-api/dma-api-howto.rst: the bus address is the
  // DMA-API's to compute): in a P2M dom0 the NIC writes into whoever owns that machine frame.
  test("fails on a driver whose DMA strays, passes once its DMA-API translates", async () => {
    const broken = CHECKS["no-stray-dma"]!((await runInNode(STRAY("direct"))).outcome());
    expect(broken).toEqual({ pass: false, message: expect.stringMatching(/^Still 1 stray DMA: stray DMA: eth0 wrote/) });
    const fixed = CHECKS["no-stray-dma"]!((await runInNode(STRAY("p2m"))).outcome());
    expect(fixed).toEqual({ pass: true, message: expect.stringMatching(/^No stray DMA/) });
  });

  test("a run that threw, or built no machine, does not pass", () => {
    expect(CHECKS["no-stray-dma"]!({ console: [], error: { name: "Error", message: "x" }, machines: [] }).pass).toBe(false);
    expect(CHECKS["no-stray-dma"]!({ console: ["hi"], error: null, machines: [] }).pass).toBe(false);
  });
});

describe("comparison numbers", () => {
  test("stats by kind summed over machines; rows that differ come first; errors counted from the traces", async () => {
    const a = summarize((await runInNode(STRAY("direct"))).outcome());
    const b = summarize((await runInNode(STRAY("p2m"))).outcome());
    expect(a.errorEvents).toBe(1);
    expect(b.errorEvents).toBe(0);
    expect(a.errorEventsPartial).toBe(false);
    expect(a.kinds.get("stray-dma")).toEqual({ events: 1, cost: expect.any(Number) });
    expect(a.totalCost).toBe([...a.kinds.values()].reduce((n, k) => n + k.cost, 0));
    const rows = compareKinds(a, b);
    const differing = rows.filter((r) => r.differs);
    expect(rows.slice(0, differing.length)).toEqual(differing);
    expect(differing.map((r) => r.kind)).toEqual(expect.arrayContaining(["stray-dma", "translate"]));
    expect(rows.find((r) => r.kind === "stray-dma")).toMatchObject({ a: { events: 1 }, b: { events: 0 } });
    expect(rows.find((r) => r.kind === "alloc")).toMatchObject({ differs: false });
  });

  test("console diff marks only the lines the other side did not print", () => {
    expect(diffLines(["a", "b", "c"], ["a", "x", "c", "d"])).toEqual({ a: [false, true, false], b: [false, true, false, true] });
    expect(diffLines([], ["only"])).toEqual({ a: [], b: [true] });
    // An inserted line does not mark everything after it.
    expect(diffLines(["1", "2", "3"], ["0", "1", "2", "3"]).b).toEqual([true, false, false, false]);
    // Past the table limit it compares by position, still without throwing.
    const long = Array.from({ length: 1200 }, (_, i) => String(i));
    expect(diffLines(long, long).a.some(Boolean)).toBe(false);
  });

  test("deltas read as signed, grouped numbers", () => {
    expect(formatDelta(1, 4)).toBe("+3");
    expect(formatDelta(1500, 300)).toBe("−1,200");
    expect(formatDelta(2, 2)).toBe("0");
  });
});
