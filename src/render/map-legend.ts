/** The memory map's legend: only what the picture actually shows. */
import type { Activity } from "./map-activity.js";
import type { DomainBand, IovaBand, MapModel } from "./map-model.js";
import type { PlacedBand } from "./map-layout.js";
import type { LegendItem } from "./legend.js";
import type { Arrow } from "./map-devices.js";
import { boxSwatch, lineSwatch } from "./legend.js";
import { domainColour } from "./theme.js";

/** Legend entries for the drawn bands and activity. */
export function mapLegend(
  model: MapModel,
  a: Activity,
  domainRow: readonly PlacedBand<DomainBand>[],
  machine: PlacedBand,
  iovaRow: readonly PlacedBand<IovaBand>[],
  arrows: readonly Arrow[],
  prefix: string,
): LegendItem[] {
  const cells = [...domainRow, machine, ...iovaRow].flatMap((b) => b.cells);
  const has = (kind: string) => cells.some((c) => c.kind === kind);
  const items: LegendItem[] = model.domains.map((d) => ({
    swatch: boxSwatch(`dm-d${domainColour(d.colour)}`),
    label: `${d.domain.name} (${d.domain.mode})`,
  }));
  if (has("free")) items.push({ swatch: boxSwatch("dm-free"), label: "free" });
  if (has("xen")) items.push({ swatch: boxSwatch("dm-xen"), label: "Xen" });
  if (has("pool")) items.push({ swatch: boxSwatch("dm-mixed", `url(#${prefix}-hatch)`), label: "swiotlb bounce pool" });
  if (has("foreign")) items.push({ swatch: boxSwatch("dm-mixed dm-tagged dm-s0"), label: "grant-mapped foreign frame" });
  if (has("tagged")) items.push({ swatch: boxSwatch("dm-tagged dm-s0"), label: "tagged foreign page (not mapped)" });
  if (has("hole")) items.push({ swatch: boxSwatch("dm-hole"), label: "unpopulated PFN" });
  if (iovaRow.length) items.push({ swatch: boxSwatch("dm-iova"), label: "IOVA → frame (paler: device may only read)" });
  if (has("iova-queued")) items.push({ swatch: boxSwatch("dm-queued"), label: "IOVA awaiting lazy flush" });
  if (cells.some((c) => c.elided)) items.push({ swatch: boxSwatch("dm-mixed dm-elided"), label: "… elided (count inside)" });
  const marks = [...a.marks.values()].flatMap((m) => [...m.values()]);
  if (marks.some((m) => m.live)) items.push({ swatch: boxSwatch("dm-live"), label: "live DMA mapping" });
  if (a.current) items.push({ swatch: boxSwatch("dm-current"), label: `step ${a.current.seq}` });
  const kinds = new Set(arrows.map((t) => t.kind));
  if (kinds.has("write") || kinds.has("read"))
    items.push({ swatch: lineSwatch("dm-arrow", `${prefix}-plain`), label: "DMA (arrow: data flow)" });
  if (a.bounces.length) items.push({ swatch: lineSwatch("dm-arrow dm-bounce-arc", `${prefix}-plain`), label: "bounce copy" });
  if (kinds.has("mapped")) items.push({ swatch: lineSwatch("dm-arrow dm-mapped"), label: "mapped for the device" });
  const present = new Set(a.incidents.map((i) => i.kind));
  const red = [present.has("stray-dma") && "stray DMA", present.has("iommu-fault") && "IOMMU fault"].filter(Boolean);
  if (red.length) items.push({ swatch: lineSwatch("dm-arrow dm-error", `${prefix}-error`), label: red.join(" / ") });
  const amber = [
    (present.has("iotlb-stale") || a.staleLinks.length > 0) && "stale IOTLB",
    present.has("unmapped-dma") && "DMA outside a live mapping",
    present.has("mapping-error") && "mapping error",
  ].filter(Boolean);
  if (amber.length) items.push({ swatch: lineSwatch("dm-arrow dm-warning", `${prefix}-warning`), label: amber.join(" / ") });
  return items;
}
