// The Stats tab: events and simulated cost by kind, and the total, with a bar per kind so the
// expensive step is visible at a glance (the bar is decoration: the numbers carry the meaning).
import type { EventKind } from "../../../sim/index.js";
import type { MachineReport } from "../../common/protocol.js";
import { grouped, h } from "./dom.js";
import { KIND_HELP } from "./kinds.js";

export function renderStats(panel: HTMLElement, report: MachineReport): void {
  const { events, cost, time, droppedEvents } = report.stats;
  const kinds = (Object.keys(events) as EventKind[]).sort(
    (a, b) => (cost.byKind[b] ?? 0) - (cost.byKind[a] ?? 0) || (events[b] ?? 0) - (events[a] ?? 0),
  );
  const totalEvents = kinds.reduce((sum, k) => sum + (events[k] ?? 0), 0);
  const rows = kinds.map((kind) => {
    const c = cost.byKind[kind] ?? 0;
    const share = cost.total > 0 ? c / cost.total : 0;
    return h(
      "tr",
      { "data-kind": kind },
      h("th", { scope: "row", title: KIND_HELP[kind] }, kind),
      h("td", { class: "pg-num" }, grouped(events[kind] ?? 0)),
      h("td", { class: "pg-num", "data-cost": c }, grouped(c)),
      h("td", { class: "pg-num" }, `${(share * 100).toFixed(1)}%`),
      h(
        "td",
        { class: "pg-bar-cell", "aria-hidden": "true" },
        h("span", { class: "pg-bar", style: `width: ${(share * 100).toFixed(1)}%` }),
      ),
    );
  });
  panel.replaceChildren(
    h(
      "div",
      { class: "pg-table-scroll" },
      h(
        "table",
        { class: "pg-stats" },
        h("caption", {}, `Simulated cost in CPU cycles; simulated time ${grouped(time)} µs.`),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Kind"),
            h("th", { scope: "col", class: "pg-num" }, "Events"),
            h("th", { scope: "col", class: "pg-num" }, "Cost (cycles)"),
            h("th", { scope: "col", class: "pg-num" }, "Share"),
            h("td", {}),
          ),
        ),
        h("tbody", {}, ...rows),
        h(
          "tfoot",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "row" }, "Total"),
            h("td", { class: "pg-num" }, grouped(totalEvents)),
            h("td", { class: "pg-num", "data-total-cost": cost.total }, grouped(cost.total)),
            h("td", {}),
            h("td", {}),
          ),
        ),
      ),
    ),
    ...(droppedEvents > 0 ? [h("p", {}, `Includes ${grouped(droppedEvents)} events past the trace limit (counted, not stored).`)] : []),
  );
}
