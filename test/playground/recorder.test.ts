// The playground's `dma-lab` module records the reader's machines and tags every trace event with
// the reader's line that caused it (the trace view's "line" column and click-to-highlight).
import { beforeAll, describe, expect, test } from "vitest";
import { compile } from "../../src/playground/worker/compile.js";
import { buildUserFunction, headerLines, readerLineFromStack } from "../../src/playground/worker/user-function.js";
import {
  createRecorder,
  stackLocator,
  TRACE_POST_LIMIT,
  MACHINE_REPORT_LIMIT,
  type Recorder,
} from "../../src/playground/worker/recorder.js";
import { Machine } from "../../src/sim/index.js";

beforeAll(() => {
  // As in the runner worker: deep simulator calls must not push the reader's frame off the stack.
  (Error as { stackTraceLimit?: number }).stackTraceLimit = 100;
});

async function runWithRecorder(source: string): Promise<{ recorder: Recorder; error?: unknown }> {
  const compiled = compile(source);
  if (!compiled.ok) throw new Error(compiled.message);
  const recorder = createRecorder(await headerLines());
  const require = (name: string) => (name === "dma-lab" ? recorder.module : undefined);
  try {
    await buildUserFunction(compiled.js)(require, {}, { exports: {} });
    return { recorder };
  } catch (error) {
    return { recorder, error };
  } finally {
    recorder.stop();
  }
}

const SETUP = [
  'import { createMachine } from "dma-lab";',
  'const m = createMachine({ arch: "x86_64", memory: "1 GiB" });',
  'const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "256 MiB", privileged: true });',
  'const nic = m.attachDevice({ name: "eth0", domain: dom0, dmaMask: 64 });',
  'const dma = dom0.dmaApi(nic, "direct");',
  'const buf = dom0.alloc("8 KiB");',
];

describe("readerLineFromStack", () => {
  test("Chromium and Firefox frames, mapped by the header; the innermost reader frame wins", () => {
    const chromium = [
      "Error",
      "    at Trace.emit (http://x/_astro/runner.js:1:200)",
      "    at DmaApi.mapSingle (http://x/_astro/runner.js:1:900)",
      "    at helper (dma-lab-playground.ts:9:5)",
      "    at eval (dma-lab-playground.ts:14:1)",
    ].join("\n");
    expect(readerLineFromStack(chromium, 2)).toBe(7);
    const firefox = "emit@http://x/runner.js:1:200\nhelper@dma-lab-playground.ts:5:3\n@dma-lab-playground.ts:8:1\n";
    expect(readerLineFromStack(firefox, 2)).toBe(3);
  });

  test("no reader frame (or one inside the engine header) gives no line", () => {
    expect(readerLineFromStack("Error\n    at f (http://x/runner.js:1:1)", 2)).toBeUndefined();
    expect(readerLineFromStack("Error\n    at eval (dma-lab-playground.ts:2:1)", 2)).toBeUndefined();
  });
});

describe("createRecorder", () => {
  test("each event carries the reader line that caused it, including through a helper function", async () => {
    const { recorder, error } = await runWithRecorder(
      [
        ...SETUP, // lines 1-6
        "function mapIt(size: number): number {", // 7
        '  return dma.mapSingle(buf, size, "FROM_DEVICE");', // 8
        "}", // 9
        "const bus = mapIt(8192);", // 10
        "nic.write(bus, new Uint8Array(64));", // 11
        'dma.unmapSingle(bus, 8192, "FROM_DEVICE");', // 12
      ].join("\n"),
    );
    expect(error).toBeUndefined();
    expect(recorder.machines).toHaveLength(1);
    const lineOf = (kind: string) => recorder.machines[0]!.trace.filter((e) => e.kind === kind).map((e) => e.line);
    expect(lineOf("setup")).toEqual([3, 4, 5]);
    expect(lineOf("alloc")).toEqual([6]);
    expect(lineOf("map")).toEqual([8]);
    expect(lineOf("dma-write")).toEqual([11]);
    expect(lineOf("unmap")).toEqual([12]);
  });

  test("new Machine(...) is recorded too, and instanceof still holds", async () => {
    const { recorder, error } = await runWithRecorder(
      [
        'import { Machine, createMachine } from "dma-lab";',
        'const a = new Machine({ memory: "64 MiB" });',
        'const b = createMachine({ memory: "64 MiB", arch: "x86_64" });',
        'if (!(a instanceof Machine) || !(b instanceof Machine)) throw new Error("instanceof broke");',
        'a.createDomain({ name: "d", mode: "P2M", memory: "16 MiB" });',
      ].join("\n"),
    );
    expect(error).toBeUndefined();
    expect(recorder.machines).toHaveLength(2);
    expect(recorder.machines[0]).toBeInstanceOf(Machine);
    expect(recorder.machines[0]!.trace[0]!.line).toBe(5);
    const reports = recorder.reports();
    // Labels name what differs between the machines (arch, hence page size), not what they share.
    expect(reports.map((r) => r.label)).toEqual(["Machine 1 (line 2): ia64, 16 KiB pages", "Machine 2 (line 3): x86_64, 4 KiB pages"]);
  });

  test("labels tell machines apart: a loop iteration, differing settings, a reader-given name", async () => {
    const { recorder, error } = await runWithRecorder(
      [
        'import { createMachine } from "dma-lab";',
        'for (const era of ["2006", "modern", "modern"] as const) createMachine({ memory: "16 MiB", era });',
        'createMachine({ memory: "16 MiB", name: "spare" });',
      ].join("\n"),
    );
    expect(error).toBeUndefined();
    expect(recorder.labels()).toEqual([
      "Machine 1 (line 2, iteration 1): era 2006",
      "Machine 2 (line 2, iteration 2): era modern",
      "Machine 3 (line 2, iteration 3): era modern",
      "Machine 4 “spare” (line 3): era modern",
    ]);
    expect(new Set(recorder.labels()).size).toBe(4);
  });

  test("every machine can be reported, not only those sent with the results", async () => {
    const { recorder } = await runWithRecorder(
      `import { createMachine } from "dma-lab";\nfor (let i = 0; i < ${MACHINE_REPORT_LIMIT + 2}; i++) createMachine({ memory: "16 MiB" }).createDomain({ name: "d" + i, mode: "P2M", memory: "4 MiB" });`,
    );
    const last = recorder.report(MACHINE_REPORT_LIMIT + 1);
    expect(last?.index).toBe(MACHINE_REPORT_LIMIT + 2);
    expect(last?.label).toBe(`Machine ${MACHINE_REPORT_LIMIT + 2} (line 2, iteration ${MACHINE_REPORT_LIMIT + 2})`);
    expect(last?.trace.length).toBeGreaterThan(0);
    expect(recorder.report(MACHINE_REPORT_LIMIT + 2)).toBeUndefined();
  });

  test("machines a scenario helper builds are recorded, their events on the line that called it", async () => {
    const { recorder, error } = await runWithRecorder(
      [
        'import { blkbackRoundTrip } from "dma-lab";',
        "",
        'const r = blkbackRoundTrip({ backend: "p2m", op: "read", sectors: 8 });',
        "console.log(r.bytesIdentical);",
      ].join("\n"),
    );
    expect(error).toBeUndefined();
    expect(recorder.machines).toHaveLength(1);
    const [report] = recorder.reports();
    expect(report!.label).toMatch(/^Machine 1 \(line 3\): ia64/);
    expect(report!.trace.length).toBeGreaterThan(5);
    expect(new Set(report!.trace.map((e) => e.line))).toEqual(new Set([3]));
  });

  test("recording stops when asked", async () => {
    const recorder = createRecorder(undefined);
    recorder.stop();
    recorder.module.createMachine({ memory: "16 MiB" });
    expect(recorder.machines).toHaveLength(0);
  });

  test("after an uncaught error the machines are still reported, as structured-cloneable data", async () => {
    const { recorder, error } = await runWithRecorder(
      [...SETUP, 'dma.mapSingle(buf, 8192, "SIDEWAYS" as never);', 'console.log("never reached");'].join("\n"),
    );
    expect((error as { code?: string }).code).toBeDefined();
    const [report] = recorder.reports();
    expect(report!.stats.events.alloc).toBe(1);
    expect(report!.snapshot?.domains.map((d) => d.name)).toEqual(["dom0"]);
    expect(structuredClone(report)).toEqual(report);
  });

  test("the posted trace is capped, and the cap is reported; stats still count every event", async () => {
    const { recorder } = await runWithRecorder(
      [
        ...SETUP,
        `for (let i = 0; i < ${TRACE_POST_LIMIT}; i++) dma.unmapSingle(dma.mapSingle(buf, 64, "TO_DEVICE"), 64, "TO_DEVICE");`,
      ].join("\n"),
    );
    const [report] = recorder.reports();
    const total = recorder.machines[0]!.trace.length;
    expect(total).toBeGreaterThan(TRACE_POST_LIMIT);
    expect(report!.trace).toHaveLength(TRACE_POST_LIMIT);
    expect(report!.omitted).toBe(total - TRACE_POST_LIMIT);
    expect(Object.values(report!.stats.events).reduce((a, b) => a + b, 0)).toBe(total);
  });

  test("machine reports are capped", async () => {
    const { recorder } = await runWithRecorder(
      `import { createMachine } from "dma-lab";\nfor (let i = 0; i < ${MACHINE_REPORT_LIMIT + 3}; i++) createMachine({ memory: "16 MiB" });`,
    );
    expect(recorder.machines).toHaveLength(MACHINE_REPORT_LIMIT + 3);
    expect(recorder.reports()).toHaveLength(MACHINE_REPORT_LIMIT);
  });

  test("without a measured header, events get no line (and nothing breaks)", async () => {
    const recorder = createRecorder(undefined);
    const m = recorder.module.createMachine({ memory: "16 MiB" });
    recorder.stop();
    m.createDomain({ name: "d", mode: "P2M", memory: "4 MiB" });
    expect(recorder.machines).toEqual([m]);
    expect(m.trace[0]!.line).toBeUndefined();
    expect(recorder.reports()[0]!.label).toBe("Machine 1: ia64, 16 MiB, era modern");
  });
});

describe("stackLocator", () => {
  test("locators of one run share a budget of stack captures", () => {
    const budget = { left: 3 };
    const a = stackLocator(0, 10, budget);
    const b = stackLocator(0, 10, budget);
    const fakeReaderFrame = new Function("locate", "return locate();\n//# sourceURL=dma-lab-playground.ts") as (
      l: () => unknown,
    ) => unknown;
    const lines = [fakeReaderFrame(a), fakeReaderFrame(b), fakeReaderFrame(a), fakeReaderFrame(b)];
    expect(lines.map((l) => typeof l)).toEqual(["number", "number", "number", "undefined"]);
  });

  test("stops capturing stacks after its limit", () => {
    const locate = stackLocator(0, 2);
    const fakeReaderFrame = new Function("locate", "return locate();\n//# sourceURL=dma-lab-playground.ts") as (
      l: () => unknown,
    ) => unknown;
    expect(fakeReaderFrame(locate)).toBeTypeOf("number");
    expect(fakeReaderFrame(locate)).toBeTypeOf("number");
    expect(fakeReaderFrame(locate)).toBeUndefined();
  });
});
