// The results of a run beside the console: Trace, Stats and Picture, for one machine at a time
// (a selector appears when the code built several). Loaded on the first run's results, so a
// page that is only read never downloads it.
import type { EventKind, TraceEvent } from "../../../sim/index.js";
import type { MachineReport } from "../../shared/protocol.js";
import { h } from "./dom.js";
// biome-ignore lint/correctness/useImportExtensions: a stylesheet, bundled by Vite
import "./results.css";
import { exportTrace } from "./export-trace.js";
import { PictureView } from "./picture-view.js";
import { renderStats } from "./stats-view.js";
import { TraceView } from "./trace-view.js";

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
}

/** A run's machines: the first in full, every one by label, any other fetched when chosen. */
export interface RunMachines {
  reports: MachineReport[];
  /** One per machine the run built (at least as many as `reports`). */
  labels: string[];
  /** Machine `index` (0-based) in full, from the runner. */
  inspect?(index: number): Promise<MachineReport | undefined>;
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

  constructor(private readonly host: ResultsHost) {
    this.trace = new TraceView(host.panels.trace, {
      pick: (event) => this.pick(event),
      exportJson: () => void this.exportAll(),
    });
    this.picture = new PictureView(host.panels.picture, host.idPrefix);
    this.select.addEventListener("change", () => void this.showMachine(Number(this.select.value)));
    host.selectorSlot.replaceChildren(h("label", { class: "pg-machine" }, "Machine ", this.select));
    host.selectorSlot.hidden = true;
  }

  /** A run ended with these machines (none: the code built no machine, or the run was stopped). */
  show(machines: RunMachines, why = "Your code created no machine, so there is nothing to show."): void {
    this.machines = machines;
    this.loaded = new Map(machines.reports.map((r, i) => [i, r]));
    const labels = machines.labels.length >= machines.reports.length ? machines.labels : machines.reports.map((r) => r.label);
    this.select.replaceChildren(...labels.map((label, i) => h("option", { value: i }, label)));
    this.host.selectorSlot.hidden = labels.length < 2;
    if (labels.length === 0) {
      this.current = undefined;
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
    this.trace.show(report);
    renderStats(this.host.panels.stats, report);
    this.picture.reset(report);
    if (this.host.pictureVisible()) this.picture.show(report);
  }

  private pick(event: TraceEvent): void {
    if (event.line !== undefined) this.host.highlightLine(event.line);
    this.picture.step(event.seq);
  }
}
