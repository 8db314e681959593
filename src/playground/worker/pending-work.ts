// Runs in the runner worker. Tracks the timers reader code starts, so that a run waits for the
// work its code left pending when the top level returned (up to the time limit) and can say what
// was still pending then. Errors thrown inside a timer callback are reported like top-level ones.

type TimerId = ReturnType<typeof setTimeout>;
type Callback = (...args: unknown[]) => void;

export interface PendingTracker {
  /** Timers started and not yet fired (once) or cleared. */
  readonly pending: number;
  /**
   * Resolves once no timer is pending and the microtasks a last callback queued have run, or at
   * `deadline` (a `performance.now()` time), with the timers still pending then.
   */
  settled(deadline: number): Promise<number>;
}

interface TimerScope {
  setTimeout: typeof setTimeout;
  clearTimeout: typeof clearTimeout;
  setInterval: typeof setInterval;
  clearInterval: typeof clearInterval;
}

/**
 * Wraps `scope`'s timer functions. `onError` gets what a callback throws. A string handler (code
 * built from a string) is refused.
 */
export function trackTimers(scope: TimerScope, onError: (err: unknown) => void): PendingTracker {
  const realSetTimeout = scope.setTimeout.bind(scope);
  const realClearTimeout = scope.clearTimeout.bind(scope);
  const realSetInterval = scope.setInterval.bind(scope);
  const realClearInterval = scope.clearInterval.bind(scope);
  const live = new Set<TimerId>();
  let wake: (() => void) | undefined;

  const guard = (handler: unknown): Callback => {
    if (typeof handler !== "function")
      throw new TypeError("setTimeout and setInterval take a function here (code in a string is not run).");
    return handler as Callback;
  };
  const call = (fn: Callback, args: unknown[]): void => {
    try {
      fn(...args);
    } catch (err) {
      onError(err);
    }
  };
  const changed = (): void => {
    if (live.size === 0) wake?.();
  };

  scope.setTimeout = ((handler: unknown, ms?: number, ...args: unknown[]) => {
    const fn = guard(handler);
    const id: TimerId = realSetTimeout(() => {
      live.delete(id);
      call(fn, args);
      changed();
    }, ms);
    live.add(id);
    return id;
  }) as typeof setTimeout;
  scope.setInterval = ((handler: unknown, ms?: number, ...args: unknown[]) => {
    const fn = guard(handler);
    const id: TimerId = realSetInterval(() => call(fn, args), ms);
    live.add(id);
    return id;
  }) as typeof setInterval;
  const clear = (id: TimerId | undefined, real: (id: TimerId | undefined) => void): void => {
    real(id);
    if (id !== undefined && live.delete(id)) changed();
  };
  scope.clearTimeout = ((id?: TimerId) => clear(id, realClearTimeout)) as typeof clearTimeout;
  scope.clearInterval = ((id?: TimerId) => clear(id, realClearInterval)) as typeof clearInterval;

  return {
    get pending() {
      return live.size;
    },
    settled(deadline) {
      return new Promise<number>((resolve) => {
        const giveUp = realSetTimeout(() => finish(), Math.max(0, deadline - performance.now()));
        const finish = (): void => {
          wake = undefined;
          realClearTimeout(giveUp);
          resolve(live.size);
        };
        // A macrotask later, the microtasks the last callback queued (promise continuations) have run.
        const check = (): void => {
          if (live.size === 0) realSetTimeout(() => (live.size === 0 ? finish() : undefined), 0);
        };
        wake = check;
        check();
      });
    },
  };
}
