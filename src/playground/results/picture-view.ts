// The Picture tab: the memory map of one machine, redrawn at a step of the trace.
import type { MachineReport } from '../protocol';
import { h } from './dom';

export class PictureView {
  private report: MachineReport | undefined;
  private seq: number | undefined;

  constructor(private readonly panel: HTMLElement) {}

  clear(): void {
    this.report = undefined;
  }

  /** A new machine: forget the step, draw when shown. */
  reset(report: MachineReport): void {
    this.report = report;
    this.seq = undefined;
    this.panel.replaceChildren(h('p', { class: 'pg-empty' }, 'The memory map is drawn when this tab is open.'));
  }

  /** Jump to the step of event `seq` (a trace event was picked). */
  step(seq: number): void {
    this.seq = seq;
    if (this.report && !this.panel.hidden) this.show(this.report);
  }

  show(report: MachineReport): void {
    this.report = report;
    this.panel.replaceChildren(h('p', { class: 'pg-empty' }, 'Pictures of the memory map are coming soon.'));
  }
}
