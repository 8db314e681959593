// The results of a run beside the console: Trace, Stats and Picture, for one machine at a time
// (a selector appears when the code built several). Loaded on the first run's results, so a
// page that is only read never downloads it.
import type { TraceEvent } from '../../sim/index';
import type { MachineReport } from '../protocol';
import { h } from './dom';
import { exportTrace } from './export-trace';
import { PictureView } from './picture-view';
import { renderStats } from './stats-view';
import { TraceView } from './trace-view';

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

export class ResultsView {
  private machines: MachineReport[] = [];
  private current: MachineReport | undefined;
  private readonly select = h('select', { class: 'pg-input', 'aria-label': 'Machine' });
  private readonly trace: TraceView;
  private readonly picture: PictureView;

  constructor(private readonly host: ResultsHost) {
    this.trace = new TraceView(host.panels.trace, {
      pick: (event) => this.pick(event),
      exportJson: () => exportTrace(this.machines),
    });
    this.picture = new PictureView(host.panels.picture, host.idPrefix);
    this.select.addEventListener('change', () => this.showMachine(Number(this.select.value)));
    host.selectorSlot.replaceChildren(h('label', { class: 'pg-machine' }, 'Machine ', this.select));
    host.selectorSlot.hidden = true;
  }

  /** A run ended with these machines (none: the code built no machine, or the run was stopped). */
  show(machines: MachineReport[], machinesOmitted: number, why = 'Your code created no machine, so there is nothing to show.'): void {
    this.machines = machines;
    this.select.replaceChildren(
      ...machines.map((m, i) => h('option', { value: i }, m.label)),
      ...(machinesOmitted > 0 ? [h('option', { disabled: true }, `… ${machinesOmitted} more not shown`)] : []),
    );
    this.host.selectorSlot.hidden = machines.length + machinesOmitted < 2;
    if (machines.length === 0) {
      this.current = undefined;
      for (const panel of Object.values(this.host.panels)) panel.replaceChildren(h('p', { class: 'pg-empty' }, why));
      this.picture.clear();
      return;
    }
    this.showMachine(0);
  }

  /** The Picture tab became visible. */
  pictureShown(): void {
    if (this.current) this.picture.show(this.current);
  }

  private showMachine(index: number): void {
    const report = this.machines[index];
    if (!report) return;
    this.current = report;
    this.select.value = String(index);
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
