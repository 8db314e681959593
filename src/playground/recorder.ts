// Records the machines a run creates (for the trace, stats and picture views) and tags each of
// their trace events with the reader's line that caused it.
import * as sim from '../sim/index';
import type { Machine } from '../sim/index';
import { machineHooks } from '../sim/index';
import { currentReaderLine } from './user-function';
import type { MachineReport } from './protocol';

/** Events per machine sent to the page; the rest are counted, not sent. */
export const TRACE_POST_LIMIT = 5000;
/** Machines reported per run (a loop creating machines must not flood the page). */
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
  /** Plain-data reports of the recorded machines (the first {@link MACHINE_REPORT_LIMIT}). */
  reports(): MachineReport[];
  /** Stops recording (machines created later are not seen). */
  stop(): void;
}

/**
 * Records every machine created from now on: the reader's own (`createMachine`, `new Machine`)
 * and those a scenario helper builds for it (`blkbackRoundTrip`, `compareStrategies`, ...).
 * `header` is the engine's line offset ({@link headerLines}); without it events get no line.
 * Only the machines that will be reported get a locator: stack captures cost time.
 */
export function createRecorder(header: number | undefined): Recorder {
  const machines: Machine[] = [];
  const createdOn = new Map<Machine, number | undefined>();
  const budget: Budget = { left: LOCATE_BUDGET };
  const hook = (m: Machine): void => {
    machines.push(m);
    if (header === undefined || machines.length > MACHINE_REPORT_LIMIT) return;
    createdOn.set(m, currentReaderLine(header));
    m.locateEvents(stackLocator(header, LOCATE_LIMIT, budget));
  };
  machineHooks.created = hook;
  return {
    module: sim,
    machines,
    reports: () => machines.slice(0, MACHINE_REPORT_LIMIT).map((m, i) => report(m, i, createdOn.get(m))),
    stop: () => {
      if (machineHooks.created === hook) machineHooks.created = undefined;
    },
  };
}

function label(m: Machine, index: number, line: number | undefined): string {
  const where = line === undefined ? '' : ` (line ${line})`;
  return `Machine ${index + 1}${where}: ${m.arch}, ${sim.formatSize(m.memory)}, era ${m.era}${m.hypervisor === 'none' ? ', bare metal' : ''}`;
}

function report(m: Machine, index: number, line: number | undefined): MachineReport {
  const events = m.trace;
  const trace = events.length > TRACE_POST_LIMIT ? events.slice(0, TRACE_POST_LIMIT) : [...events];
  const base = { index: index + 1, label: label(m, index, line), trace, omitted: events.length - trace.length, stats: m.stats() };
  try {
    return { ...base, snapshot: m.snapshot() };
  } catch (err) {
    return { ...base, snapshot: null, snapshotError: err instanceof Error ? err.message : String(err) };
  }
}
