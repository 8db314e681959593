// The runner: one fresh Worker per Run (see run.ts). It type-strips the reader's code, runs it
// against the simulator, and reports console output and uncaught errors as messages.
import * as sim from '../sim/index';
import { compile } from './compile';
import { formatArgs } from './format';
import { buildUserFunction, readerLine } from './user-function';
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

/** What `import ... from "dma-lab"` resolves to: the simulator's public module. */
function requireModule(name: string): unknown {
  if (name === 'dma-lab') return sim;
  throw new Error(`Cannot find module '${name}': the playground provides only "dma-lab".`);
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
  post({ type: 'started' });
  const module = { exports: {} as Record<string, unknown> };
  try {
    await fn(requireModule, module.exports, module);
  } catch (err) {
    await reportError(err);
  }
  post({ type: 'done' });
}

self.addEventListener('message', (event) => {
  void run((event as MessageEvent<RunRequest>).data);
});
