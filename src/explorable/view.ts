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

/** The step a figure starts on: the scenario's choice, else the first device access (the state while the device works), else the last event. */
export function initialStep(scenario: ExplorableScenario, m: Machine): number {
  const chosen = scenario.initialStep?.(m);
  if (chosen !== undefined) return chosen;
  const access = m.trace.find((e) => e.kind === "dma-read" || e.kind === "dma-write");
  return access?.seq ?? m.trace.length;
}

/** "dom0's mode: VP + IOMMU": what the controls are set to, so the description says what changed. */
function settingsText(scenario: ExplorableScenario, settings: Settings): string {
  return scenario.controls
    .map((c) => `${c.label}: ${c.choices.find((ch) => ch.value === settings[c.name])?.label ?? settings[c.name]}`)
    .join(", ");
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

/**
 * Everything the figure shows at `step` of the machine's run. The picture gets only the step's
 * own event: it shows the state at that step and what the step did, not incidents of earlier
 * steps (a stale-IOTLB write long flushed would otherwise still be drawn).
 */
export function stepView(scenario: ExplorableScenario, settings: Settings, m: Machine, step: number, idPrefix: string): StepView {
  const steps = m.trace.length;
  const at = Math.min(Math.max(1, Math.round(step)), steps);
  const event = m.trace[at - 1]!;
  const snapshot = m.snapshot({ at });
  const changes = m.changes({ at });
  const news = [
    changes.appeared.length > 0 ? `New: ${list(changes.appeared)}.` : "",
    changes.gone.length > 0 ? `Gone: ${list(changes.gone)}.` : "",
    changes.changed.length > 0 ? `Changed: ${list(changes.changed)}.` : "",
  ].filter(Boolean);
  return {
    step: at,
    steps,
    position: `Event ${at} of ${steps}: ${event.kind}`,
    description: [
      `${settingsText(scenario, settings)}. Event ${at} of ${steps} (${event.kind}): ${/[.!?]$/.test(event.message) ? event.message : `${event.message}.`}`,
      ...news,
      `Now: ${holdings(snapshot)}.`,
    ].join(" "),
    variants: memoryMapVariants(snapshot, { trace: [event], uptoSeq: at, title: scenario.title, idPrefix }),
  };
}

/** A stable key for a settings object (the runtime caches one run per combination). */
export function settingsKey(settings: Settings): string {
  return Object.keys(settings)
    .sort()
    .map((k) => `${k}=${settings[k]}`)
    .join("&");
}
