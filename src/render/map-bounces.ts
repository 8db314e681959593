/**
 * Bounce buffers in use: a dashed arc under a domain's band from the buffer's page to the
 * swiotlb slot's page, its arrow the copy's direction (TO_DEVICE copies into the bounce buffer at
 * map time, FROM_DEVICE back at unmap or sync-for-cpu, BIDIRECTIONAL both).
 */
import { cellIndexOf } from "./elide.js";
import type { Activity } from "./map-activity.js";
import type { PlacedBand } from "./map-layout.js";
import { el, tooltip } from "./svg.js";

/** Arcs for the bounces of the domains in `row`; `marker` is the plain arrowhead's id. */
export function drawBounces(a: Activity, row: readonly PlacedBand[], marker: string): string {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const b of a.bounces) {
    const band = row.find((x) => x.spec.id === `domain:${b.domain}`);
    if (!band) continue;
    const i = cellIndexOf(band.cells, b.from);
    const j = cellIndexOf(band.cells, b.to);
    const key = `${b.domain}|${i}|${j}|${b.dir}`;
    if (i < 0 || j < 0 || i === j || seen.has(key)) continue;
    seen.add(key);
    const from = band.cells[i]!;
    const to = band.cells[j]!;
    const x1 = from.x + from.w / 2;
    const x2 = to.x + to.w / 2;
    const y = band.y + band.h + 1;
    const depth = Math.min(34, 12 + Math.abs(x2 - x1) / 10);
    const ends =
      b.dir === "TO_DEVICE"
        ? { "marker-end": `url(#${marker})` }
        : b.dir === "FROM_DEVICE"
          ? { "marker-start": `url(#${marker})` }
          : { "marker-start": `url(#${marker})`, "marker-end": `url(#${marker})` };
    out.push(
      el(
        "path",
        {
          class: "dm-arrow dm-bounce-arc",
          d: `M${x1} ${y}C${x1} ${y + depth} ${x2} ${y + depth} ${x2} ${y}`,
          "data-kind": "bounce",
          ...ends,
        },
        tooltip(`bounce copy (${b.dir}): ${b.note}`),
      ),
    );
  }
  return out.join("");
}
