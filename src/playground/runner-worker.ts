// The runner: one fresh Worker per Run (see run.ts). It type-strips the reader's code, runs it
// against the simulator, and reports console output, uncaught errors and, at the end, the trace,
// stats and snapshot of every machine the code created.
import { formatArgs } from './format';
import { runRequest } from './runner-core';
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

self.addEventListener('message', (event) => {
  void runRequest((event as MessageEvent<RunRequest>).data, post);
});
