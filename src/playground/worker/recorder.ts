// Records the machines a run creates (for the trace, stats and picture views) and tags each of
// their trace events with the reader's line that caused it.
import * as sim from "../../sim/index.js";
import type { Machine } from "../../sim/index.js";
import { machineHooks } from "../../sim/index.js";
import { currentReaderLine } from "./user-function.js";
import type { MachineReport, TraceFlags } from "../common/protocol.js";
import { HISTORY_BUDGET_MS, HISTORY_FLOOR, historyRange, recordWithinBudget, type HistoryBudget } from "./history-budget.js";

/** Events per machine sent to the page; the rest are counted, not sent. */
export const TRACE_POST_LIMIT = 5000;
/** Machines reported in full with a run's results; the page asks for any other one when shown. */
export const MACHINE_REPORT_LIMIT = 8;
/**
 * Events that get a line, per machine and per run. Each costs a stack capture (~10 µs on V8):
 * a comparison of strategies (8 machines of thousands of events) must not spend a second on it.
 * Events past the per-machine limit are not sent to the page anyway.
 */
export const LOCATE_LIMIT = TRACE_POST_LIMIT;
export const LOCATE_BUDGET = 20_000;

/** Stack captures left, shared by the locators of one run. */
interface Budget {
  left: number;
}

/** A function for `machine.locateEvents`: the reader's line of the current call stack, for the first `limit` calls. */
export function stackLocator(header: number, limit = LOCATE_LIMIT, budget: Budget = { left: Infinity }): () => number | undefined {
  let calls = 0;
  return () => {
    if (++calls > limit || budget.left <= 0) return undefined;
    budget.left--;
    return currentReaderLine(header);
  };
}

export interface Recorder {
  /** What `require("dma-lab")` returns: the simulator itself. */
  readonly module: typeof sim;
  /** Machines created so far, in order. */
  readonly machines: readonly Machine[];
  /** Plain-data reports of the first {@link MACHINE_REPORT_LIMIT} machines (the rest: {@link report}). */
  reports(): MachineReport[];
  /** The report of machine `index` (0-based), any of them; undefined if there is none. */
  report(index: number): MachineReport | undefined;
  /** A label for every machine, saying what tells it apart from the others. */
  labels(): string[];
  /** Error and warning events over every machine's stored trace. */
  flags(): TraceFlags;
  /** Stops recording (machines created later are not seen). */
  stop(): void;
}

/**
 * Records every machine created from now on: the reader's own (`createMachine`, `new Machine`)
 * and those a scenario helper builds for it (`blkbackRoundTrip`, `compareStrategies`, ...).
 * `header` is the engine's line offset ({@link headerLines}); without it events get no line.
 * Stack captures cost time: all machines share one budget of them.
 */
export function createRecorder(
  header: number | undefined,
  historyBudget: HistoryBudget = { leftMs: HISTORY_BUDGET_MS, floor: HISTORY_FLOOR },
): Recorder {
  const machines: Machine[] = [];
  const createdOn = new Map<Machine, number | undefined>();
  const budget: Budget = { left: LOCATE_BUDGET };
  const hook = (m: Machine): void => {
    machines.push(m);
    // The stepper's history: every event the page is sent, while the run's budget lasts.
    recordWithinBudget(m, historyBudget, TRACE_POST_LIMIT);
    if (header === undefined) return;
    createdOn.set(m, currentReaderLine(header));
    m.locateEvents(stackLocator(header, LOCATE_LIMIT, budget));
  };
  machineHooks.created = hook;
  const labels = (): string[] => machineLabels(machines, createdOn);
  const reportOf = (i: number, all: string[]): MachineReport | undefined => (machines[i] ? report(machines[i], i, all[i]!) : undefined);
  return {
    module: sim,
    machines,
    reports: () => {
      const all = labels();
      return machines.slice(0, MACHINE_REPORT_LIMIT).map((_, i) => reportOf(i, all)!);
    },
    report: (i) => reportOf(i, labels()),
    labels,
    flags: () => traceFlags(machines),
    stop: () => {
      if (machineHooks.created === hook) machineHooks.created = undefined;
    },
  };
}

function traceFlags(machines: readonly Machine[]): TraceFlags {
  const flags: TraceFlags = { errors: 0, warnings: 0, dmaDebug: 0 };
  for (const m of machines) {
    for (const e of m.trace) {
      if (e.severity === "error") flags.errors++;
      else if (e.severity === "warning") flags.warnings++;
      if (e.kind === "dma-debug") flags.dmaDebug++;
    }
  }
  return flags;
}

/** The settings a label can name, as the reader would write them. */
function settings(m: Machine): [string, string][] {
  return [
    ["arch", m.arch],
    ["memory", sim.formatSize(m.memory)],
    ["page", `${sim.formatSize(m.pageSize)} pages`],
    ["era", `era ${m.era}`],
    ["hypervisor", m.hypervisor === "none" ? "bare metal" : "Xen"],
    ["debug", m.debugEnabled ? "dma-debug on" : "dma-debug off"],
    [
      "swiotlb",
      `swiotlb ${m.swiotlbConfig.size === undefined ? "default" : sim.formatSize(m.swiotlbConfig.size)}${m.swiotlbConfig.force ? " forced" : ""}`,
    ],
  ];
}

/**
 * "Machine 2 “fast” (line 5, iteration 2): era 2006": the reader's name, the line that created it,
 * which time round a loop (when one line created several), and the settings in which the run's
 * machines differ. A lone machine is described by its main settings instead.
 */
export function machineLabels(machines: readonly Machine[], createdOn: ReadonlyMap<Machine, number | undefined>): string[] {
  const all = machines.map(settings);
  const differing = all[0]?.map(([key]) => key).filter((key) => new Set(all.map((s) => s.find(([k]) => k === key)![1])).size > 1) ?? [];
  const perLine = new Map<number | undefined, number>();
  for (const m of machines) perLine.set(createdOn.get(m), (perLine.get(createdOn.get(m)) ?? 0) + 1);
  const seen = new Map<number | undefined, number>();
  return machines.map((m, i) => {
    const line = createdOn.get(m);
    const iteration = (seen.get(line) ?? 0) + 1;
    seen.set(line, iteration);
    const where = [line !== undefined && `line ${line}`, perLine.get(line)! > 1 && `iteration ${iteration}`].filter(Boolean).join(", ");
    const name = m.name === undefined ? "" : ` “${m.name}”`;
    const shown =
      machines.length === 1
        ? `${m.arch}, ${sim.formatSize(m.memory)}, era ${m.era}${m.hypervisor === "none" ? ", bare metal" : ""}`
        : all[i]!.filter(([key]) => differing.includes(key))
            .map(([, text]) => text)
            .join(", ");
    return `Machine ${i + 1}${name}${where ? ` (${where})` : ""}${shown ? `: ${shown}` : ""}`;
  });
}

function report(m: Machine, index: number, label: string): MachineReport {
  const events = m.trace;
  const trace = events.length > TRACE_POST_LIMIT ? events.slice(0, TRACE_POST_LIMIT) : [...events];
  const steps = historyRange(m);
  const base = { index: index + 1, label, trace, omitted: events.length - trace.length, stats: m.stats(), ...(steps && { steps }) };
  try {
    return { ...base, snapshot: m.snapshot() };
  } catch (err) {
    return { ...base, snapshot: null, snapshotError: err instanceof Error ? err.message : String(err) };
  }
}
