/**
 * Event kinds are part of the public contract (readers filter on them): existing kinds are never
 * renamed, only added.
 */
export type EventKind =
  | "map"
  | "unmap"
  | "sync"
  | "translate"
  | "hypercall"
  | "bounce-copy"
  | "iommu-map"
  | "iommu-unmap"
  | "iotlb-flush"
  | "iotlb-stale"
  | "dma-read"
  | "dma-write"
  | "stray-dma"
  | "unmapped-dma"
  | "iommu-fault"
  | "dma-debug"
  | "grant-map"
  | "grant-unmap"
  | "grant"
  | "panic"
  | "setup"
  | "alloc"
  | "exchange"
  | "mapping-error"
  | "kmap"
  | "block"
  | "cpu-copy"
  /** A domain wrote its own p2m table (set_foreign_p2m_mapping / clear_foreign_p2m_mapping). */
  | "p2m-update"
  /** A swiotlb/xen-swiotlb mapping took bounce slots instead of mapping directly, with the reason. */
  | "bounce"
  /** Per-packet network stack and driver work in a packet stream (costs.packetProcessing). */
  | "packet"
  /** A driver reused a mapping it kept (optimistic teardown, persistent/shared, direct-map) instead of mapping again. */
  | "mapping-reuse";

/** How loudly a picture or trace view should flag an event. */
export type Severity = "info" | "warning" | "error";

/** One entry of `machine.trace`. Plain data: structured-cloneable. */
export interface TraceEvent {
  /** Position in the run, from 1. */
  seq: number;
  /** What sort of step this was, e.g. "map", "bounce-copy", "stray-dma" (see {@link EventKind}). */
  kind: EventKind;
  /** Simulated CPU cycles this step cost (0 for device-side work). */
  cost: number;
  /** Simulated time in microseconds when the event ended. */
  time: number;
  /** What happened, in the kernel's or Xen's words where they have words for it. */
  message: string;
  /** "error" for stray DMA, IOMMU faults, dma-debug reports and panics; "warning" for stale IOTLB hits, unmapped DMA and mapping errors; else "info". */
  severity: Severity;
  /** Name of the domain involved (the driver domain for DMA events). */
  domain?: string;
  /** Name of the device involved. */
  device?: string;
  /** Guest-physical (pseudo-physical) address. */
  address?: number;
  /** Bus address: what the device emits (a machine address without an IOMMU, an IOVA behind one). */
  busAddress?: number;
  /** Machine address (mfn × page size + offset) the step touched. */
  machineAddress?: number;
  /** Bytes the step covered (mapped, copied, transferred). */
  bytes?: number;
  /** Stable sub-code, e.g. a dma-debug check id ("D3") or a GNTST_* status. */
  code?: string;
  /** The domain whose memory a stray DMA hit. */
  victim?: string;
  /** Line of the reader's code that caused it (filled by the playground's locator). */
  line?: number;
}

/** Returned by `machine.stats()`. */
export interface Stats {
  /** Number of events of each kind (kinds that never occurred are absent). */
  events: Partial<Record<EventKind, number>>;
  /** Simulated CPU cycles: the run's total and the part each event kind contributed (they add up exactly). */
  cost: { total: number; byKind: Partial<Record<EventKind, number>> };
  /** Simulated time elapsed, in microseconds. */
  time: number;
  /** Events counted but not stored because the trace reached its limit. */
  droppedEvents: number;
}

/**
 * An event's message, or a function that builds it. Hot paths pass a function so a run with the
 * trace full (or switched off with `limits.traceEvents: 0`) never formats text nobody stores.
 */
export type EventMessage = string | (() => string);

export type EventFields = Omit<TraceEvent, "seq" | "time" | "cost" | "severity" | "kind" | "message"> & {
  cost?: number;
  severity?: Severity;
};

/** Returned for events past the trace limit: counted in stats, not stored. */
const DROPPED: TraceEvent = Object.freeze({
  seq: 0,
  kind: "setup",
  cost: 0,
  time: 0,
  message: "(trace limit reached)",
  severity: "info",
}) as TraceEvent;

const SEVERITY_BY_KIND: Partial<Record<EventKind, Severity>> = {
  "stray-dma": "error",
  "iommu-fault": "error",
  "dma-debug": "error",
  panic: "error",
  "iotlb-stale": "warning",
  "unmapped-dma": "warning",
  "mapping-error": "warning",
};

/**
 * The ordered event log plus running totals. Totals are kept as events arrive so `stats()` is
 * O(kinds) and still exact after the stored log hits its limit.
 */
export class Trace {
  readonly events: TraceEvent[] = [];
  private readonly counts: Partial<Record<EventKind, number>> = {};
  private readonly costs: Partial<Record<EventKind, number>> = {};
  private totalCost = 0;
  private cycles = 0;
  private dropped = 0;
  private seq = 0;
  /** Supplies the reader's source line for each event (set by the playground runner). */
  locate: (() => number | undefined) | undefined;
  /** Called with every stored event as it is appended (history.ts snapshots the machine here). */
  private readonly watchers: ((event: TraceEvent) => void)[] = [];

  constructor(
    private readonly maxEvents: number,
    private readonly cyclesPerMicrosecond: number,
  ) {}

  /** Current simulated time in microseconds. */
  get now(): number {
    return this.cycles / this.cyclesPerMicrosecond;
  }

  /** Lets simulated time pass without CPU work (the lazy IOTLB timer reads it). */
  advance(microseconds: number): void {
    this.cycles += microseconds * this.cyclesPerMicrosecond;
  }

  /** Adds a watcher called with each stored event once it is appended; returns a function that removes it. */
  watch(watcher: (event: TraceEvent) => void): () => void {
    this.watchers.push(watcher);
    return () => {
      const i = this.watchers.indexOf(watcher);
      if (i >= 0) this.watchers.splice(i, 1);
    };
  }

  /** The seq the next stored event will get minus one: the last stored event's seq (0 before any). */
  get lastSeq(): number {
    return this.seq;
  }

  emit(kind: EventKind, message: EventMessage, fields: EventFields = {}): TraceEvent {
    // Integer cycles keep every sum exact, so trace costs always add up to stats() totals.
    const cost = Math.round(fields.cost ?? 0);
    this.cycles += cost;
    this.totalCost += cost;
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    this.costs[kind] = (this.costs[kind] ?? 0) + cost;
    if (this.events.length >= this.maxEvents) {
      this.dropped++;
      return DROPPED;
    }
    // Object.assign, not a spread: same keys in the same order, several times faster in V8 for
    // the many shapes of `fields`.
    const event = Object.assign({}, fields) as TraceEvent;
    event.seq = ++this.seq;
    event.kind = kind;
    event.cost = cost;
    event.time = this.now;
    event.message = typeof message === "string" ? message : message();
    event.severity = fields.severity ?? SEVERITY_BY_KIND[kind] ?? "info";
    const line = this.locate?.();
    if (line !== undefined) event.line = line;
    this.events.push(event);
    if (this.watchers.length !== 0) for (const watcher of this.watchers) watcher(event);
    return event;
  }

  stats(): Stats {
    return {
      events: { ...this.counts },
      cost: { total: this.totalCost, byKind: { ...this.costs } },
      time: this.now,
      droppedEvents: this.dropped,
    };
  }
}
