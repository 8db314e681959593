// The status line every run ends with: how it ended, how long the code ran, how many machines it
// built, and the trace's errors and warnings (each a link to the Trace tab filtered to them).
// Pure data (no DOM), so Node tests read the same sentences the page shows.
import type { TraceFlags } from "../common/protocol.js";
import type { RunEnd } from "./run.js";

/** What a status link filters the Trace tab to. */
export type TraceFilter = { kind: "dma-debug" } | { severity: "error" | "warning" };

export type StatusPart = { text: string; filter?: TraceFilter };

export interface RunSummaryFacts {
  end: RunEnd;
  /** Machines the code built (undefined: the run ended before it could say). */
  machines?: number;
  flags?: TraceFlags;
  /** The uncaught error that failed the run. */
  error?: { name: string; line?: number };
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** "12 ms", "1.4 s". */
export function formatDuration(ms: number): string {
  if (ms < 1) return "<1 ms";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

function headline({ end, error }: RunSummaryFacts): string {
  const time = formatDuration(end.durationMs);
  switch (end.status) {
    case "finished":
      return `Finished in ${time}`;
    case "failed":
      return `Failed after ${time}${error ? `: ${error.name}${error.line !== undefined ? ` on line ${error.line}` : ""}` : ""}`;
    case "time limit": {
      const pending = end.pending;
      const what = pending
        ? [pending.awaiting && "still awaiting", pending.timers > 0 && `${plural(pending.timers, "timer")} pending`]
            .filter(Boolean)
            .join(", ")
        : "still running";
      return `Time limit: stopped after ${time} (${what})`;
    }
    case "stopped":
      return `Stopped by you after ${time}`;
    case "crashed":
      return `Crashed after ${time}: ${end.message ?? "the runner ended unexpectedly"}`;
  }
}

/** The status line's parts, in order; parts with a `filter` are links to the Trace tab. */
export function statusParts(facts: RunSummaryFacts): StatusPart[] {
  const parts: StatusPart[] = [{ text: headline(facts) }];
  if (facts.machines !== undefined) parts.push({ text: plural(facts.machines, "machine") });
  const flags = facts.flags;
  if (flags) {
    if (flags.dmaDebug > 0) parts.push({ text: `dma-debug: ${plural(flags.dmaDebug, "error")}`, filter: { kind: "dma-debug" } });
    const otherErrors = flags.errors - flags.dmaDebug;
    if (otherErrors > 0)
      parts.push({
        text: `${flags.dmaDebug > 0 ? "other " : ""}trace ${otherErrors === 1 ? "error" : "errors"}: ${otherErrors.toLocaleString("en-US")}`,
        filter: { severity: "error" },
      });
    if (flags.warnings > 0)
      parts.push({
        text: `trace ${flags.warnings === 1 ? "warning" : "warnings"}: ${flags.warnings.toLocaleString("en-US")}`,
        filter: { severity: "warning" },
      });
  }
  return parts;
}

/** "2 type errors (the run does not wait for the type checker)". */
export function typeErrorText(count: number): string {
  return count === 0 ? "no type errors" : `${plural(count, "type error")} in the editor`;
}
