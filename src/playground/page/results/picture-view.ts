// The Picture tab: the memory map of one machine (src/render). At the end of the run it draws the
// final state with every event; at a step (the stepper) it draws the machine as it was right after
// that event, with the step's own event, and marks what appeared or went away at that step. The
// renderer loads the first time the tab is opened.
import type { MachineReport } from "../../common/protocol.js";
import type { StepState } from "../step-source.js";
import { h } from "./dom.js";
import { changeList, markChanges } from "./step-marks.js";

type Render = typeof import("../../../render/index.js");
let renderer: Promise<Render> | undefined;

export class PictureView {
  private report: MachineReport | undefined;
  /** The step shown; undefined: the end of the run. */
  private state: StepState | undefined;
  private readonly figure = h("div", { class: "pg-picture" });
  private readonly note = h("div", { class: "pg-step-note" });
  /** Redraws when the panel's width calls for the other layout (a phone turned, a column resized). */
  private readonly resized = new ResizeObserver(() => {
    const width = this.figure.clientWidth;
    const drawn = this.figure.dataset.layout;
    if (!drawn || !this.report || width === 0) return;
    void renderer?.then(({ layoutFor }) => {
      if (layoutFor(width).name !== drawn && this.figure.dataset.layout === drawn) void this.draw();
    });
  });

  constructor(
    private readonly panel: HTMLElement,
    private readonly idPrefix: string,
  ) {}

  clear(): void {
    this.report = undefined;
    this.state = undefined;
  }

  /** A new machine: back to the end of the run, drawn when the tab is shown. */
  reset(report: MachineReport): void {
    this.report = report;
    this.state = undefined;
    this.panel.replaceChildren(h("p", { class: "pg-empty" }, "Open this tab to draw the memory map."));
  }

  /** The machine at a step (undefined: the end of the run); drawn now if the panel shows. */
  step(state: StepState | undefined): void {
    this.state = state;
    if (this.report && !this.panel.hidden) void this.draw();
  }

  show(report: MachineReport): void {
    this.report = report;
    void this.draw();
  }

  private async draw(): Promise<void> {
    const report = this.report;
    const state = this.state;
    if (!report) return;
    const snapshot = state?.snapshot ?? report.snapshot;
    if (!snapshot) {
      this.panel.replaceChildren(
        h("p", { class: "pg-empty" }, `No picture: the machine's snapshot failed (${report.snapshotError ?? "unknown error"}).`),
      );
      return;
    }
    if (!this.panel.contains(this.figure)) this.panel.replaceChildren(this.figure, this.note);
    try {
      const { renderMemoryMap, layoutFor } = await (renderer ??= import("../../../render/index.js"));
      if (report !== this.report || state !== this.state) return;
      // The build-time pictures' layouts: drawn at the layout's own width and never shown smaller.
      const layout = layoutFor(this.figure.clientWidth);
      const event = state && report.trace.find((e) => e.seq === state.seq);
      // The SVG string is ours (the renderer escapes every text it draws), so innerHTML is safe.
      this.figure.innerHTML = renderMemoryMap(snapshot, {
        // At a step: only that step's event, so incidents of earlier steps are not drawn as current.
        trace: state ? (event ? [event] : []) : report.trace,
        ...(state && { uptoSeq: state.seq }),
        width: layout.width,
        maxCells: layout.maxCells,
        idPrefix: `${this.idPrefix}-m${report.index}`,
      });
      this.figure.dataset.layout = layout.name;
      this.resized.observe(this.figure);
      const svg = this.figure.querySelector("svg");
      if (state && svg) markChanges(svg, state.changes, snapshot);
      this.note.replaceChildren(
        state
          ? changeList(state.changes)
          : h("p", { class: "pg-empty" }, "The machine at the end of the run. Step through the run to see it at each event."),
      );
      this.panel.dataset.drawnSeq = state ? String(state.seq) : "end";
    } catch (err) {
      this.figure.replaceChildren(
        h("p", { class: "pg-empty" }, `The picture could not be drawn: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
  }
}
