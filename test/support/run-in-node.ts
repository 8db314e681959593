// Runs reader code in Node the way the runner worker does (runner-core.ts: compile, the dma-lab
// module, a comparison's variant, results) and gathers what the page would get into a RunOutcome.
import { formatArgs } from '../../src/playground/format';
import { OutcomeBuilder } from '../../src/playground/outcome';
import { runRequest } from '../../src/playground/runner-core';
import type { RunnerMessage } from '../../src/playground/protocol';
import type { Variant } from '../../src/playground/variant';

const LEVELS = ['log', 'info', 'warn', 'error', 'debug'] as const;

let queue: Promise<unknown> = Promise.resolve();

/** Runs one at a time (calls are queued): the global console is swapped while the code runs. */
export function runInNode(code: string, variant?: Variant): Promise<OutcomeBuilder> {
  const next = queue.then(() => runNow(code, variant));
  queue = next.catch(() => undefined);
  return next;
}

async function runNow(code: string, variant: Variant | undefined): Promise<OutcomeBuilder> {
  // As in the runner worker: deep simulator calls must not push the reader's frame off the stack.
  (Error as { stackTraceLimit?: number }).stackTraceLimit = 100;
  const builder = new OutcomeBuilder();
  const messages: RunnerMessage[] = [];
  const post = (msg: RunnerMessage) => {
    messages.push(msg);
    if (msg.type !== 'started' && msg.type !== 'done') builder.add(msg);
  };
  const saved = LEVELS.map((level) => console[level]);
  for (const level of LEVELS) console[level] = (...args: unknown[]) => post({ type: 'console', level, text: formatArgs(args) });
  try {
    await runRequest(variant ? { code, variant } : { code }, post);
  } finally {
    LEVELS.forEach((level, i) => (console[level] = saved[i]!));
  }
  if (messages.at(-1)?.type !== 'done') throw new Error('the runner did not end with "done"');
  return builder;
}
