// The runner: one fresh Worker per Run (see run.ts). It type-strips the reader's code, runs it
// against the simulator, and reports console output, uncaught errors and, at the end, the trace,
// stats and snapshot of every machine the code created.
import { compile } from './compile';
import { formatArgs } from './format';
import { createRecorder, MACHINE_REPORT_LIMIT, type Recorder } from './recorder';
import { buildUserFunction, headerLines, readerLine } from './user-function';
import type { ConsoleLevel, RunRequest, RunnerMessage } from './protocol';

const post = (msg: RunnerMessage): void =>
  (self as unknown as { postMessage(m: RunnerMessage): void }).postMessage(msg);

// Deep simulator calls must not push the reader's frame out of the stack (V8 keeps 10).
(Error as { stackTraceLimit?: number }).stackTraceLimit = 100;

/** Beyond this many lines, output is dropped: a logging loop must not flood the page. */
const MAX_OUTPUT_LINES = 1000;
let linesPosted = 0;

// Console output from the reader (and from the simulator) becomes messages to the page.
for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const satisfies readonly ConsoleLevel[]) {
  console[level] = (...args: unknown[]) => {
    linesPosted++;
    if (linesPosted <= MAX_OUTPUT_LINES) post({ type: 'console', level, text: formatArgs(args) });
    else if (linesPosted === MAX_OUTPUT_LINES + 1) {
      post({ type: 'console', level: 'warn', text: `… output truncated after ${MAX_OUTPUT_LINES} lines` });
    }
  };
}

/** What `import ... from "dma-lab"` resolves to: the simulator, recording the reader's machines. */
function requireFrom(recorder: Recorder): (name: string) => unknown {
  return (name) => {
    if (name === 'dma-lab') return recorder.module;
    throw new Error(`Cannot find module '${name}': the playground provides only "dma-lab".`);
  };
}

function postResults(recorder: Recorder): void {
  recorder.stop();
  try {
    const machines = recorder.reports();
    post({ type: 'results', machines, machinesOmitted: Math.max(0, recorder.machines.length - MACHINE_REPORT_LIMIT) });
  } catch (err) {
    // A report that cannot be cloned must not hide the run's own output.
    post({ type: 'console', level: 'warn', text: `Results unavailable: ${err instanceof Error ? err.message : String(err)}` });
  }
}

async function reportError(err: unknown): Promise<void> {
  const isObject = typeof err === 'object' && err !== null;
  const name = isObject && typeof (err as Error).name === 'string' ? (err as Error).name : 'Error';
  const message = isObject && 'message' in err ? String((err as Error).message) : String(err);
  const code = isObject && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : undefined;
  const line = await readerLine(err);
  post({ type: 'error', name, message, ...(line !== undefined && { line }), ...(code !== undefined && { code }) });
}

async function run({ code }: RunRequest): Promise<void> {
  const compiled = compile(code);
  if (!compiled.ok) {
    post({ type: 'error', name: 'SyntaxError', message: compiled.message, ...(compiled.line !== undefined && { line: compiled.line }) });
    post({ type: 'done' });
    return;
  }
  let fn;
  try {
    fn = buildUserFunction(compiled.js);
  } catch (err) {
    // A syntax error sucrase let through (it does not check everything V8 does).
    await reportError(err);
    post({ type: 'done' });
    return;
  }
  const recorder = createRecorder(await headerLines());
  post({ type: 'started' });
  const module = { exports: {} as Record<string, unknown> };
  try {
    await fn(requireFrom(recorder), module.exports, module);
  } catch (err) {
    await reportError(err);
  }
  postResults(recorder);
  post({ type: 'done' });
}

self.addEventListener('message', (event) => {
  void run((event as MessageEvent<RunRequest>).data);
});
