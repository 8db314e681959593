// Where a stepper can go, without the DOM: positions are indices into a machine's trace as the
// page has it (0 = the first event), limited to the events whose moments the runner recorded.
// Compare steps two traces together, by event index or by the reader's line.
import type { TraceEvent } from "../../sim/index.js";

export interface Steppable {
  trace: readonly TraceEvent[];
  /** Recorded history (event seqs); absent: none. */
  steps?: { first: number; last: number };
}

/** The trace indices the stepper can show: [from, to], or undefined when none. */
export function stepBounds(s: Steppable): { from: number; to: number } | undefined {
  if (!s.steps || s.trace.length === 0) return undefined;
  const from = s.trace.findIndex((e) => e.seq >= s.steps!.first);
  let to = -1;
  for (let i = s.trace.length - 1; i >= 0; i--) {
    if (s.trace[i]!.seq <= s.steps.last) {
      to = i;
      break;
    }
  }
  return from < 0 || to < from ? undefined : { from, to };
}

export function clampIndex(s: Steppable, index: number): number | undefined {
  const b = stepBounds(s);
  return b && Math.min(b.to, Math.max(b.from, Math.round(index)));
}

/**
 * The reader's lines as steps: each run of consecutive events with the same line is one step,
 * shown at its last event (the line's work done). Returns each group's last trace index.
 */
export function lineSteps(trace: readonly TraceEvent[]): number[] {
  const ends: number[] = [];
  trace.forEach((e, i) => {
    if (i + 1 === trace.length || trace[i + 1]!.line !== e.line) ends.push(i);
  });
  return ends;
}

/** The line step (index into {@link lineSteps}) that holds trace index `index`. */
export function lineStepOf(trace: readonly TraceEvent[], index: number): number {
  const ends = lineSteps(trace);
  const g = ends.findIndex((end) => end >= index);
  return g < 0 ? ends.length - 1 : g;
}

export type CompareMode = "event" | "line";

/**
 * Compare: side B's trace index for side A's position. By event: the same index (clamped). By
 * line: the same line step (the n-th run of one line's events), shown at its last event.
 */
export function alignedIndex(a: readonly TraceEvent[], b: readonly TraceEvent[], index: number, mode: CompareMode): number {
  if (b.length === 0) return -1;
  if (mode === "event") return Math.min(index, b.length - 1);
  const g = lineStepOf(a, index);
  const ends = lineSteps(b);
  return ends[Math.min(g, ends.length - 1)]!;
}
