// The Trace tab: every event of one machine, filterable by kind and text. Errors and warnings
// stand out (colour plus a word, never colour alone); an event's line button marks that line
// of the reader's code and moves the picture to that step.
import type { EventKind, TraceEvent } from "../../../sim/index.js";
import type { MachineReport } from "../../common/protocol.js";
import { grouped, h } from "./dom.js";
import { KIND_HELP } from "./kinds.js";

/** Rows added per "Show more": a long trace must not build thousands of rows at once. */
const PAGE_ROWS = 500;

export interface TraceActions {
  /** The reader chose an event: show its line and step the picture to it. */
  pick(event: TraceEvent): void;
  exportJson(): void;
}

export class TraceView {
  private report: MachineReport | undefined;
  private kindsShown = new Map<EventKind, number>();
  private shown = PAGE_ROWS;
  private readonly kind = h("select", { class: "pg-input", "aria-label": "Filter by kind" });
  private readonly severity = h(
    "select",
    { class: "pg-input", "aria-label": "Filter by severity" },
    h("option", { value: "" }, "Any severity"),
    h("option", { value: "error" }, "Errors"),
    h("option", { value: "warning" }, "Warnings"),
  );
  private readonly search = h("input", { class: "pg-input", type: "search", placeholder: "Filter text", "aria-label": "Filter by text" });
  private readonly count = h("span", { class: "pg-trace-count", "aria-live": "polite" });
  private readonly body = h("tbody");
  private readonly more = h("button", { type: "button", class: "pg-button" }, "Show more");
  private readonly notes = h("div", { class: "pg-trace-notes" });
  private readonly legend = h("dl", { class: "pg-legend" });

  constructor(
    private readonly panel: HTMLElement,
    private readonly actions: TraceActions,
  ) {
    this.kind.addEventListener("change", () => this.refilter());
    this.severity.addEventListener("change", () => this.refilter());
    this.search.addEventListener("input", () => this.refilter());
    this.more.addEventListener("click", () => {
      this.shown += PAGE_ROWS;
      this.renderRows();
    });
    this.body.addEventListener("click", (e) => {
      const row = (e.target as Element).closest<HTMLElement>("tr[data-seq]");
      const event = row && this.report?.trace.find((ev) => ev.seq === Number(row.dataset.seq));
      if (!event) return;
      for (const old of this.body.querySelectorAll("[aria-current]")) old.removeAttribute("aria-current");
      row.setAttribute("aria-current", "step");
      actions.pick(event);
    });
  }

  show(report: MachineReport): void {
    this.report = report;
    this.shown = PAGE_ROWS;
    const counts = new Map<EventKind, number>();
    for (const e of report.trace) counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
    const previous = this.kind.value;
    this.kind.replaceChildren(
      h("option", { value: "" }, `All kinds (${grouped(report.trace.length)})`),
      ...[...counts].map(([kind, n]) => h("option", { value: kind }, `${kind} (${grouped(n)})`)),
    );
    this.kind.value = counts.has(previous as EventKind) ? previous : "";
    this.kindsShown = counts;
    this.legend.replaceChildren(...[...counts.keys()].flatMap((kind) => [h("dt", {}, kind), h("dd", {}, KIND_HELP[kind] ?? "")]));
    this.notes.replaceChildren(
      h(
        "div",
        {},
        report.omitted > 0 &&
          h(
            "p",
            {},
            `Showing the first ${grouped(report.trace.length)} events; ${grouped(report.omitted)} later ones are in the stats but not listed.`,
          ),
        report.stats.droppedEvents > 0 &&
          h(
            "p",
            {},
            `${grouped(report.stats.droppedEvents)} events went past the machine's trace limit (limits.traceEvents): counted in the stats, not stored.`,
          ),
      ),
    );
    const exportButton = h("button", { type: "button", class: "pg-button", "data-action": "export" }, "Export trace as JSON");
    exportButton.addEventListener("click", () => this.actions.exportJson());
    this.panel.replaceChildren(
      h("div", { class: "pg-controls" }, this.kind, this.severity, this.search, exportButton, this.count),
      h(
        "div",
        { class: "pg-table-scroll" },
        h(
          "table",
          { class: "pg-trace" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, "#"),
              h("th", { scope: "col" }, "Kind"),
              h("th", { scope: "col" }, "Message"),
              h("th", { scope: "col", class: "pg-num" }, "Cost"),
              h("th", { scope: "col", class: "pg-num" }, "Line"),
            ),
          ),
          this.body,
        ),
      ),
      this.more,
      this.notes,
      h("details", { class: "pg-legend-box" }, h("summary", {}, "What the event kinds mean"), this.legend),
    );
    this.renderRows();
  }

  /** Shows only events of one kind or one severity (a status line's link). */
  filter(filter: { kind: EventKind } | { severity: "error" | "warning" }): void {
    this.search.value = "";
    if ("kind" in filter) {
      this.severity.value = "";
      this.kind.value = this.kindsShown.has(filter.kind) ? filter.kind : "";
    } else {
      this.kind.value = "";
      this.severity.value = filter.severity;
    }
    this.refilter();
  }

  /** Highlights the row of event `seq` (the stepper's step; undefined clears) and scrolls it into view. */
  markStep(seq: number | undefined, scroll: boolean): void {
    for (const old of this.body.querySelectorAll(".pg-step-current")) {
      old.classList.remove("pg-step-current");
      old.removeAttribute("aria-current");
    }
    if (seq === undefined) return;
    const index = this.matching().findIndex((e) => e.seq === seq);
    if (index >= this.shown) {
      this.shown = (Math.floor(index / PAGE_ROWS) + 1) * PAGE_ROWS;
      this.renderRows();
    }
    const row = this.body.querySelector<HTMLElement>(`tr[data-seq="${seq}"]`);
    if (!row) return;
    row.classList.add("pg-step-current");
    row.setAttribute("aria-current", "step");
    if (scroll) row.scrollIntoView({ block: "nearest" });
  }

  private refilter(): void {
    this.shown = PAGE_ROWS;
    this.renderRows();
  }

  private matching(): TraceEvent[] {
    const kind = this.kind.value;
    const severity = this.severity.value;
    const text = this.search.value.trim().toLowerCase();
    return (this.report?.trace ?? []).filter(
      (e) =>
        (kind === "" || e.kind === kind) &&
        (severity === "" || e.severity === severity) &&
        (text === "" || `${e.kind} ${e.message} ${e.domain ?? ""} ${e.device ?? ""} ${e.code ?? ""}`.toLowerCase().includes(text)),
    );
  }

  private renderRows(): void {
    const events = this.matching();
    const total = this.report?.trace.length ?? 0;
    this.body.replaceChildren(...events.slice(0, this.shown).map(row));
    this.more.hidden = events.length <= this.shown;
    this.count.textContent = events.length === total ? `${grouped(total)} events` : `${grouped(events.length)} of ${grouped(total)} events`;
  }
}

function row(e: TraceEvent): HTMLTableRowElement {
  const flagged = e.severity !== "info";
  return h(
    "tr",
    { class: flagged ? `pg-sev-${e.severity}` : undefined, "data-seq": e.seq, "data-kind": e.kind, "data-severity": e.severity },
    h("td", { class: "pg-num" }, String(e.seq)),
    h("td", { title: KIND_HELP[e.kind] }, e.kind, flagged && h("span", { class: "pg-sev" }, e.severity)),
    h("td", {}, e.message),
    h("td", { class: "pg-num" }, grouped(e.cost)),
    h(
      "td",
      { class: "pg-num" },
      e.line === undefined
        ? ""
        : h("button", { type: "button", class: "pg-line-link", "aria-label": `Show line ${e.line}` }, String(e.line)),
    ),
  );
}
