// The runner's work for one request, apart from the Worker around it (runner-worker.ts), so Node
// tests run reader code exactly as the page does: compile, the dma-lab module (recording machines,
// applying a comparison's variant, refusing names it does not export), uncaught errors with the
// reader's line, waiting for pending work up to the time limit, and the results.
import { compile } from "./compile.js";
import { guardExports } from "./module-exports.js";
import { createRecorder, MACHINE_REPORT_LIMIT, type Recorder } from "./recorder.js";
import { buildUserFunction, headerLines, readerLine } from "./user-function.js";
import { withVariant } from "./variant-module.js";
import type { VariantApplied } from "../common/variant.js";
import type { PendingWork, RunRequest, RunnerMessage, WorkerEnd } from "../common/protocol.js";
import type { PendingTracker } from "./pending-work.js";

export type Post = (msg: RunnerMessage) => void;

/** The default time limit of a run (the page enforces it too, by ending the worker). */
export const TIME_LIMIT_MS = 3000;

/** What the worker adds around a run: sealing before the code runs, and its pending timers. */
export interface RunEnvironment {
  /** Called after the reader's function is built, just before it runs. */
  beforeRun?(): void;
  /** The timers the code starts (without it, a run does not wait for them). */
  timers?: PendingTracker;
  /** Set by the run: where errors that escape later (timer callbacks, rejections) go. */
  lateError?: (err: unknown) => void;
}

// Taken before the worker wraps the global timers: the run's own deadline is not reader work.
const realSetTimeout = globalThis.setTimeout.bind(globalThis);
const realClearTimeout = globalThis.clearTimeout.bind(globalThis);

/** What `import ... from "dma-lab"` resolves to: the simulator, recording the reader's machines. */
function requireFrom(module: object): (name: string) => unknown {
  const guarded = guardExports(module);
  return (name) => {
    if (name === "dma-lab") return guarded;
    throw new Error(`Cannot find module '${name}': the playground provides only "dma-lab".`);
  };
}

function postResults(post: Post, recorder: Recorder, applied: VariantApplied | undefined): void {
  recorder.stop();
  try {
    const machines = recorder.reports();
    const machinesOmitted = Math.max(0, recorder.machines.length - MACHINE_REPORT_LIMIT);
    post({ type: "results", machines, machinesOmitted, labels: recorder.labels(), flags: recorder.flags(), ...(applied && { applied }) });
  } catch (err) {
    // A report that cannot be cloned must not hide the run's own output.
    post({ type: "console", level: "warn", text: `Results unavailable: ${err instanceof Error ? err.message : String(err)}` });
  }
}

/** Posts an uncaught error with the reader's line. */
export async function reportError(post: Post, err: unknown): Promise<void> {
  const isObject = typeof err === "object" && err !== null;
  const name = isObject && typeof (err as Error).name === "string" ? (err as Error).name : "Error";
  const message = isObject && "message" in err ? String((err as Error).message) : String(err);
  const code = isObject && typeof (err as { code?: unknown }).code === "string" ? (err as { code: string }).code : undefined;
  const line = await readerLine(err);
  post({ type: "error", name, message, ...(line !== undefined && { line }), ...(code !== undefined && { code }) });
}

const TIMED_OUT = Symbol("timed out");

/**
 * Runs the code's top level, then waits for the timers it left, both up to the deadline. Says
 * what was still pending, if anything was at the deadline.
 */
async function runUntilSettled(
  body: () => Promise<unknown>,
  deadline: number,
  timers: PendingTracker | undefined,
): Promise<PendingWork | undefined> {
  let expire: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<typeof TIMED_OUT>(
    (resolve) => (expire = realSetTimeout(() => resolve(TIMED_OUT), Math.max(0, deadline - performance.now()))),
  );
  try {
    if ((await Promise.race([body(), limit])) === TIMED_OUT) return { timers: timers?.pending ?? 0, awaiting: true };
  } finally {
    realClearTimeout(expire);
  }
  const left = timers ? await timers.settled(deadline) : 0;
  return left > 0 ? { timers: left, awaiting: false } : undefined;
}

/**
 * Runs one request: compiles the code, runs it against the simulator (under the request's variant,
 * if any), waits for the work it left pending up to the time limit, and posts what happened,
 * ending with `done`. Returns the recorder, so the worker can answer `inspect` for any machine.
 * Console output is the caller's business (the worker turns `console.*` into messages first).
 */
export async function runRequest(
  { code, variant, timeLimitMs = TIME_LIMIT_MS }: RunRequest,
  post: Post,
  env: RunEnvironment = {},
): Promise<Recorder | undefined> {
  const compiled = compile(code);
  if (!compiled.ok) {
    post({ type: "error", name: "SyntaxError", message: compiled.message, ...(compiled.line !== undefined && { line: compiled.line }) });
    post({ type: "done", end: "failed", durationMs: 0 });
    return undefined;
  }
  let fn: ReturnType<typeof buildUserFunction>;
  try {
    fn = buildUserFunction(compiled.js);
  } catch (err) {
    // A syntax error sucrase let through (it does not check everything V8 does).
    await reportError(post, err);
    post({ type: "done", end: "failed", durationMs: 0 });
    return undefined;
  }
  const recorder = createRecorder(await headerLines());
  // A comparison's variant: overrides applied to what the code creates (see variant-module.ts).
  const { module: sim, applied } = variant ? withVariant(recorder.module, variant) : { module: recorder.module, applied: undefined };
  const require = requireFrom(sim);
  env.beforeRun?.();
  let failed = false;
  const fail = (err: unknown): Promise<void> => {
    failed = true;
    return reportError(post, err);
  };
  env.lateError = (err) => void fail(err);
  post({ type: "started" });
  const start = performance.now();
  const module = { exports: {} as Record<string, unknown> };
  const pending = await runUntilSettled(() => fn(require, module.exports, module).catch(fail), start + timeLimitMs, env.timers);
  const durationMs = performance.now() - start;
  postResults(post, recorder, applied);
  const end: WorkerEnd = pending ? "time limit" : failed ? "failed" : "finished";
  post({ type: "done", end, durationMs, ...(pending && { pending }) });
  return recorder;
}
