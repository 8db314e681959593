// Marks on a drawn memory map for what a step changed: the cells of bounce slots taken (green)
// or given back (dashed amber), IOMMU PTEs and IOTLB entries that appeared or went away, and a
// list of every change in words (the marks are never the only sign).
import type { MachineSnapshot, SnapshotChange, SnapshotChanges } from "../../../sim/index.js";
import { h } from "./dom.js";

/** Bounce slots are 2 KiB (io_tlb_nslabs' unit). */
const SLOT_BYTES = 2048;

/** The band and page range a change is about, when the picture has one. */
function place(change: SnapshotChange, s: MachineSnapshot): { band: string; first: number; count: number } | undefined {
  if (change.kind === "bounce") {
    const m = /^(.+)\/(.+)\/(\d+)\+(\d+)$/.exec(change.key);
    const pool = m && s.swiotlb.find((p) => p.domain === m[1] && p.kind === m[2]);
    if (!m || !pool) return undefined;
    const start = pool.address + Number(m[3]) * SLOT_BYTES;
    const end = start + Number(m[4]) * SLOT_BYTES;
    const first = Math.floor(start / s.pageSize);
    return { band: `domain:${pool.domain}`, first, count: Math.ceil(end / s.pageSize) - first };
  }
  if (change.kind === "iommu-entry" || change.kind === "iotlb") {
    const m = /^(.+?)\/(\d+)/.exec(change.key);
    return m ? { band: `iova:${m[1]}`, first: Number(m[2]), count: 1 } : undefined;
  }
  return undefined;
}

/** Adds pg-appeared / pg-gone to the cells of `svg` that the step's changes are about. */
export function markChanges(svg: Element, changes: SnapshotChanges, s: MachineSnapshot): void {
  const mark = (list: SnapshotChange[], cls: string) => {
    for (const change of list) {
      const where = place(change, s);
      if (!where) continue;
      const band = [...svg.querySelectorAll("[data-band]")].find((b) => b.getAttribute("data-band") === where.band);
      for (const cell of band?.querySelectorAll(".dm-c") ?? []) {
        const start = Number(cell.getAttribute("data-pfn") ?? cell.getAttribute("data-iova"));
        const count = Number(cell.getAttribute("data-count") ?? 1);
        if (start < where.first + where.count && where.first < start + count) {
          cell.classList.add(cls);
          cell.setAttribute("data-step-change", cls === "pg-appeared" ? "appeared" : "gone");
        }
      }
    }
  };
  mark(changes.appeared, "pg-appeared");
  mark(changes.gone, "pg-gone");
}

/** The step's changes in words: "+ xen-swiotlb slots 0-2 of dom0 (bounce for 0x…)". */
export function changeList(changes: SnapshotChanges): HTMLElement {
  const items = [
    ...changes.appeared.map((c) => [c, "appeared", "New"] as const),
    ...changes.gone.map((c) => [c, "gone", "Gone"] as const),
    ...changes.changed.map((c) => [c, "changed", "Changed"] as const),
  ];
  if (items.length === 0) return h("p", { class: "pg-step-changes pg-empty" }, "Nothing in the picture changed at this step.");
  return h(
    "ul",
    { class: "pg-step-changes", "aria-label": "What this step changed" },
    ...items.map(([c, change, word]) =>
      h("li", { "data-change": change, "data-kind": c.kind }, h("span", { class: "sr-only" }, `${word}: `), c.label),
    ),
  );
}
