// Runs reader code in a fresh Worker and enforces the time limit.
//
// Terminating a Worker is the only real stop for `while (true) {}`: the loop never yields, so no
// message can reach it. A fresh Worker per Run also means no state leaks between runs.
import RunnerWorker from './runner-worker?worker';
import type { RunnerMessage } from './protocol';
import type { Variant } from './variant';

export const TIME_LIMIT_MS = 3000;
/** Generous bound on loading and compiling, before the reader's code starts. */
const STARTUP_LIMIT_MS = 15000;

export type RunEvent =
  | Exclude<RunnerMessage, { type: 'started' | 'done' }>
  | { type: 'timeout'; limitMs: number }
  | { type: 'crash'; message: string };

export interface RunHandle {
  /** Resolves when the run ended: finished, failed, timed out or stopped. */
  readonly finished: Promise<void>;
  stop(): void;
}

export interface RunOptions {
  onEvent(event: RunEvent): void;
  timeLimitMs?: number;
  /** Overrides for what the code creates (A/B comparison); none runs the code as written. */
  variant?: Variant;
}

export function runCode(code: string, { onEvent, timeLimitMs = TIME_LIMIT_MS, variant }: RunOptions): RunHandle {
  const worker = new RunnerWorker();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let settle!: () => void;
  const finished = new Promise<void>((resolve) => (settle = resolve));

  const end = (): void => {
    clearTimeout(timer);
    worker.terminate();
    settle();
  };
  const arm = (ms: number, onExpire: () => void): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      onExpire();
      end();
    }, ms);
  };

  arm(STARTUP_LIMIT_MS, () => onEvent({ type: 'crash', message: 'The runner did not start in time.' }));
  worker.addEventListener('message', (e: MessageEvent<RunnerMessage>) => {
    const msg = e.data;
    if (msg.type === 'started') arm(timeLimitMs, () => onEvent({ type: 'timeout', limitMs: timeLimitMs }));
    else if (msg.type === 'done') end();
    else onEvent(msg);
  });
  worker.addEventListener('error', (e: ErrorEvent) => {
    e.preventDefault();
    onEvent({ type: 'crash', message: e.message || 'The runner failed to load.' });
    end();
  });

  worker.postMessage(variant ? { code, variant } : { code });
  return { finished, stop: end };
}
