// The stepper's core in Node: the runner's session answers "machine N at event seq" with the
// machine as it was then (a straddling xen-swiotlb map holds its bounce slots until the unmap),
// shared arrays cross once, bent answers are refused, history stops when the run's recording
// budget is spent, and Compare's two ways of lining up steps.
import { describe, expect, test } from "vitest";
import { runRequest } from "../../src/playground/worker/runner-core.js";
import { createStepSession } from "../../src/playground/worker/step-session.js";
import { PartStore, parseStepAnswer, parseStepRequest, type StepAnswer } from "../../src/playground/common/step-protocol.js";
import { createRecorder } from "../../src/playground/worker/recorder.js";
import { recordWithinBudget, historyRange } from "../../src/playground/worker/history-budget.js";
import { alignedIndex, lineSteps, stepBounds } from "../../src/playground/page/step-model.js";
import { Machine, createMachine, machineHooks, type TraceEvent } from "../../src/sim/index.js";
import type { RunnerMessage } from "../../src/playground/common/protocol.js";
import { STRADDLE_CODE } from "../support/straddle-code.js";

const STRADDLE = STRADDLE_CODE;

async function finishedRun(code: string) {
  const messages: RunnerMessage[] = [];
  const recorder = await runRequest({ code }, (m) => messages.push(m));
  const results = messages.find((m) => m.type === "results") as Extract<RunnerMessage, { type: "results" }>;
  return { recorder: recorder!, report: results.machines[0]! };
}

const ok = (answer: StepAnswer) => {
  if ("error" in answer) throw new Error(answer.error);
  return answer;
};

describe("the run as a session", () => {
  test("a straddling xen-swiotlb map holds bounce slots from the bounce to the unmap", async () => {
    const { recorder, report } = await finishedRun(STRADDLE);
    const session = createStepSession(recorder.machines);
    const store = new PartStore();
    const at = (kind: string) => report.trace.find((e) => e.kind === kind)!.seq;
    const usedAt = (seq: number) => {
      const wire = structuredClone(session.answer({ type: "step", id: seq, machine: 0, at: seq }));
      expect(parseStepAnswer(wire)).toBe(wire);
      return store.unpack(ok(wire)).swiotlb.reduce((n, p) => n + p.usedSlots, 0);
    };
    expect(report.steps).toEqual({ first: 1, last: report.trace.at(-1)!.seq });
    expect(usedAt(at("bounce"))).toBeGreaterThan(0);
    expect(usedAt(at("unmap"))).toBe(0);
    const bounce = ok(session.answer({ type: "step", id: 1, machine: 0, at: at("bounce") }));
    expect(bounce.changes.appeared.map((c) => c.kind)).toContain("bounce");
    const unmap = ok(session.answer({ type: "step", id: 2, machine: 0, at: at("unmap") }));
    expect(unmap.changes.gone.map((c) => c.kind)).toContain("bounce");
    expect(unmap.stats.events.unmap).toBe(1);
  });

  test("shared arrays cross once; an answer naming an unknown part is refused", async () => {
    const { recorder, report } = await finishedRun(STRADDLE);
    const session = createStepSession(recorder.machines);
    const last = report.trace.at(-1)!.seq;
    const first = ok(session.answer({ type: "step", id: 1, machine: 0, at: last }));
    const again = ok(session.answer({ type: "step", id: 2, machine: 0, at: last }));
    expect(first.parts.length).toBeGreaterThan(0);
    expect(again.parts).toEqual([]);
    expect(() => new PartStore().unpack(again)).toThrow(/never received/);
    const store = new PartStore();
    expect(store.unpack(first)).toEqual(store.unpack(again));
  });

  test("code that replaces the simulator’s methods or JSON.stringify after its run does not change the answers", async () => {
    // In a worker the run's realm is thrown away; here it is the test's, so put everything back.
    const stringify = JSON.stringify;
    const { snapshot, changes, stats } = Machine.prototype;
    try {
      const { recorder, report } = await finishedRun(`${STRADDLE}
const proto = Object.getPrototypeOf(m);
proto.snapshot = () => ({ forged: true });
proto.changes = () => ({ appeared: [{ kind: "bounce", key: "x", label: "FORGED" }], gone: [], changed: [] });
proto.stats = () => ({ forged: true });
JSON.stringify = () => '"FORGED"';
`);
      const session = createStepSession(recorder.machines);
      const seq = report.trace.find((e) => e.kind === "bounce")!.seq;
      const answer = ok(session.answer({ type: "step", id: 1, machine: 0, at: seq }));
      expect(answer.snapshotJson).not.toContain("FORGED");
      expect(answer.changes.appeared.map((c) => c.label).join()).not.toContain("FORGED");
      expect(new PartStore().unpack(answer).swiotlb[0]!.usedSlots).toBeGreaterThan(0);
      expect(answer.stats.events.bounce).toBe(1);
    } finally {
      JSON.stringify = stringify;
      Object.assign(Machine.prototype, { snapshot, changes, stats });
    }
  });

  test("asking outside the run is an answer with the reason, not a crash", async () => {
    const { recorder } = await finishedRun(STRADDLE);
    const session = createStepSession(recorder.machines);
    expect(session.answer({ type: "step", id: 1, machine: 0, at: 10_000 })).toMatchObject({
      error: expect.stringMatching(/stored trace events are 1 to/),
    });
    expect(session.answer({ type: "step", id: 2, machine: 5, at: 1 })).toMatchObject({ error: "the run has no machine 6" });
  });

  test("bent messages are not step answers or requests", () => {
    const stats = { events: {}, cost: { total: 0, byKind: {} }, time: 0, droppedEvents: 0 };
    const changes = { appeared: [], gone: [], changed: [] };
    const good = { type: "step", id: 1, snapshotJson: "{}", parts: [], changes, stats };
    expect(parseStepAnswer(good)).toBe(good);
    for (const bad of [
      { ...good, extra: 1 },
      { ...good, id: -1 },
      { ...good, parts: [{ part: 1, json: 2 }] },
      { ...good, changes: { appeared: [{ kind: "x" }], gone: [], changed: [] } },
      { type: "step", id: 1, error: 5 },
      { type: "step", id: 1, error: "x", snapshotJson: "{}" },
    ])
      expect(parseStepAnswer(bad)).toBeUndefined();
    expect(parseStepRequest({ type: "step", id: 1, machine: 0, at: 3 })).toBeDefined();
    expect(parseStepRequest({ type: "step", id: 1, machine: 0, at: 3, extra: true })).toBeUndefined();
    expect(() => new PartStore().unpack({ snapshotJson: '{"frames": 1}', parts: [] })).toThrow(/not a machine snapshot/);
  });
});

describe("recording within the budget", () => {
  test("history stops where the budget ran out, and later machines record none", () => {
    let clock = 0;
    const budget = { leftMs: 10 };
    const a = createMachine({ memory: "64 MiB" });
    recordWithinBudget(a, budget, 5000, () => clock);
    const d = a.createDomain({ name: "d", mode: "P2M", memory: "4 MiB" });
    // The clock stands still: moments cost nothing, every event is kept.
    for (let i = 0; i < 20; i++) d.alloc("4 KiB");
    expect(historyRange(a)).toEqual({ first: 1, last: a.trace.at(-1)!.seq });
    // Each reading moves the clock 2 ms, so each moment (read before and after it) costs 2 ms:
    // the 10 ms left last five events.
    const slow = createMachine({ memory: "64 MiB" });
    recordWithinBudget(slow, budget, 5000, () => (clock += 2));
    const e = slow.createDomain({ name: "e", mode: "P2M", memory: "4 MiB" });
    for (let i = 0; i < 10; i++) e.alloc("4 KiB");
    const range = historyRange(slow)!;
    expect(range.last).toBe(5);
    expect(slow.trace.length).toBeGreaterThan(5);
    expect(() => slow.snapshot({ at: 6 })).toThrow(/history keeps the moments of events 1 to 5/);
    const late = createMachine({ memory: "64 MiB" });
    recordWithinBudget(late, budget, 5000);
    expect(historyRange(late)).toBeUndefined();
  });

  test("the first moments of a run are kept whatever they cost", () => {
    let clock = 0;
    const budget = { leftMs: 0, floor: 4 };
    const m = createMachine({ memory: "64 MiB" });
    recordWithinBudget(m, budget, 5000, () => (clock += 100));
    const d = m.createDomain({ name: "d", mode: "P2M", memory: "4 MiB" });
    for (let i = 0; i < 10; i++) d.alloc("4 KiB");
    expect(historyRange(m)!.last).toBe(4);
  });

  test("the recorder records the history of what the reader builds", () => {
    const recorder = createRecorder(undefined);
    try {
      const m = createMachine({ memory: "64 MiB" });
      m.createDomain({ name: "d", mode: "P2M", memory: "4 MiB" });
      expect(recorder.report(0)!.steps).toEqual({ first: 1, last: m.trace.length });
    } finally {
      recorder.stop();
      machineHooks.created = undefined;
    }
  });
});

describe("lining up two runs", () => {
  const ev = (seq: number, line?: number): TraceEvent =>
    ({ seq, kind: "map", cost: 0, message: "", severity: "info", time: 0, ...(line !== undefined && { line }) }) as TraceEvent;
  const a = [ev(1, 5), ev(2, 5), ev(3, 6), ev(4, 7)];
  const b = [ev(1, 5), ev(2, 6), ev(3, 6), ev(4, 6), ev(5, 7), ev(6, 8)];

  test("by line, each run of one line is a step shown at its last event", () => {
    expect(lineSteps(a)).toEqual([1, 2, 3]);
    expect(lineSteps(b)).toEqual([0, 3, 4, 5]);
    // A's line-6 step (index 2) meets B's line-6 step (ending at index 3).
    expect(alignedIndex(a, b, 2, "line")).toBe(3);
    expect(alignedIndex(a, b, 3, "line")).toBe(4);
  });

  test("by event, the same index, clamped to the shorter run", () => {
    expect(alignedIndex(a, b, 2, "event")).toBe(2);
    expect(alignedIndex(b, a, 5, "event")).toBe(3);
  });

  test("the steps are the recorded ones", () => {
    expect(stepBounds({ trace: b, steps: { first: 2, last: 4 } })).toEqual({ from: 1, to: 3 });
    expect(stepBounds({ trace: b })).toBeUndefined();
  });
});
