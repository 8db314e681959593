// The results of a run beside the console: Trace, Stats and Picture, for one machine at a time
// (a selector appears when the code built several). Loaded on the first run's results, so a
// page that is only read never downloads it.
import type { EventKind, TraceEvent } from "../../../sim/index.js";
import type { MachineReport } from "../../common/protocol.js";
import type { StepAnswer } from "../../common/step-protocol.js";
import { grouped, h } from "./dom.js";
// biome-ignore lint/correctness/useImportExtensions: a stylesheet, bundled by Vite
import "./results.css";
import { exportTrace } from "./export-trace.js";
import { PictureView } from "./picture-view.js";
import { renderStats } from "./stats-view.js";
import { TraceView } from "./trace-view.js";
import { StepControls } from "./step-controls.js";
import { StepSource, type StepState } from "../step-source.js";
import { stepBounds } from "../step-model.js";

export interface ResultsHost {
  panels: { trace: HTMLElement; stats: HTMLElement; picture: HTMLElement };
  /** Where the machine selector goes (before the panels). */
  selectorSlot: HTMLElement;
  /** Marks the reader's line (editor or static code). */
  highlightLine(line: number): void;
  /** Whether the Picture tab is showing (it draws only then). */
  pictureVisible(): boolean;
  /** Unique per embed: SVG ids are page-global. */
  idPrefix: string;
  /** The results tab showing (the stepper shows with Trace, Stats and Picture). */
  selectedTab?(): string;
}

/** A run's machines: the first in full, every one by label, any other fetched when chosen. */
export interface RunMachines {
  reports: MachineReport[];
  /** One per machine the run built (at least as many as `reports`). */
  labels: string[];
  /** Machine `index` (0-based) in full, from the runner. */
  inspect?(index: number): Promise<MachineReport | undefined>;
  /** Machine `index` (0-based) right after event `at`, from the finished run's runner (the stepper). */
  step?(index: number, at: number): Promise<StepAnswer | undefined>;
}

export class ResultsView {
  private machines: RunMachines = { reports: [], labels: [] };
  /** Reports fetched so far, by 0-based index. */
  private loaded = new Map<number, MachineReport>();
  private current: MachineReport | undefined;
  private showing = 0;
  private readonly select = h("select", { class: "pg-input", "aria-label": "Machine" });
  private readonly trace: TraceView;
  private readonly picture: PictureView;
  /** One stepper for Trace, Stats and Picture. */
  private readonly controls = new StepControls((index) => void this.goTo(index));
  private source: StepSource | undefined;
  /** Bumped per step asked for: a late answer for an older step is not shown. */
  private stepToken = 0;

  constructor(private readonly host: ResultsHost) {
    this.trace = new TraceView(host.panels.trace, {
      pick: (event) => this.pick(event),
      exportJson: () => void this.exportAll(),
    });
    this.picture = new PictureView(host.panels.picture, host.idPrefix);
    this.select.addEventListener("change", () => void this.showMachine(Number(this.select.value)));
    host.selectorSlot.replaceChildren(h("label", { class: "pg-machine" }, "Machine ", this.select));
    host.selectorSlot.hidden = true;
    host.selectorSlot.after(this.controls.element);
    this.controls.element.hidden = true;
    for (const area of [this.controls.element, ...Object.values(host.panels)]) this.controls.listenForKeys(area);
  }

  /** A results tab was selected: the stepper belongs to Trace, Stats and Picture. */
  tabShown(name: string): void {
    this.controls.element.hidden = name === "console" || !this.current;
  }

  /** A run ended with these machines (none: the code built no machine, or the run was stopped). */
  show(machines: RunMachines, why = "Your code created no machine, so there is nothing to show."): void {
    this.machines = machines;
    this.source = machines.step && new StepSource(machines.step);
    this.controls.stop();
    this.stepToken++;
    this.loaded = new Map(machines.reports.map((r, i) => [i, r]));
    const labels = machines.labels.length >= machines.reports.length ? machines.labels : machines.reports.map((r) => r.label);
    this.select.replaceChildren(...labels.map((label, i) => h("option", { value: i }, label)));
    this.host.selectorSlot.hidden = labels.length < 2;
    if (labels.length === 0) {
      this.current = undefined;
      this.controls.element.hidden = true;
      for (const panel of Object.values(this.host.panels)) panel.replaceChildren(h("p", { class: "pg-empty" }, why));
      this.picture.clear();
      return;
    }
    void this.showMachine(0);
  }

  /** The Picture tab became visible. */
  pictureShown(): void {
    if (this.current) this.picture.show(this.current);
  }

  /**
   * Shows the first machine with events matching `filter` (from the shown one on), its trace
   * filtered to them. Resolves false if no machine has any.
   */
  async showFlagged(filter: { kind: EventKind } | { severity: "error" | "warning" }): Promise<boolean> {
    const matches = (e: TraceEvent) => ("kind" in filter ? e.kind === filter.kind : e.severity === filter.severity);
    const count = this.select.options.length;
    for (let step = 0; step < count; step++) {
      const index = (this.showing + step) % count;
      const report = await this.report(index);
      if (!report?.trace.some(matches)) continue;
      if (index !== this.showing || this.current !== report) await this.showMachine(index);
      this.trace.filter(filter);
      return true;
    }
    return false;
  }

  /** Every machine of the run, fetching those not loaded yet. */
  private async exportAll(): Promise<void> {
    const reports = await Promise.all([...this.select.options].map((_, i) => this.report(i)));
    exportTrace(reports.filter((r): r is MachineReport => r !== undefined));
  }

  private async report(index: number): Promise<MachineReport | undefined> {
    const known = this.loaded.get(index);
    if (known) return known;
    const fetched = await this.machines.inspect?.(index);
    if (fetched) this.loaded.set(index, fetched);
    return fetched;
  }

  private async showMachine(index: number): Promise<void> {
    const machines = this.machines;
    this.showing = index;
    this.select.value = String(index);
    const report = await this.report(index);
    if (machines !== this.machines || this.showing !== index) return;
    if (!report) {
      this.current = undefined;
      for (const panel of Object.values(this.host.panels))
        panel.replaceChildren(h("p", { class: "pg-empty" }, "This machine’s details are gone: run the code again to see them."));
      return;
    }
    this.current = report;
    this.stepToken++;
    this.trace.show(report);
    renderStats(this.host.panels.stats, report);
    this.picture.reset(report);
    if (this.host.pictureVisible()) this.picture.show(report);
    this.atEnd(report);
  }

  /** The stepper at the end of the run (nothing stepped yet). */
  private atEnd(report: MachineReport): void {
    const bounds = this.source && stepBounds(report);
    const total = report.trace.length;
    const limited = bounds && report.trace[bounds.to]!.seq < report.trace[total - 1]!.seq;
    const caption = !bounds
      ? total === 0
        ? "No events to step through."
        : "This machine’s steps were not recorded (the run spent its time for recording steps on earlier machines)."
      : `End of the run: ${grouped(total)} events. Step through them with the buttons, the slider or ←/→.${limited ? ` Steps go up to event ${grouped(bounds.to + 1)}: recording every step of this run would cost more time than a run has.` : ""}`;
    this.controls.set(bounds?.from ?? 0, bounds?.to ?? -1, bounds?.to ?? 0, caption);
    this.tabShown(this.host.selectedTab?.() ?? "trace");
  }

  /** Shows trace index `index` of the machine shown: its row, its line, the totals so far, the picture then. */
  private async goTo(index: number): Promise<void> {
    const report = this.current;
    const event = report?.trace[index];
    if (!report || !event || !this.source) return;
    const token = ++this.stepToken;
    const result = await this.source.at(this.showing, event.seq);
    if (token !== this.stepToken || report !== this.current) return;
    if (!result.ok) return this.controls.say(`Step ${index + 1} could not be shown: ${result.message}`);
    const bounds = stepBounds(report)!;
    const line = event.line === undefined ? "" : ` (line ${event.line})`;
    this.controls.set(
      bounds.from,
      bounds.to,
      index,
      `Step ${grouped(index + 1)} of ${grouped(report.trace.length)}: ${event.kind}${line}: ${event.message}`,
    );
    this.showStep(report, index, result.state);
    // Ask ahead for the neighbours, so the next press draws without waiting for the runner.
    for (const near of [index + 1, index - 1]) {
      const e = near >= bounds.from && near <= bounds.to ? report.trace[near] : undefined;
      if (e) void this.source.at(this.showing, e.seq);
    }
  }

  private showStep(report: MachineReport, index: number, state: StepState): void {
    const event = report.trace[index]!;
    this.host.panels.trace.dataset.step = String(event.seq);
    this.trace.markStep(event.seq, !this.host.panels.trace.hidden);
    if (event.line !== undefined) this.host.highlightLine(event.line);
    renderStats(this.host.panels.stats, { ...report, stats: state.stats });
    this.host.panels.stats.prepend(
      h(
        "p",
        { class: "pg-step-totals" },
        `Totals up to step ${grouped(index + 1)} of ${grouped(report.trace.length)} (event ${event.seq}).`,
      ),
    );
    this.host.panels.stats.dataset.step = String(event.seq);
    this.picture.step(state);
  }

  /** The reader picked an event in the trace: its line at once, the rest once the step arrives. */
  private pick(event: TraceEvent): void {
    if (event.line !== undefined) this.host.highlightLine(event.line);
    const index = this.current?.trace.indexOf(event) ?? -1;
    const bounds = this.current && this.source && stepBounds(this.current);
    if (bounds && index >= bounds.from && index <= bounds.to) void this.goTo(index);
  }
}
