// The runner's parts that need no browser: the protocol's shape checks (a message that does not
// match is not the runner's), the guarded dma-lab module (a misspelt import names the export),
// pending work (a run waits for its timers up to the time limit), and the status line's words.
import { describe, expect, test } from "vitest";
import { packSnapshots, parseRunnerMessage, unpackSnapshots, type MachineReport } from "../../src/playground/common/protocol.js";
import { closestExport, guardExports } from "../../src/playground/worker/module-exports.js";
import { trackTimers } from "../../src/playground/worker/pending-work.js";
import { statusParts } from "../../src/playground/page/run-status.js";
import { runInNodeDetailed } from "../support/run-in-node.js";

describe("parseRunnerMessage", () => {
  test("accepts each protocol message and rejects bent ones", () => {
    const good = [
      { type: "ready" },
      { type: "started" },
      { type: "console", level: "warn", text: "hi" },
      { type: "error", name: "SimError", message: "bad", line: 3, code: "INVALID_SIZE" },
      { type: "results", machines: [], machinesOmitted: 0, labels: [], flags: { errors: 0, warnings: 0, dmaDebug: 0 } },
      { type: "closed" },
      { type: "done", end: "finished", durationMs: 2.5 },
      { type: "done", end: "time limit", durationMs: 3000, pending: { timers: 1, awaiting: false } },
    ];
    for (const msg of good) expect(parseRunnerMessage(msg)).toBe(msg);
    const bad: unknown[] = [
      null,
      "done",
      [{ type: "done" }],
      { type: "DONE", end: "finished", durationMs: 1 },
      { type: "done", end: "crashed", durationMs: 1 },
      { type: "done", end: "finished", durationMs: -1 },
      { type: "console", level: "shout", text: "x" },
      { type: "console", level: "log", text: 42 },
      { type: "error", name: "E", message: "m", line: 1.5 },
      { type: "results", machines: "none", machinesOmitted: 0, labels: [], flags: { errors: 0, warnings: 0, dmaDebug: 0 } },
      { type: "results", machines: [{ index: 1 }], machinesOmitted: 0, labels: [], flags: { errors: 0, warnings: 0, dmaDebug: 0 } },
      { type: "machine", index: "x", report: {} },
      { type: "toString" },
      { type: "closed", extra: 1 },
      { type: "started", durationMs: 1 },
      { type: "constructor" },
    ];
    for (const msg of bad) expect(parseRunnerMessage(msg)).toBeUndefined();
  });
});

describe("snapshots on the wire", () => {
  test("cross as JSON text and read back as the same snapshot, parsed on first use", async () => {
    const { messages } = await runInNodeDetailed(
      'import { createMachine } from "dma-lab";\ncreateMachine({ memory: "16 MiB" }).createDomain({ name: "d", mode: "P2M", memory: "4 MiB" });\n',
    );
    const results = messages.find((m) => m.type === "results") as Extract<(typeof messages)[number], { type: "results" }>;
    const original = results.machines[0]!.snapshot;
    expect(original?.domains.map((d) => d.name)).toContain("d");
    const wire = structuredClone({ ...results, machines: packSnapshots(results.machines) });
    expect(parseRunnerMessage(wire)).toBe(wire);
    expect(wire.machines[0]!.snapshot).toBeNull();
    unpackSnapshots(wire.machines as MachineReport[]);
    expect(wire.machines[0]!.snapshotJson).toBeUndefined();
    expect(wire.machines[0]!.snapshot).toEqual(original);
  });
});

describe("the dma-lab module guard", () => {
  test("a missing export throws, naming it and the closest real one", () => {
    const lab = guardExports({ createMachine: () => 1, Machine: class {} });
    expect(() => (lab as Record<string, unknown>).createMachin).toThrow(
      'dma-lab has no export "createMachin" (did you mean createMachine?)',
    );
    expect(() => (lab as Record<string, unknown>).frobnicate).toThrow(/^dma-lab has no export "frobnicate"$/);
    expect((lab as Record<string, unknown>).__esModule).toBe(true);
    expect(lab.createMachine()).toBe(1);
    expect(closestExport("machine", ["Machine", "createMachine"])).toBe("Machine");
  });

  test("a misspelt import fails on the line that uses it, with that message", async () => {
    const { builder } = await runInNodeDetailed('import { createMachin } from "dma-lab";\n\ncreateMachin({ memory: "16 MiB" });\n');
    expect(builder.outcome().error).toEqual({
      name: "ImportError",
      message: 'dma-lab has no export "createMachin" (did you mean createMachine?)',
    });
    expect(builder.errorLine).toBe(3);
  });

  test("type-only imports and namespace imports still work", async () => {
    const { builder, done } = await runInNodeDetailed(
      'import * as lab from "dma-lab";\nimport type { MachineConfig } from "dma-lab";\nconst c: MachineConfig = { memory: "16 MiB", name: "tiny" };\nconsole.log(lab.createMachine(c).name);\n',
    );
    expect(builder.outcome()).toMatchObject({ console: ["tiny"], error: null });
    expect(done.end).toBe("finished");
  });
});

describe("pending work", () => {
  function fakeScope() {
    return { setTimeout, clearTimeout, setInterval, clearInterval } as unknown as Parameters<typeof trackTimers>[0];
  }

  test("settles once timers have fired and their promise continuations have run", async () => {
    const scope = fakeScope();
    const tracker = trackTimers(scope, () => undefined);
    const seen: string[] = [];
    scope.setTimeout(() => Promise.resolve().then(() => seen.push("continuation")), 20);
    expect(tracker.pending).toBe(1);
    expect(await tracker.settled(performance.now() + 2000)).toBe(0);
    expect(seen).toEqual(["continuation"]);
  });

  test("an interval never cleared is still pending at the deadline; a cleared one is not", async () => {
    const scope = fakeScope();
    const tracker = trackTimers(scope, () => undefined);
    const forever = scope.setInterval(() => undefined, 5);
    const cleared = scope.setInterval(() => undefined, 5);
    scope.clearInterval(cleared);
    expect(await tracker.settled(performance.now() + 50)).toBe(1);
    scope.clearInterval(forever);
    expect(tracker.pending).toBe(0);
  });

  test("an error in a callback is reported; a string handler is refused", async () => {
    const scope = fakeScope();
    const errors: unknown[] = [];
    const tracker = trackTimers(scope, (err) => errors.push(err));
    scope.setTimeout(() => {
      throw new Error("late");
    }, 1);
    await tracker.settled(performance.now() + 1000);
    expect(errors).toEqual([new Error("late")]);
    expect(() => scope.setTimeout("alert(1)" as unknown as () => void, 1)).toThrow(/take a function/);
  });
});

describe("status line", () => {
  const flags = { errors: 3, warnings: 1, dmaDebug: 2 };
  test("says how the run ended, its machines, and links to the trace’s errors and warnings", () => {
    expect(statusParts({ end: { type: "end", status: "finished", durationMs: 12.4 }, machines: 2, flags })).toEqual([
      { text: "Finished in 12 ms" },
      { text: "2 machines" },
      { text: "dma-debug: 2 errors", filter: { kind: "dma-debug" } },
      { text: "other trace error: 1", filter: { severity: "error" } },
      { text: "trace warning: 1", filter: { severity: "warning" } },
    ]);
    expect(
      statusParts({ end: { type: "end", status: "failed", durationMs: 3 }, machines: 0, error: { name: "TypeError", line: 4 } })[0]!.text,
    ).toBe("Failed after 3 ms: TypeError on line 4");
    expect(
      statusParts({ end: { type: "end", status: "time limit", durationMs: 3001, pending: { timers: 2, awaiting: false } } })[0]!.text,
    ).toBe("Time limit: stopped after 3.0 s (2 timers pending)");
    expect(statusParts({ end: { type: "end", status: "stopped", durationMs: 1500 } })).toEqual([{ text: "Stopped by you after 1.5 s" }]);
    expect(statusParts({ end: { type: "end", status: "crashed", durationMs: 0.2, message: "out of memory" } })[0]!.text).toBe(
      "Crashed after <1 ms: out of memory",
    );
  });
});
