/** The memory map's lines, styled and described: p2m, foreign and tagged pages, IOMMU PTEs, stale IOTLB entries. */
import type { Activity } from "./map-activity.js";
import type { DomainBand, IovaBand, MapModel } from "./map-model.js";
import type { PlacedBand } from "./map-layout.js";
import { cellMarks } from "./map-cells.js";
import { aggregateLinks, describeLink, drawLinks } from "./map-links.js";
import { hex } from "./format.js";
import { el } from "./svg.js";
import { domainColour } from "./theme.js";

/**
 * Every line between rows: each domain's p2m (with foreign and tagged pages), each IOMMU domain's
 * PTEs, and stale IOTLB entries. Lines touching a live, current or flagged cell draw on top.
 * `maxLinks` is shared between the bands; returns how many lines were left out.
 */
export function linkLayers(
  model: MapModel,
  a: Activity,
  domainRow: PlacedBand<DomainBand>[],
  machine: PlacedBand,
  iovaRow: PlacedBand<IovaBand>[],
  maxLinks: number,
): { svg: string; dropped: number } {
  const ps = model.snapshot.pageSize;
  const perBand = Math.floor(maxLinks / Math.max(1, domainRow.length + iovaRow.length));
  let dropped = 0;
  const out: string[] = [];
  const hotCells = (band: PlacedBand) => {
    const marks = cellMarks(band, a.marks.get(band.spec.id));
    return (cell: number) => {
      const m = marks.get(cell);
      return !!m && (m.live || m.current || m.errors.length > 0 || m.warnings.length > 0);
    };
  };
  for (const band of domainRow) {
    const colour = domainColour(band.spec.colour);
    const hot = hotCells(band);
    const name = band.spec.domain.name;
    const r = drawLinks(
      aggregateLinks(band.spec.links, band, machine),
      band,
      machine,
      {
        classOf: (l) => `dm-s${colour}${l.kind === "foreign" ? " dm-foreign-link" : l.kind === "tagged" ? " dm-tag-link" : ""}`,
        hot: (l) => hot(l.fromCell),
        describe: (l) =>
          `${name} ${l.kind === "tagged" ? "tagged page (grant handle in page->private, no mapping): " : l.kind === "foreign" ? "grant-mapped foreign frame: " : l.kind === "pool" ? "swiotlb pool: " : "p2m: "}${describeLink(l, "PFN", hex)}`,
      },
      perBand,
    );
    out.push(el("g", { "data-links": band.spec.id }, r.svg));
    dropped += r.dropped;
  }
  for (const band of iovaRow) {
    const hot = hotCells(band);
    const r = drawLinks(
      aggregateLinks(band.spec.links, band, machine),
      band,
      machine,
      {
        classOf: (l) => `dm-iommu-link${l.kind === "iommu-ro" ? " dm-ro" : ""}`,
        hot: (l) => hot(l.fromCell),
        describe: (l) =>
          `I/O page table: ${describeLink(l, "IOVA", (i) => hex(i * ps))}${l.kind === "iommu-ro" ? " (device may only read)" : ""}`,
      },
      perBand,
    );
    out.push(el("g", { "data-links": band.spec.id }, r.svg));
    dropped += r.dropped;
  }
  const iovaById = new Map(iovaRow.map((b) => [b.spec.id, b]));
  const seen = new Set<string>();
  for (const s of a.staleLinks) {
    const band = iovaById.get(s.band);
    if (!band) continue;
    const links = aggregateLinks({ main: [], mainKind: "", other: [{ from: s.iova, to: s.mfn, count: 1, kind: "stale" }] }, band, machine);
    const key = `${s.band}|${s.iova}|${s.mfn}`;
    if (seen.has(key) || links.length === 0) continue;
    seen.add(key);
    out.push(
      drawLinks(
        links,
        band,
        machine,
        {
          classOf: () => "dm-stale-link",
          hot: () => true,
          describe: () => `stale IOTLB entry: IOVA ${hex(s.iova * ps)} still reaches MFN ${hex(s.mfn)} until the IOTLB is flushed`,
        },
        1,
      ).svg,
    );
  }
  return { svg: out.join(""), dropped };
}
