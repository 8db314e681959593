// Runs reader code in a Worker and says how the run ended: finished, failed, time limit, stopped
// or crashed.
//
// Terminating a Worker is the only real stop for `while (true) {}`: the loop never yields, so no
// message can reach it. A fresh Worker per Run also means no state leaks between runs. To keep Run
// fast, the next worker is prepared before it is needed (loaded, simulator imported, compiler
// warmed): a Run pays only for compiling and running the code.
// biome-ignore lint/correctness/useImportExtensions: a Vite ?worker import names the module Vite bundles into the worker
import RunnerWorker from "../worker/runner-worker?worker";
import {
  parseRunnerMessage,
  unpackSnapshots,
  type ConnectMessage,
  type MachineReport,
  type PageMessage,
  type PendingWork,
  type RunnerMessage,
} from "../common/protocol.js";
import type { Variant } from "../common/variant.js";
import type { StepAnswer } from "../common/step-protocol.js";

export const TIME_LIMIT_MS = 3000;
/** Generous bound on loading and compiling, before the reader's code starts. */
const STARTUP_LIMIT_MS = 15000;
/** After the time limit the worker reports by itself; a worker stuck in a loop is ended this much later. */
const LIMIT_GRACE_MS = 400;
/** After the code calls close(), how long its last messages get before the run is reported crashed. */
const CLOSE_GRACE_MS = 200;

export type RunStatus = "finished" | "failed" | "time limit" | "stopped" | "crashed";

export interface RunEnd {
  type: "end";
  status: RunStatus;
  /** The reader's code's own time (from its start to its end, or until it was ended). */
  durationMs: number;
  /** Work still pending at the time limit. */
  pending?: PendingWork;
  /** Why a run crashed. */
  message?: string;
}

export type RunEvent =
  | Extract<RunnerMessage, { type: "console" | "error" | "results" }>
  /** `pending`: the code's own work was still pending (else it was still running). */
  | { type: "timeout"; limitMs: number; pending?: PendingWork }
  | { type: "crash"; message: string }
  | RunEnd;

export interface RunHandle {
  /** Resolves when the run ended, with how it ended. */
  readonly finished: Promise<RunEnd>;
  stop(): void;
  /** Machine `index` (0-based) of this run in full, asked of the runner (which stays until the next Run). */
  inspect(index: number): Promise<MachineReport | undefined>;
  /** Machine `index` (0-based) right after event `at`, asked of the finished run's runner (the stepper). */
  step(index: number, at: number): Promise<StepAnswer | undefined>;
  /** Ends the runner (after a run, it waits for `inspect`). */
  dispose(): void;
}

export interface RunOptions {
  onEvent(event: RunEvent): void;
  timeLimitMs?: number;
  /** Overrides for what the code creates (A/B comparison); none runs the code as written. */
  variant?: Variant;
}

/** A worker with its private port; `ready` once it has warmed up. */
interface Prepared {
  worker: Worker;
  port: MessagePort;
  /** Messages from the worker (checked against the protocol); replaced by the run that takes it. */
  listener: (msg: RunnerMessage) => void;
  /** The port or the worker went away before the run ended. */
  onLost: (message: string) => void;
}

function prepare(): Prepared {
  const worker = new RunnerWorker();
  const channel = new MessageChannel();
  const prepared: Prepared = { worker, port: channel.port1, listener: () => undefined, onLost: () => undefined };
  // The worker's global channel is never listened to: reader code could post there.
  channel.port1.addEventListener("message", (e: MessageEvent<unknown>) => {
    const msg = parseRunnerMessage(e.data);
    if (msg?.type === "results") unpackSnapshots(msg.machines);
    if (msg?.type === "machine") unpackSnapshots([msg.report]);
    // Still the spare when it is ready: no Run waits, so it may warm up (see PageMessage).
    if (msg?.type === "ready" && spare === prepared) channel.port1.postMessage({ type: "warm-up" } satisfies PageMessage);
    if (msg) prepared.listener(msg);
  });
  // Fires when the worker ends by itself (close(), out of memory) or is terminated.
  channel.port1.addEventListener("close", () => prepared.onLost("the runner stopped unexpectedly (it may have run out of memory)"));
  worker.addEventListener("error", (e: ErrorEvent) => {
    e.preventDefault();
    prepared.onLost(e.message || "the runner failed to load");
  });
  channel.port1.start();
  const connect: ConnectMessage = { type: "connect", port: channel.port2 };
  worker.postMessage(connect, [channel.port2]);
  return prepared;
}

let spare: Prepared | undefined;

/** Prepares the next runner now (idempotent): call it when a Run becomes likely. */
export function prepareRunner(): void {
  spare ??= prepare();
}

function takeRunner(): Prepared {
  const runner = spare ?? prepare();
  spare = undefined;
  return runner;
}

/** After a run, the next runner is prepared when the page is idle. */
function prepareLater(): void {
  const idle = (globalThis as { requestIdleCallback?: (cb: () => void, o?: { timeout: number }) => void }).requestIdleCallback;
  if (idle) idle(prepareRunner, { timeout: 1000 });
  else setTimeout(prepareRunner, 50);
}

export function runCode(code: string, { onEvent, timeLimitMs = TIME_LIMIT_MS, variant }: RunOptions): RunHandle {
  const runner = takeRunner();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let startedAt: number | undefined;
  let ended = false;
  let settle!: (end: RunEnd) => void;
  const finished = new Promise<RunEnd>((resolve) => (settle = resolve));
  const waiting = new Map<number, (report: MachineReport | undefined) => void>();
  /** Stepper requests by id: an answer nobody asked for is dropped. */
  const steps = new Map<number, (answer: StepAnswer | undefined) => void>();
  let nextStep = 1;

  const send = (msg: PageMessage): void => runner.port.postMessage(msg);
  const elapsed = (): number => (startedAt === undefined ? 0 : performance.now() - startedAt);
  let disposed = false;
  const dispose = (): void => {
    disposed = true;
    runner.onLost = () => undefined;
    runner.worker.terminate();
    for (const resolve of waiting.values()) resolve(undefined);
    waiting.clear();
    for (const resolve of steps.values()) resolve(undefined);
    steps.clear();
  };
  /** `keep`: the worker stays to answer `inspect` (a run that ended by itself). */
  const end = (result: Omit<RunEnd, "type">, keep = false): void => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    if (!keep) dispose();
    const event: RunEnd = { type: "end", ...result };
    onEvent(event);
    settle(event);
    prepareLater();
  };
  const arm = (ms: number, onExpire: () => void): void => {
    clearTimeout(timer);
    timer = setTimeout(onExpire, ms);
  };
  const crash = (message: string): void => {
    if (ended) return;
    onEvent({ type: "crash", message });
    end({ status: "crashed", durationMs: elapsed(), message });
  };

  arm(STARTUP_LIMIT_MS, () => crash("the runner did not start in time"));
  let closing = false;
  runner.onLost = (message) => crash(closing ? "your code called close(), which ends the runner" : message);
  runner.listener = (msg) => {
    if (msg.type === "machine") return waiting.get(msg.index)?.(msg.report);
    if (msg.type === "step") return steps.get(msg.id)?.(msg);
    if (ended) return;
    switch (msg.type) {
      case "ready":
        return;
      case "started":
        startedAt = performance.now();
        return arm(timeLimitMs + LIMIT_GRACE_MS, () => {
          onEvent({ type: "timeout", limitMs: timeLimitMs });
          end({ status: "time limit", durationMs: elapsed() });
        });
      case "closed":
        // The worker ends when the current task does; nothing later (not even `done`) will come.
        closing = true;
        return arm(CLOSE_GRACE_MS, () => crash("your code called close(), which ends the runner"));
      case "done":
        if (msg.end === "time limit") onEvent({ type: "timeout", limitMs: timeLimitMs, ...(msg.pending && { pending: msg.pending }) });
        return end({ status: msg.end, durationMs: msg.durationMs, ...(msg.pending && { pending: msg.pending }) }, true);
      default:
        onEvent(msg);
    }
  };

  send(variant ? { type: "run", code, variant, timeLimitMs } : { type: "run", code, timeLimitMs });
  return {
    finished,
    stop: () => (ended ? dispose() : end({ status: "stopped", durationMs: elapsed() })),
    inspect: (index) =>
      new Promise((resolve) => {
        if (disposed) return resolve(undefined);
        waiting.set(index, (report) => {
          waiting.delete(index);
          resolve(report);
        });
        send({ type: "inspect", index });
      }),
    step: (index, at) =>
      new Promise((resolve) => {
        if (disposed || !ended) return resolve(undefined);
        const id = nextStep++;
        steps.set(id, (answer) => {
          steps.delete(id);
          resolve(answer);
        });
        send({ type: "step", id, machine: index, at });
      }),
    dispose,
  };
}
