// The one runner harness for Node tests: runs reader code the way the runner worker does
// (runner-core.ts: compile, the dma-lab module, a comparison's variant, results) and gathers what
// the page would get: the messages in order, and the RunOutcome an exercise check judges.
import { formatArgs } from "../../src/playground/worker/format.js";
import { OutcomeBuilder } from "../../src/playground/page/outcome.js";
import { runRequest } from "../../src/playground/worker/runner-core.js";
import type { RunnerMessage } from "../../src/playground/common/protocol.js";
import type { Variant } from "../../src/playground/common/variant.js";

const LEVELS = ["log", "info", "warn", "error", "debug"] as const;

export interface NodeRun {
  /** What the page builds from the run's events (console, error, machines). */
  builder: OutcomeBuilder;
  /** Every message the runner posted, in order. */
  messages: RunnerMessage[];
  /** The error the code failed with before it started (a syntax error), if any. */
  compileError: Extract<RunnerMessage, { type: "error" }> | undefined;
  /** The closing `done` message. */
  done: Extract<RunnerMessage, { type: "done" }>;
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs one at a time (calls are queued): the global console is swapped while the code runs. */
export function runInNodeDetailed(code: string, variant?: Variant): Promise<NodeRun> {
  const next = queue.then(() => runNow(code, variant));
  queue = next.catch(() => undefined);
  return next;
}

/** The outcome of one run, as the page would build it. */
export async function runInNode(code: string, variant?: Variant): Promise<OutcomeBuilder> {
  return (await runInNodeDetailed(code, variant)).builder;
}

async function runNow(code: string, variant: Variant | undefined): Promise<NodeRun> {
  // As in the runner worker: deep simulator calls must not push the reader's frame off the stack.
  (Error as { stackTraceLimit?: number }).stackTraceLimit = 100;
  const builder = new OutcomeBuilder();
  const messages: RunnerMessage[] = [];
  let started = false;
  let compileError: NodeRun["compileError"];
  const post = (msg: RunnerMessage) => {
    messages.push(msg);
    if (msg.type === "started") started = true;
    if (msg.type === "error" && !started) compileError = msg;
    if (msg.type === "console" || msg.type === "error" || msg.type === "results") builder.add(msg);
  };
  const saved = LEVELS.map((level) => console[level]);
  for (const level of LEVELS) console[level] = (...args: unknown[]) => post({ type: "console", level, text: formatArgs(args) });
  try {
    await runRequest(variant ? { code, variant } : { code }, post);
  } finally {
    for (const [i, level] of LEVELS.entries()) console[level] = saved[i]!;
  }
  const done = messages.at(-1);
  if (done?.type !== "done") throw new Error('the runner did not end with "done"');
  return { builder, messages, compileError, done };
}
