// The `dma-lab` module as reader code sees it in the playground: the simulator itself, except that
// every machine the reader creates is recorded (for the trace, stats and picture views) and tags
// each of its trace events with the reader's line that caused it.
import * as sim from '../sim/index';
import type { Machine } from '../sim/index';
import { currentReaderLine } from './user-function';
import type { MachineReport } from './protocol';

/** Events per machine sent to the page; the rest are counted, not sent. */
export const TRACE_POST_LIMIT = 5000;
/** Machines reported per run (a loop creating machines must not flood the page). */
export const MACHINE_REPORT_LIMIT = 8;
/**
 * Events per machine that get a line. Each costs a stack capture (~10 µs on V8); events past
 * this are not sent to the page anyway.
 */
export const LOCATE_LIMIT = TRACE_POST_LIMIT;

/** A function for `traceLog.locate`: the reader's line of the current call stack, for the first `limit` calls. */
export function stackLocator(header: number, limit = LOCATE_LIMIT): () => number | undefined {
  let calls = 0;
  return () => (++calls > limit ? undefined : currentReaderLine(header));
}

export interface Recorder {
  /** What `require("dma-lab")` returns. */
  readonly module: typeof sim;
  /** Machines created so far, in order. */
  readonly machines: readonly Machine[];
  /** Plain-data reports of the recorded machines (the first {@link MACHINE_REPORT_LIMIT}). */
  reports(): MachineReport[];
}

/**
 * Wraps the simulator so machines made with `createMachine(...)` or `new Machine(...)` are
 * recorded. `header` is the engine's line offset ({@link headerLines}); without it events get no line.
 * Machines a scenario helper builds internally are not the reader's and are not recorded.
 */
export function createRecorder(header: number | undefined): Recorder {
  const machines: Machine[] = [];
  const track = (m: Machine): Machine => {
    machines.push(m);
    if (header !== undefined) m.traceLog.locate = stackLocator(header);
    return m;
  };
  // A Proxy keeps `instanceof Machine` and the class's statics working for the reader.
  const MachineClass = new Proxy(sim.Machine, {
    construct: (target, args, newTarget) => track(Reflect.construct(target, args, newTarget) as Machine),
  });
  const module = {
    ...sim,
    createMachine: (config: sim.MachineConfig) => track(sim.createMachine(config)),
    Machine: MachineClass,
  } as typeof sim;
  return { module, machines, reports: () => machines.slice(0, MACHINE_REPORT_LIMIT).map(report) };
}

function label(m: Machine, index: number): string {
  return `Machine ${index + 1}: ${m.arch}, ${sim.formatSize(m.memory)}, era ${m.era}${m.hypervisor === 'none' ? ', bare metal' : ''}`;
}

function report(m: Machine, index: number): MachineReport {
  const events = m.trace;
  const trace = events.length > TRACE_POST_LIMIT ? events.slice(0, TRACE_POST_LIMIT) : [...events];
  const base = { index: index + 1, label: label(m, index), trace, omitted: events.length - trace.length, stats: m.stats() };
  try {
    return { ...base, snapshot: m.snapshot() };
  } catch (err) {
    return { ...base, snapshot: null, snapshotError: err instanceof Error ? err.message : String(err) };
  }
}
