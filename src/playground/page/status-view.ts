// Shows a run's status line (run-status.ts) in its live region; a part with a trace filter is a
// button that opens the Trace tab filtered to those events. Text only: nothing is parsed as HTML.
import { statusParts, typeErrorText, type RunSummaryFacts, type TraceFilter } from "./run-status.js";

export class StatusView {
  private typeErrors: HTMLElement | undefined;

  constructor(
    private readonly root: HTMLElement,
    private readonly onFilter: (filter: TraceFilter) => void,
  ) {}

  running(): void {
    this.root.hidden = false;
    this.root.dataset.status = "running";
    this.root.textContent = "Running… (Esc or Stop ends the run)";
    this.typeErrors = undefined;
  }

  show(facts: RunSummaryFacts): void {
    this.root.hidden = false;
    this.root.dataset.status = facts.end.status;
    const nodes: (Node | string)[] = [];
    for (const [i, part] of statusParts(facts).entries()) {
      if (i > 0) nodes.push(" · ");
      if (!part.filter) {
        nodes.push(part.text);
        continue;
      }
      const filter = part.filter;
      const link = document.createElement("button");
      link.type = "button";
      link.className = "pg-status-link";
      link.dataset.filter = "kind" in filter ? filter.kind : filter.severity;
      link.textContent = part.text;
      link.title = "Show these events in the Trace tab";
      link.addEventListener("click", () => this.onFilter(filter));
      nodes.push(link);
    }
    this.typeErrors = document.createElement("span");
    this.typeErrors.className = "pg-type-errors";
    this.root.replaceChildren(...nodes, this.typeErrors);
  }

  /** Adds the editor's type error count (it arrives after the run, never holding it up). */
  showTypeErrors(count: number): void {
    if (!this.typeErrors) return;
    this.typeErrors.textContent = ` · ${typeErrorText(count)}`;
    this.typeErrors.dataset.count = String(count);
  }
}
