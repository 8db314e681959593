import { arrow, box, label, svg } from "./svg.js";

/** One way for the DMA-API to turn a page into a bus address, and whether a VP domain has it. */
interface Way {
  lines: [string, string, string];
  /** Open to a VP domain (machine addresses hidden from it). */
  vp: boolean;
}

/** The four ways of Muli Ben-Yehuda's list (2006-01-20 22:17), as the home page draws them. */
export const WAYS: readonly Way[] = [
  { lines: ["read the p2m table", "pfn → mfn from the domain's own table", "P2M domains only"], vp: false },
  { lines: ["do nothing (P==M)", "bus address = physical address", "P==M domains only"], vp: false },
  { lines: ["call into Xen", "hypercall: Xen translates pfn → mfn", "open to VP"], vp: true },
  { lines: ["IOMMU, programmed by Xen", "device gets an IOVA, IOMMU translates", "open to VP"], vp: true },
];

/**
 * The home page's picture: a VP dom0's driver asks its DMA-API for a bus address; of the four
 * ways, the two that need machine addresses in the domain are closed to VP.
 */
export function busAddressWays(): string {
  const parts: string[] = [];
  parts.push(`<rect x="10" y="16" width="200" height="292" rx="10" class="dl-domain"/>`);
  parts.push(label(110, 34, ["VP dom0 (driver domain)"], { cls: "dl-strong" }));
  parts.push(label(110, 50, ["sees no machine addresses"], { cls: "dl-small" }));
  parts.push(box(30, 72, 160, 56, ["driver", "dma_map_page(page)"]));
  parts.push(arrow(110, 128, 110, 168));
  parts.push(box(30, 170, 160, 64, ["DMA-API", "must return a", "bus address"], "dl-box dl-accent"));
  const laneX = 262;
  const laneW = 236;
  const laneH = 58;
  WAYS.forEach((way, i) => {
    const y = 20 + i * 74;
    const mid = y + laneH / 2;
    parts.push(arrow(190, 202, laneX - 4, mid, way.vp ? "dl-arrow" : "dl-blocked"));
    parts.push(`<rect x="${laneX}" y="${y}" width="${laneW}" height="${laneH}" rx="6" class="${way.vp ? "dl-box dl-accent" : "dl-box"}"/>`);
    parts.push(label(laneX + laneW / 2, mid - 14, [way.lines[0]], { cls: "dl-strong" }));
    parts.push(label(laneX + laneW / 2, mid + 1, [way.lines[1]], { cls: "dl-small" }));
    parts.push(label(laneX + laneW / 2, mid + 16, [way.lines[2]], { cls: "dl-small" }));
    parts.push(`<circle cx="${laneX + laneW + 22}" cy="${mid}" r="10" class="${way.vp ? "dl-ok" : "dl-no"}"/>`);
    parts.push(label(laneX + laneW + 22, mid + 1, [way.vp ? "✓" : "✗"], { cls: "dl-marker-text" }));
    parts.push(arrow(laneX + laneW + 34, mid, 586, 166, way.vp ? "dl-arrow" : "dl-blocked"));
  });
  parts.push(box(590, 128, 120, 76, ["device", "disk or NIC", "DMA needs a", "bus address"]));
  return svg(
    720,
    318,
    "A VP dom0's DMA-API and four ways to get a bus address for a device: reading the p2m table and P==M identity are closed to a VP domain; a hypercall to Xen and an IOMMU programmed by Xen remain.",
    parts.join(""),
  );
}
