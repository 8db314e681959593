import { SimError, describeValue } from "./errors.js";
import { Machine } from "./machine.js";
import { StateKey } from "./state.js";
import type { Stats, EventKind } from "./trace.js";
import { SnapshotCache, takeSnapshot } from "./snapshot.js";
import type { MachineSnapshot } from "./snapshot.js";
import { diffSnapshots } from "./snapshot-diff.js";
import type { SnapshotChanges } from "./snapshot-diff.js";

/** The argument of `machine.recordHistory()`. */
export interface HistoryOptions {
  /**
   * Keep the moments of the first `events` trace events only (default: every stored event). A
   * stepper that shows the first 5,000 events needs no more; each moment costs a small snapshot.
   */
  events?: number;
}

/** Picks a moment of the run: `at` is a trace event's `seq` (from 1). */
export interface AtOptions {
  /** The trace event right after which to look at the machine. */
  at?: number;
}

/**
 * The machine as it was right after each trace event, recorded while the run goes.
 *
 * Why per-event snapshots with shared parts (not checkpoints and replay, nor undo records): the
 * reader's code drives the machine, so a run cannot be replayed from a checkpoint without
 * re-running that code, and undo records would have to be written at every place that changes
 * state (ARCHITECTURE.md lists more than a dozen). A snapshot is a pure function of the state;
 * taking one at every event costs O(live objects: mappings, bounce slots, PTEs, grants), while
 * its O(memory) parts (frame runs, p2m runs, pool frames) come from a {@link SnapshotCache} that
 * rebuilds them only when a version counter says the frames or a p2m changed. Stepping is then
 * an array lookup.
 *
 * "Right after event seq" is the moment the event is appended to the trace (Trace.watch): the
 * simulator records an event once it has done what the event says (the slots are taken when
 * "bounce" is recorded, the PTE cleared when "iommu-unmap" is), so that is the state the event
 * describes. Work an operation does after its last event shows at the next event.
 */
class History {
  /** moments[i] is the machine right after event first + i. */
  private readonly moments: MachineSnapshot[] = [];
  private readonly cache = new SnapshotCache();
  /** The first event seq this history covers (events before it happened before recording began). */
  readonly first: number;
  /** The last event seq whose moment is kept (Infinity: every one). */
  private limit = Infinity;
  private stopWatching: (() => void) | undefined;

  constructor(private readonly machine: Machine) {
    this.first = machine.traceLog.lastSeq + 1;
  }

  /** Starts (or changes the extent of) recording. */
  start(events: number): void {
    this.limit = this.first - 1 + events;
    this.stopWatching ??= this.machine.traceLog.watch((event) => this.capture(event.seq));
  }

  private capture(seq: number): void {
    if (seq > this.limit) {
      this.stopWatching?.();
      return;
    }
    this.moments.push(takeSnapshot(this.machine, this.cache));
  }

  /** The last event seq a moment is kept for. */
  get lastKept(): number {
    return this.first + this.moments.length - 1;
  }

  /** The machine right after event `seq` (shared with later calls: treat it as read only). */
  snapshotAt(seq: number): MachineSnapshot {
    return this.moments[seq - this.first]!;
  }
}

const HISTORY = new StateKey<History, Machine>("history", (m) => new History(m));

/** Throws unless `at` names a stored trace event; returns it as a number. */
function checkAt(m: Machine, options: unknown, call: string): number {
  if (typeof options !== "object" || options === null) {
    throw new SimError("INVALID_ARGUMENT", `${call}(options) takes { at: seq }, got ${describeValue(options)}`, "options");
  }
  const at = (options as AtOptions).at;
  const last = m.traceLog.lastSeq;
  if (typeof at !== "number" || !Number.isSafeInteger(at)) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `${call}({ at }): at must be the seq of a trace event (an integer from 1 to ${last}), got ${describeValue(at)}`,
      "at",
    );
  }
  if (last === 0) {
    throw new SimError("INVALID_ARGUMENT", `${call}({ at: ${at} }): the run has no stored trace events yet`, "at");
  }
  if (at < 1 || at > last) {
    throw new SimError("INVALID_ARGUMENT", `${call}({ at: ${at} }): the run's stored trace events are 1 to ${last}`, "at");
  }
  return at;
}

function historyFor(m: Machine, at: number, call: string): History {
  const history = m.state.peek(HISTORY);
  if (!history) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `${call}({ at: ${at} }): this machine does not record history; call machine.recordHistory() before its first event (right after createMachine)`,
      "at",
    );
  }
  if (at > history.lastKept) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `${call}({ at: ${at} }): history keeps the moments of events ${history.first} to ${history.lastKept} (recordHistory({ events }))`,
      "at",
    );
  }
  if (at < history.first) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `${call}({ at: ${at} }): history was switched on after event ${history.first - 1}; moments exist from event ${history.first}`,
      "at",
    );
  }
  return history;
}

declare module "./machine.js" {
  interface Machine {
    /**
     * Everything a picture needs, as plain data. With `{ at: seq }` (needs `recordHistory()`):
     * the machine as it was right after trace event `seq`, equal to the snapshot taken live at
     * that moment. Snapshots from history share their parts: treat them as read only.
     */
    snapshot(options?: AtOptions): MachineSnapshot;
    /** Counts, costs and time up to and including trace event `at`, as `stats()` said right after it (no history needed). */
    stats(options?: AtOptions): Stats;
    /**
     * Starts keeping the machine's state at every trace event, for `snapshot({ at })` and
     * `changes({ at })`. Call it before the first event (right after createMachine, or from
     * `machineHooks.created`). Off by default: it costs a small snapshot per event.
     */
    recordHistory(options?: HistoryOptions): void;
    /** What appeared, went away or changed between the moment after event `at - 1` (nothing, for the first event) and the moment after event `at`. */
    changes(options: AtOptions): SnapshotChanges;
  }
}

const liveStats = Machine.prototype.stats;

Machine.prototype.snapshot = function (this: Machine, options?: AtOptions): MachineSnapshot {
  if (options === undefined) return takeSnapshot(this);
  const at = checkAt(this, options, "snapshot");
  return historyFor(this, at, "snapshot").snapshotAt(at);
};

Machine.prototype.recordHistory = function (this: Machine, options?: HistoryOptions): void {
  const events = options?.events ?? Infinity;
  if (events !== Infinity && (typeof events !== "number" || !Number.isSafeInteger(events) || events < 1)) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `recordHistory({ events }): events must be a whole number of events, at least 1, got ${describeValue(events)}`,
      "events",
    );
  }
  this.state.get(HISTORY).start(events);
};

Machine.prototype.stats = function (this: Machine, options?: AtOptions): Stats {
  if (options === undefined) return liveStats.call(this);
  const at = checkAt(this, options, "stats");
  const events: Partial<Record<EventKind, number>> = {};
  const byKind: Partial<Record<EventKind, number>> = {};
  let total = 0;
  const trace = this.trace;
  for (let i = 0; i < at; i++) {
    const e = trace[i]!;
    events[e.kind] = (events[e.kind] ?? 0) + 1;
    byKind[e.kind] = (byKind[e.kind] ?? 0) + e.cost;
    total += e.cost;
  }
  return { events, cost: { total, byKind }, time: trace[at - 1]!.time, droppedEvents: 0 };
};

Machine.prototype.changes = function (this: Machine, options: AtOptions): SnapshotChanges {
  const at = checkAt(this, options, "changes");
  const history = historyFor(this, at, "changes");
  const before = at > history.first ? history.snapshotAt(at - 1) : null;
  return diffSnapshots(before, history.snapshotAt(at));
};
