// The numbers a side-by-side comparison shows, and which of them differ: events and cost by kind
// (summed over every machine a run reported), totals, error-severity events, and the console
// lines that only one side printed. Pure: Node tests compare outcomes the same way the page does.
import type { EventKind } from "../../sim/index.js";
import type { RunOutcome } from "./checks.js";

/** One run, reduced to what a comparison shows. */
export interface RunSummary {
  console: string[];
  error: RunOutcome["error"];
  machines: number;
  /** Events and cost by kind, over every reported machine. */
  kinds: Map<EventKind, { events: number; cost: number }>;
  totalEvents: number;
  totalCost: number;
  /** Events of severity "error" (stray DMA, IOMMU faults, dma-debug, panics) in the reported traces. */
  errorEvents: number;
  /** Some events were not sent to the page, so `errorEvents` may be short (it is a lower bound). */
  errorEventsPartial: boolean;
}

export function summarize(outcome: RunOutcome): RunSummary {
  const kinds = new Map<EventKind, { events: number; cost: number }>();
  let totalEvents = 0;
  let totalCost = 0;
  let errorEvents = 0;
  let errorEventsPartial = false;
  for (const m of outcome.machines) {
    for (const [kind, n] of Object.entries(m.stats.events) as [EventKind, number][]) {
      const row = kinds.get(kind) ?? { events: 0, cost: 0 };
      row.events += n;
      row.cost += m.stats.cost.byKind[kind] ?? 0;
      kinds.set(kind, row);
      totalEvents += n;
    }
    totalCost += m.stats.cost.total;
    errorEvents += m.trace.filter((e) => e.severity === "error").length;
    if (m.omitted > 0 || m.stats.droppedEvents > 0) errorEventsPartial = true;
  }
  return {
    console: outcome.console,
    error: outcome.error,
    machines: outcome.machines.length,
    kinds,
    totalEvents,
    totalCost,
    errorEvents,
    errorEventsPartial,
  };
}

export interface KindRow {
  kind: EventKind;
  a: { events: number; cost: number };
  b: { events: number; cost: number };
  differs: boolean;
}

/** One row per kind either side produced: the kinds that differ first (biggest cost change first), then the rest. */
export function compareKinds(a: RunSummary, b: RunSummary): KindRow[] {
  const zero = { events: 0, cost: 0 };
  const all = new Set<EventKind>([...a.kinds.keys(), ...b.kinds.keys()]);
  const rows = [...all].map((kind): KindRow => {
    const ra = a.kinds.get(kind) ?? zero;
    const rb = b.kinds.get(kind) ?? zero;
    return { kind, a: ra, b: rb, differs: ra.events !== rb.events || ra.cost !== rb.cost };
  });
  const weight = (r: KindRow) => Math.abs(r.b.cost - r.a.cost) + Math.abs(r.b.events - r.a.events);
  return rows.sort((x, y) => Number(y.differs) - Number(x.differs) || weight(y) - weight(x) || x.kind.localeCompare(y.kind));
}

/** Longest-common-subsequence tables grow with the product of the line counts: beyond this, compare by position. */
const LCS_MAX_CELLS = 1_000_000;

/**
 * For each side, which console lines the other side did not print (a line-level diff: lines in a
 * longest common subsequence are shared, the rest differ).
 */
export function diffLines(a: readonly string[], b: readonly string[]): { a: boolean[]; b: boolean[] } {
  const n = a.length;
  const m = b.length;
  if ((n + 1) * (m + 1) > LCS_MAX_CELLS) {
    return { a: a.map((line, i) => line !== b[i]), b: b.map((line, i) => line !== a[i]) };
  }
  // lcs[i][j]: LCS length of a[i..] and b[j..], in one flat array.
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] = a[i] === b[j] ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
    }
  }
  const onlyA = a.map(() => true);
  const onlyB = b.map(() => true);
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      onlyA[i++] = false;
      onlyB[j++] = false;
    } else if (lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!) i++;
    else j++;
  }
  return { a: onlyA, b: onlyB };
}

/** "+3", "−1,200", "0" for a change from `a` to `b`. */
export function formatDelta(a: number, b: number): string {
  const d = b - a;
  const text = Math.abs(d).toLocaleString("en-US", { maximumFractionDigits: 2 });
  return d > 0 ? `+${text}` : d < 0 ? `−${text}` : "0";
}
