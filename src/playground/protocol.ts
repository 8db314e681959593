// Messages between the page (run.ts) and the runner worker (runner-worker.ts).
import type { MachineSnapshot, Stats, TraceEvent } from '../sim/index';
import type { Variant, VariantApplied } from './variant';

/** Page → worker: the reader's TypeScript source, run once (under `variant`, when comparing). */
export interface RunRequest {
  code: string;
  variant?: Variant;
}

export type ConsoleLevel = 'log' | 'info' | 'warn' | 'error' | 'debug';

/** One machine the reader created, as plain data for the results views. */
export interface MachineReport {
  /** 1-based, in creation order. */
  index: number;
  /** e.g. "Machine 1: ia64, 1 GiB, era modern". */
  label: string;
  /** The first events of `machine.trace`, each with `line` when the reader's line is known. */
  trace: TraceEvent[];
  /** Stored events not sent (the page shows how many). */
  omitted: number;
  stats: Stats;
  /** `machine.snapshot()` at the end of the run; null if taking it failed (`snapshotError`). */
  snapshot: MachineSnapshot | null;
  snapshotError?: string;
}

/** Worker → page. */
export type RunnerMessage =
  /** Compiled; the reader's code starts now (the time limit counts from here). */
  | { type: 'started' }
  | { type: 'console'; level: ConsoleLevel; text: string }
  /** An uncaught error; `line` is 1-based in the reader's source, when known. */
  | { type: 'error'; name: string; message: string; line?: number; code?: string }
  /** After the code ended (normally or by an uncaught error): the machines it created. */
  /** `applied`: what the request's variant changed (only when it had one). */
  | { type: 'results'; machines: MachineReport[]; machinesOmitted: number; applied?: VariantApplied }
  | { type: 'done' };
