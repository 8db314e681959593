// The runner: one Worker per Run (see run.ts), prepared before it is needed. On its first message
// it takes the private port the page sends, seals itself (seal.ts), readies the compiler and says
// `ready`; if no Run has taken it by then, the page asks it to `warm-up` (warm-up.ts). One `run`
// request type-strips the reader's code, runs it against the simulator, and reports console
// output, uncaught errors and, at the end, the trace, stats and snapshot of the machines the code
// created; later `inspect` requests ask for any other machine of that run.
import { formatArgs } from "./format.js";
import { compile } from "./compile.js";
import { headerLines } from "./user-function.js";
import { trackTimers } from "./pending-work.js";
import { runRequest, type RunEnvironment } from "./runner-core.js";
import { sealCodeFromStrings, sealNetworkAndMessaging } from "./seal.js";
import type { Recorder } from "./recorder.js";
import { packSnapshots, type ConnectMessage, type ConsoleLevel, type PageMessage, type RunnerMessage } from "../common/protocol.js";
import { createStepSession, type StepSession } from "./step-session.js";
import { parseStepRequest } from "../common/step-protocol.js";
import { warmUp } from "./warm-up.js";

// Deep simulator calls must not push the reader's frame out of the stack (V8 keeps 10).
(Error as { stackTraceLimit?: number }).stackTraceLimit = 100;

/** Beyond this many lines, output is dropped: a logging loop must not flood the page. */
const MAX_OUTPUT_LINES = 1000;

type Scope = typeof globalThis & { close(): void };
const scope = self as unknown as Scope;

function connect(port: MessagePort): void {
  // Bound now: reader code that later patches MessagePort.prototype does not see our messages.
  const send = MessagePort.prototype.postMessage.bind(port) as (msg: RunnerMessage) => void;
  const post = (msg: RunnerMessage): void => {
    try {
      if (msg.type === "results") send({ ...msg, machines: packSnapshots(msg.machines) });
      else if (msg.type === "machine") send({ ...msg, report: packSnapshots([msg.report])[0]! });
      else send(msg);
    } catch (err) {
      // A value that cannot be cloned (it should not happen: every message is plain data).
      send({
        type: "console",
        level: "warn",
        text: `The runner could not send a message: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
  };
  const env: RunEnvironment = {};
  installConsole(post);
  env.timers = trackTimers(scope, (err) => env.lateError?.(err));
  scope.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    env.lateError?.(e.reason);
  });
  scope.addEventListener("error", (e) => {
    e.preventDefault();
    env.lateError?.(e.error ?? new Error(e.message));
  });
  installClose(post);
  sealNetworkAndMessaging(scope);

  // Warming the engine up while the reader reads (when the page asks); a Run ends it early.
  let runWaiting = false;
  let warming: Promise<void> = Promise.resolve();
  let ran = false;
  let recorder: Recorder | undefined;
  let session: StepSession | undefined;
  port.addEventListener("message", (event: MessageEvent<PageMessage>) => {
    const msg = event.data;
    if (msg.type === "warm-up" && !ran) {
      warming = warmUp(
        () => runWaiting,
        (message) => post({ type: "console", level: "warn", text: `The runner's warm-up failed (a DMA Lab bug): ${message}` }),
      );
    } else if (msg.type === "run" && !ran) {
      ran = true;
      runWaiting = true;
      env.beforeRun = () => sealCodeFromStrings(scope);
      void warming.then(() => runRequest(msg, post, env)).then((r) => (recorder = r));
    } else if (msg.type === "inspect" && recorder) {
      const report = recorder.report(msg.index);
      if (report) post({ type: "machine", index: msg.index, report });
    } else if (msg.type === "step" && recorder) {
      // The finished run's session: the stepper's questions about its machines.
      const request = parseStepRequest(msg);
      if (request) post((session ??= createStepSession(recorder.machines)).answer(request));
    }
  });
  port.start();
  // Warm up what every run needs: the compiler's first call and the engine's line offset.
  compile("const warm: number = 1;");
  void headerLines().then(() => post({ type: "ready" }));
}

/** Console output from the reader (and from the simulator) becomes messages to the page. */
function installConsole(post: (msg: RunnerMessage) => void): void {
  let linesPosted = 0;
  for (const level of ["log", "info", "warn", "error", "debug"] as const satisfies readonly ConsoleLevel[]) {
    console[level] = (...args: unknown[]) => {
      linesPosted++;
      if (linesPosted <= MAX_OUTPUT_LINES) post({ type: "console", level, text: formatArgs(args) });
      else if (linesPosted === MAX_OUTPUT_LINES + 1) {
        post({ type: "console", level: "warn", text: `… output truncated after ${MAX_OUTPUT_LINES} lines` });
      }
    };
  }
}

/** close() ends the worker: tell the page first, so it can say what happened. */
function installClose(post: (msg: RunnerMessage) => void): void {
  const realClose = scope.close.bind(scope);
  for (let o: object | null = Object.getPrototypeOf(scope) as object | null; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    if (Object.hasOwn(o, "close")) delete (o as Record<string, unknown>).close;
  }
  Object.defineProperty(scope, "close", {
    value: () => {
      post({ type: "closed" });
      realClose();
    },
    configurable: false,
    writable: false,
  });
}

scope.addEventListener(
  "message",
  (event: MessageEvent<unknown>) => {
    const data = event.data as Partial<Record<keyof ConnectMessage, unknown>> | null;
    if (data?.type === "connect" && data.port instanceof MessagePort) connect(data.port);
  },
  { once: true },
);
