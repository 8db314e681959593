// The Picture tab: the memory map of one machine (src/render), with a step slider over the trace:
// moving it (or picking an event in the Trace tab) redraws the map with the events up to that
// step. The renderer loads the first time the tab is opened.
import type { TraceEvent } from "../../../sim/index.js";
import type { MachineReport } from "../../shared/protocol.js";
import { h } from "./dom.js";

type Render = typeof import("../../../render/index.js");
let renderer: Promise<Render> | undefined;

export class PictureView {
  private report: MachineReport | undefined;
  /** Step shown: a trace seq, or undefined for the whole run. */
  private seq: number | undefined;
  private readonly slider = h("input", { type: "range", class: "pg-step", min: 0, step: 1, "aria-label": "Step through the trace" });
  private readonly caption = h("p", { class: "pg-step-caption", "aria-live": "polite" });
  private readonly figure = h("div", { class: "pg-picture" });
  private frame = 0;
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
  ) {
    this.slider.addEventListener("input", () => {
      const index = Number(this.slider.value);
      const events = this.report?.trace ?? [];
      this.seq = index >= events.length ? undefined : (events[index - 1]?.seq ?? 0);
      cancelAnimationFrame(this.frame);
      this.frame = requestAnimationFrame(() => void this.draw());
    });
  }

  clear(): void {
    this.report = undefined;
  }

  /** A new machine: back to the whole run, drawn when the tab is shown. */
  reset(report: MachineReport): void {
    this.report = report;
    this.seq = undefined;
    this.panel.replaceChildren(h("p", { class: "pg-empty" }, "Open this tab to draw the memory map."));
  }

  /** Jump to the step of event `seq` (the reader picked it in the trace). */
  step(seq: number): void {
    this.seq = seq;
    if (this.report && !this.panel.hidden) void this.draw();
  }

  show(report: MachineReport): void {
    this.report = report;
    void this.draw();
  }

  private async draw(): Promise<void> {
    const report = this.report;
    if (!report) return;
    if (!report.snapshot) {
      this.panel.replaceChildren(
        h("p", { class: "pg-empty" }, `No picture: the machine's snapshot failed (${report.snapshotError ?? "unknown error"}).`),
      );
      return;
    }
    if (!this.panel.contains(this.figure)) {
      this.panel.replaceChildren(
        h("div", { class: "pg-controls" }, this.slider),
        this.caption,
        this.figure,
        h(
          "p",
          { class: "pg-empty" },
          "Frames and mappings are drawn as they were at the end of the run; the step limits which events (DMA, faults, the outlined step) are shown.",
        ),
      );
    }
    const events = report.trace;
    const index = this.seq === undefined ? events.length : Math.max(0, events.findIndex((e) => e.seq === this.seq) + 1);
    this.slider.max = String(events.length);
    this.slider.value = String(index);
    const text = caption(events[index - 1], index, events.length, this.seq === undefined);
    this.caption.textContent = text;
    this.slider.setAttribute("aria-valuetext", text);
    try {
      const { renderMemoryMap, layoutFor } = await (renderer ??= import("../../../render/index.js"));
      if (report !== this.report) return;
      // The build-time pictures' layouts: drawn at the layout's own width and never shown smaller.
      const layout = layoutFor(this.figure.clientWidth);
      // The SVG string is ours (the renderer escapes every text it draws), so innerHTML is safe.
      this.figure.innerHTML = renderMemoryMap(report.snapshot, {
        trace: events,
        ...(this.seq !== undefined && { uptoSeq: this.seq }),
        width: layout.width,
        maxCells: layout.maxCells,
        idPrefix: `${this.idPrefix}-m${report.index}`,
      });
      this.figure.dataset.layout = layout.name;
      this.resized.observe(this.figure);
      this.panel.dataset.drawnSeq = this.seq === undefined ? "end" : String(this.seq);
    } catch (err) {
      this.figure.replaceChildren(
        h("p", { class: "pg-empty" }, `The picture could not be drawn: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
  }
}

function caption(event: TraceEvent | undefined, index: number, total: number, whole: boolean): string {
  if (whole) return `Whole run: ${total} events.`;
  if (!event) return `Step 0 of ${total}: before the first event.`;
  const line = event.line === undefined ? "" : ` (line ${event.line})`;
  return `Step ${index} of ${total}: ${event.kind}${line}: ${event.message}`;
}
