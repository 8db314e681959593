// Messages between the page (run.ts) and the runner worker (runner-worker.ts).
//
// The page hands the worker a private MessagePort in its first message ({@link ConnectMessage});
// everything after goes over that port. The worker removes its own global postMessage before the
// reader's code runs, and the page never listens to the worker's global channel, so reader code
// has no way to speak for the runner. The page still checks every message's shape
// ({@link parseRunnerMessage}): what does not match the protocol is dropped.
import type { MachineSnapshot, Stats, TraceEvent } from "../../sim/index.js";
import type { Variant, VariantApplied } from "./variant.js";
import { parseStepAnswer, type StepAnswer, type StepRequest } from "./step-protocol.js";

/** Page → worker, on the worker's global channel, once: the port the runner talks on. */
export interface ConnectMessage {
  type: "connect";
  port: MessagePort;
}

/** Page → worker (port): the reader's TypeScript source, run once (under `variant`, when comparing). */
export interface RunRequest {
  code: string;
  variant?: Variant;
  /** The run's time limit: the worker reports pending work and its results when it is reached. */
  timeLimitMs?: number;
}

/**
 * Page → worker (port): `warm-up` answers `ready` when no Run has taken the runner yet, so the
 * worker warms the engine up (warm-up.ts) while the reader reads. Port messages keep their order,
 * so the worker sees either `warm-up` or `run` first, never a warm-up in front of a waiting Run.
 */
export type PageMessage = ({ type: "run" } & RunRequest) | { type: "warm-up" } | { type: "inspect"; index: number } | StepRequest;

export type ConsoleLevel = "log" | "info" | "warn" | "error" | "debug";

/** One machine the reader created, as plain data for the results views. */
export interface MachineReport {
  /** 1-based, in creation order. */
  index: number;
  /** What tells this machine apart from the run's others, e.g. "Machine 2 (line 5, iteration 2): era 2006". */
  label: string;
  /** The first events of `machine.trace`, each with `line` when the reader's line is known. */
  trace: TraceEvent[];
  /** Stored events not sent (the page shows how many). */
  omitted: number;
  stats: Stats;
  /** `machine.snapshot()` at the end of the run; null if taking it failed (`snapshotError`). */
  snapshot: MachineSnapshot | null;
  snapshotError?: string;
  /**
   * On the wire from the worker: the snapshot as JSON text (`snapshot` is then null). A string
   * crosses to the page far faster than megabytes of small objects, and the page parses it only
   * when something reads `snapshot` (the Picture tab, a check); see {@link packSnapshots}.
   */
  snapshotJson?: string;
  /** The events the stepper can show (the machine's recorded history); absent: none recorded. */
  steps?: { first: number; last: number };
}

/** Worker side: each report's snapshot as JSON text, for a fast crossing. */
export function packSnapshots(reports: MachineReport[]): MachineReport[] {
  return reports.map(({ snapshot, ...rest }) =>
    snapshot ? { ...rest, snapshot: null, snapshotJson: JSON.stringify(snapshot) } : { ...rest, snapshot },
  );
}

/** Page side: `snapshot` parsed from `snapshotJson` on first read. */
export function unpackSnapshots(reports: MachineReport[]): void {
  for (const report of reports) {
    const json = report.snapshotJson;
    if (json === undefined) continue;
    delete report.snapshotJson;
    let parsed: MachineSnapshot | null | undefined;
    Object.defineProperty(report, "snapshot", {
      get: () => (parsed ??= JSON.parse(json) as MachineSnapshot),
      enumerable: true,
      configurable: true,
    });
  }
}

/** Trace events that deserve the reader's attention, over every machine of a run. */
export interface TraceFlags {
  /** Events of severity "error" (stray DMA, IOMMU faults, dma-debug reports, panics). */
  errors: number;
  /** Events of severity "warning". */
  warnings: number;
  /** Of those, the dma-debug reports (kind "dma-debug"). */
  dmaDebug: number;
}

/** How a run ended, as the worker saw it (the page adds stopped and crashed). */
export type WorkerEnd = "finished" | "failed" | "time limit";

/** Work the code left when its top level returned, still pending at the time limit. */
export interface PendingWork {
  /** Timers (setTimeout, setInterval) not yet fired or cleared. */
  timers: number;
  /** Whether the top level itself was still awaiting (a promise that never settled). */
  awaiting: boolean;
}

/** Worker → page (port). */
export type RunnerMessage =
  /** Loaded, simulator imported, compiler warmed: a Run pays only for compiling and running. */
  | { type: "ready" }
  /** Compiled; the reader's code starts now (the time limit counts from here). */
  | { type: "started" }
  | { type: "console"; level: ConsoleLevel; text: string }
  /** An uncaught error; `line` is 1-based in the reader's source, when known. */
  | { type: "error"; name: string; message: string; line?: number; code?: string }
  /**
   * After the code ended (normally, by an uncaught error, or at the time limit): the first machines
   * in full, `labels` of every machine (any can be asked for with an `inspect` message), and the
   * trace's errors and warnings over all of them. `applied`: what the request's variant changed.
   */
  | { type: "results"; machines: MachineReport[]; machinesOmitted: number; labels: string[]; flags: TraceFlags; applied?: VariantApplied }
  /** The answer to `inspect`: machine `index` (0-based) in full. */
  | { type: "machine"; index: number; report: MachineReport }
  /** The reader's code called close(): the runner is about to end. */
  | { type: "closed" }
  /** The run ended; `durationMs` is the reader's code's own time (from `started`). */
  | { type: "done"; end: WorkerEnd; durationMs: number; pending?: PendingWork }
  /** The answer to a stepper request (step-protocol.ts). */
  | StepAnswer;

// ---------------------------------------------------------------------------------------------
// Shape checks: a message that does not match the protocol is not the runner's.

type Check = (v: unknown) => boolean;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isString: Check = (v) => typeof v === "string";
const isCount: Check = (v) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isDuration: Check = (v) => typeof v === "number" && Number.isFinite(v) && v >= 0;
const optional =
  (check: Check): Check =>
  (v) =>
    v === undefined || check(v);
const oneOf =
  (...values: readonly string[]): Check =>
  (v) =>
    typeof v === "string" && values.includes(v);
const arrayOf =
  (check: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(check);
const shape =
  (fields: Record<string, Check>): Check =>
  (v) =>
    isObject(v) && Object.entries(fields).every(([key, check]) => check(v[key]));

/** A whole message: its fields and `type`, nothing else. */
const message =
  (fields: Record<string, Check>): Check =>
  (v) =>
    shape(fields)(v) && Object.keys(v as object).every((key) => key === "type" || Object.hasOwn(fields, key));

const isTraceEvent = shape({
  seq: isCount,
  kind: isString,
  cost: isDuration,
  message: isString,
  severity: oneOf("info", "warning", "error"),
  line: optional(isCount),
});
const isReport = shape({
  index: isCount,
  label: isString,
  trace: arrayOf(isTraceEvent),
  omitted: isCount,
  stats: shape({ events: isObject, cost: shape({ total: isDuration, byKind: isObject }), time: isDuration }),
  snapshot: (v) => v === null || isObject(v),
  snapshotError: optional(isString),
  snapshotJson: optional(isString),
  steps: optional(shape({ first: isCount, last: isCount })),
});
const isFlags = shape({ errors: isCount, warnings: isCount, dmaDebug: isCount });

const MESSAGE_SHAPES: Record<RunnerMessage["type"], Check> = {
  ready: message({}),
  started: message({}),
  console: message({ level: oneOf("log", "info", "warn", "error", "debug"), text: isString }),
  error: message({ name: isString, message: isString, line: optional(isCount), code: optional(isString) }),
  results: message({
    machines: arrayOf(isReport),
    machinesOmitted: isCount,
    labels: arrayOf(isString),
    flags: isFlags,
    applied: optional(shape({ machines: isCount, devices: isCount, dmaApis: isCount })),
  }),
  machine: message({ index: isCount, report: isReport }),
  closed: message({}),
  done: message({
    end: oneOf("finished", "failed", "time limit"),
    durationMs: isDuration,
    pending: optional(shape({ timers: isCount, awaiting: (v) => typeof v === "boolean" })),
  }),
  step: (v) => parseStepAnswer(v) !== undefined,
};

/** `data` as a runner message, or undefined when it does not match the protocol. */
export function parseRunnerMessage(data: unknown): RunnerMessage | undefined {
  if (!isObject(data) || typeof data.type !== "string" || !Object.hasOwn(MESSAGE_SHAPES, data.type)) return undefined;
  return MESSAGE_SHAPES[data.type as RunnerMessage["type"]](data) ? (data as unknown as RunnerMessage) : undefined;
}
