// Messages between the page (run.ts) and the runner worker (runner-worker.ts).

/** Page → worker: the reader's TypeScript source, run once. */
export interface RunRequest {
  code: string;
}

export type ConsoleLevel = 'log' | 'info' | 'warn' | 'error' | 'debug';

/** Worker → page. */
export type RunnerMessage =
  /** Compiled; the reader's code starts now (the time limit counts from here). */
  | { type: 'started' }
  | { type: 'console'; level: ConsoleLevel; text: string }
  /** An uncaught error; `line` is 1-based in the reader's source, when known. */
  | { type: 'error'; name: string; message: string; line?: number; code?: string }
  | { type: 'done' };
