// Compare: one stepper over both sides' pictures. By event, position n shows each side's n-th
// event; by line, position n shows each side's n-th run of events from one line of the reader's
// code (at its last event), so the two runs line up even when one line did more work in one.
import type { MachineReport } from "../common/protocol.js";
import type { PictureView } from "./results/picture-view.js";
import { StepControls } from "./results/step-controls.js";
import { h, grouped } from "./results/dom.js";
import { lineSteps, stepBounds, type CompareMode } from "./step-model.js";
import { StepSource } from "./step-source.js";
import type { StepAnswer } from "../common/step-protocol.js";

export interface CompareSide {
  name: string;
  report: MachineReport | undefined;
  view: PictureView;
  /** Machine `index` at event `at`, from this side's finished runner. */
  step(index: number, at: number): Promise<StepAnswer | undefined>;
}

/** The trace index side `s` shows at `position`, or undefined (nothing to show there). */
export function sideIndex(report: MachineReport | undefined, position: number, mode: CompareMode): number | undefined {
  const bounds = report && stepBounds(report);
  if (!report || !bounds) return undefined;
  const index = mode === "event" ? position : (lineSteps(report.trace)[position] ?? report.trace.length - 1);
  return Math.min(bounds.to, Math.max(bounds.from, index));
}

function positions(report: MachineReport | undefined, mode: CompareMode): number {
  const bounds = report && stepBounds(report);
  if (!report || !bounds) return 0;
  return mode === "event" ? bounds.to + 1 : lineSteps(report.trace.slice(0, bounds.to + 1)).length;
}

/** Builds the shared stepper; returns its element (controls and the by-event/by-line toggle). */
export function compareStepper(sides: [CompareSide, CompareSide]): HTMLElement {
  const sources = sides.map((s) => new StepSource((i, at) => s.step(i, at)));
  const mode = h(
    "select",
    { class: "pg-input", "aria-label": "Step both sides by", "data-step-mode": "" },
    h("option", { value: "event" }, "by event index"),
    h("option", { value: "line" }, "by your code’s line"),
  );
  let token = 0;
  const controls = new StepControls((position) => void go(position));
  const count = () => Math.max(...sides.map((s) => positions(s.report, mode.value as CompareMode)));
  const go = async (position: number): Promise<void> => {
    const m = mode.value as CompareMode;
    const mine = ++token;
    const shown = await Promise.all(
      sides.map(async (side, i) => {
        const index = sideIndex(side.report, position, m);
        const event = index === undefined ? undefined : side.report!.trace[index];
        if (!event) return `${side.name}: no steps`;
        const result = await sources[i]!.at(0, event.seq);
        if (mine !== token) return "";
        if (!result.ok) return `${side.name}: ${result.message}`;
        side.view.step(result.state);
        return `${side.name}: event ${grouped(index! + 1)}, ${event.kind}${event.line === undefined ? "" : ` (line ${event.line})`}`;
      }),
    );
    if (mine !== token) return;
    const unit = m === "event" ? "Step" : "Line step";
    controls.set(0, count() - 1, position, `${unit} ${grouped(position + 1)} of ${grouped(count())}. ${shown.join(". ")}.`);
  };
  const reset = () =>
    controls.set(
      0,
      count() - 1,
      Math.max(0, count() - 1),
      `Both runs at their end. Step them together ${mode.value === "event" ? "event by event" : "line by line"}.`,
    );
  mode.addEventListener("change", reset);
  reset();
  const element = h("div", { class: "pg-compare-stepper" }, h("label", {}, "Step both ", mode), controls.element);
  controls.listenForKeys(element);
  return element;
}
