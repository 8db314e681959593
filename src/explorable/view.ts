/**
 * What an explorable figure shows at one step: the memory map of `snapshot({ at: step })` in
 * both layouts, and a sentence for screen readers (and everyone) saying what the event did and
 * what appeared or went away. Used at build time for the static picture and in the browser.
 */
import { memoryMapVariants } from "../render/figure-layouts.js";
import type { FigureVariant } from "../render/figure-layouts.js";
import type { Machine, MachineSnapshot, SnapshotChange } from "../sim/index.js";
import type { ExplorableScenario, Settings } from "./scenarios.js";

export interface StepView {
  /** The step shown (a trace event's seq). */
  step: number;
  /** Events in the run. */
  steps: number;
  /** "Event 5 of 9: map". */
  position: string;
  /** What happened at this step and what the machine holds now. */
  description: string;
  variants: FigureVariant[];
}

/** The step a figure starts on. */
export function initialStep(scenario: ExplorableScenario, m: Machine): number {
  return scenario.initialStep?.(m) ?? m.trace.length;
}

function list(changes: SnapshotChange[]): string {
  const labels = changes.map((c) => c.label);
  return labels.length > 3 ? `${labels.slice(0, 3).join("; ")} and ${labels.length - 3} more` : labels.join("; ");
}

/** "2 live mappings, 4 bounce slots in use, 1 IOTLB entry (stale)": the state a reader steps through. */
function holdings(s: MachineSnapshot): string {
  const parts: string[] = [];
  const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  parts.push(plural(s.mappings.length, "live DMA mapping"));
  const slots = s.swiotlb.reduce((n, p) => n + p.usedSlots, 0);
  if (s.swiotlb.length > 0) parts.push(`${plural(slots, "bounce slot")} in use`);
  const iotlb = s.iommu.flatMap((d) => d.iotlb);
  if (s.iommu.length > 0) {
    const stale = iotlb.filter((e) => e.stale).length;
    parts.push(`${plural(iotlb.length, "IOTLB entry", "IOTLB entries")}${stale > 0 ? ` (${stale} stale)` : ""}`);
    const queued = s.iommu.reduce((n, d) => n + d.queued, 0);
    if (queued > 0) parts.push(`${plural(queued, "unmap")} waiting for the flush`);
  }
  if (s.grants.length > 0) parts.push(plural(s.grants.length, "grant"));
  if (s.foreignPages.length > 0) parts.push(plural(s.foreignPages.length, "foreign page"));
  return parts.join(", ");
}

/** Everything the figure shows at `step` of the machine's run. */
export function stepView(scenario: ExplorableScenario, m: Machine, step: number, idPrefix: string): StepView {
  const steps = m.trace.length;
  const at = Math.min(Math.max(1, Math.round(step)), steps);
  const event = m.trace[at - 1]!;
  const snapshot = m.snapshot({ at });
  const changes = m.changes({ at });
  const news = [changes.appeared.length > 0 ? `New: ${list(changes.appeared)}.` : "", changes.gone.length > 0 ? `Gone: ${list(changes.gone)}.` : "", changes.changed.length > 0 ? `Changed: ${list(changes.changed)}.` : ""].filter(Boolean);
  return {
    step: at,
    steps,
    position: `Event ${at} of ${steps}: ${event.kind}`,
    description: [`Event ${at} of ${steps} (${event.kind}): ${event.message}`, ...news, `Now: ${holdings(snapshot)}.`].join(" "),
    variants: memoryMapVariants(snapshot, { trace: m.trace, uptoSeq: at, title: scenario.title, idPrefix }),
  };
}

/** A stable key for a settings object (the runtime caches one run per combination). */
export function settingsKey(settings: Settings): string {
  return Object.keys(settings)
    .sort()
    .map((k) => `${k}=${settings[k]}`)
    .join("&");
}
