// Runner side: records each machine's history (its state at every event, for the stepper) within
// a time budget per run. A snapshot per event costs O(live objects): cheap for a few mappings, but
// a NIC ring of 256 mappings over thousands of events (the Costs page's packet strategies) would
// spend tens of seconds and gigabytes on it. So recording stops for every machine of the run once
// it has taken HISTORY_BUDGET_MS of the run's time; the stepper then covers the events before.
// The first HISTORY_FLOOR moments of a run are kept whatever they cost, so a short run on a busy
// machine (or one whose first moments build a large machine's frame map) is always steppable.
import type { Machine } from "../../sim/index.js";

/** Time a run may spend recording history, over all its machines (the run's limit is 3 s). */
export const HISTORY_BUDGET_MS = 500;

/** Moments a run keeps before the budget counts. */
export const HISTORY_FLOOR = 100;

/** Recording time left, shared by the machines of one run; `floor`: moments kept regardless. */
export interface HistoryBudget {
  leftMs: number;
  floor?: number;
}

/** The events whose moments a machine's history keeps (first..last; last < first: none). */
export interface HistoryRange {
  first: number;
  last: number;
}

const ranges = new WeakMap<Machine, { first: number; limit: number; stoppedAt?: number }>();

// Taken when the runner loads, before reader code could replace it.
const now = performance.now.bind(performance);

/**
 * Starts `m`'s history for its first `limit` events (call it from machineHooks.created), timing
 * each moment against `budget`; when the budget is spent the history stops where it is.
 */
export function recordWithinBudget(m: Machine, budget: HistoryBudget, limit: number, clock: () => number = now): void {
  const inFloor = (): boolean => (budget.floor ?? 0) > 0;
  if (budget.leftMs <= 0 && !inFloor()) return;
  const first = m.traceLog.lastSeq + 1;
  const range: { first: number; limit: number; stoppedAt?: number } = { first, limit };
  ranges.set(m, range);
  let started = 0;
  // History watches the trace too: these two watchers run just before and just after it.
  const stopBefore = m.traceLog.watch(() => void (started = clock()));
  m.recordHistory({ events: limit });
  const stopAfter = m.traceLog.watch((event) => {
    if (inFloor()) budget.floor = budget.floor! - 1;
    else budget.leftMs -= clock() - started;
    const kept = event.seq - first + 1;
    const full = kept >= limit;
    if ((budget.leftMs > 0 || inFloor()) && !full) return;
    if (!full) {
      m.recordHistory({ events: kept });
      range.stoppedAt = event.seq;
    }
    stopBefore();
    stopAfter();
  });
}

/** The events of `m` the stepper can show, or undefined when its history was never recorded. */
export function historyRange(m: Machine): HistoryRange | undefined {
  const r = ranges.get(m);
  if (!r) return undefined;
  const lastStored = m.traceLog.lastSeq;
  return { first: r.first, last: Math.min(lastStored, r.stoppedAt ?? r.first - 1 + r.limit) };
}
