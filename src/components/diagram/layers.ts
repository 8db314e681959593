import { arrow, box, label, marker, svg } from "./svg.js";

/** The layers between a driver and memory, top to bottom. */
export const LAYERS = [
  { id: "driver", lines: ["drivers", "backends (blkback, netback), device drivers"] },
  { id: "dma", lines: ["DMA-API", "dma_map_page, dma_map_sg → bus address"] },
  { id: "xen", lines: ["p2m table / Xen", "pfn → mfn: read the table or ask Xen"] },
  { id: "iommu", lines: ["IOMMU (or GART)", "translates the bus addresses a device emits"] },
  { id: "device", lines: ["device", "DMA into machine memory"] },
] as const;

type LayerId = (typeof LAYERS)[number]["id"];

/** Where each position in the thread acts: who, when (UTC), what, and on which layers. */
export const POSITIONS: readonly { who: string; what: string; at: readonly LayerId[] }[] = [
  { who: "Gerd Hoffmann, 01-25 10:29", what: "backends pass foreign pages down as struct page", at: ["driver"] },
  { who: "Dan Magenheimer, 01-20 / 01-22", what: "the problem is below the backends; drivers may bypass", at: ["driver", "dma"] },
  { who: "Muli Ben-Yehuda, 01-20 22:17", what: "only the DMA-API implementation must translate", at: ["dma"] },
  { who: "Keir Fraser, 01-25 16:56", what: "PCI_DMA_BUS_IS_PHYS is 0 with swiotlb", at: ["dma"] },
  { who: "Ian Pratt, 01-24 23:42", what: "read the p2m; ideally use an IOMMU", at: ["xen", "iommu"] },
  { who: "Alex Williamson, 01-23 15:52", what: "GARTs must understand the translation", at: ["iommu"] },
];

const LAYER_X = 20;
const LAYER_W = 300;
const LAYER_H = 54;
const layerY = (i: number) => 16 + i * 72;

/** The layers picture: five layers, and six numbered positions of the thread pointing at them. */
export function layersPicture(): string {
  const parts: string[] = [];
  LAYERS.forEach((layer, i) => {
    const y = layerY(i);
    parts.push(box(LAYER_X, y, LAYER_W, LAYER_H, layer.lines, layer.id === "dma" ? "dl-box dl-accent" : "dl-box"));
    if (i > 0) parts.push(arrow(LAYER_X + LAYER_W / 2, y - 18, LAYER_X + LAYER_W / 2, y - 2));
  });
  const calloutX = 440;
  const seen = new Map<LayerId, number>();
  POSITIONS.forEach((p, n) => {
    const y = 14 + n * 60;
    const mid = y + 22;
    for (const id of p.at) {
      // Positions acting on the same layer get markers side by side, in reading order.
      const k = seen.get(id) ?? 0;
      seen.set(id, k + 1);
      const ly = layerY(LAYERS.findIndex((l) => l.id === id)) + LAYER_H / 2;
      const mx = LAYER_X + LAYER_W + 16 + k * 22;
      parts.push(`<line x1="${calloutX - 12}" y1="${mid}" x2="${mx + 9}" y2="${ly}" class="dl-blocked"/>`);
      parts.push(marker(mx, ly, n + 1));
    }
    parts.push(marker(calloutX, mid, n + 1));
    parts.push(label(calloutX + 16, mid - 8, [p.who], { anchor: "start", cls: "dl-strong" }));
    parts.push(label(calloutX + 16, mid + 8, [p.what], { anchor: "start", cls: "dl-small" }));
  });
  return svg(
    790,
    372,
    "Five layers from driver to device (drivers, DMA-API, p2m table or Xen, IOMMU or GART, device), with six positions of the 2006 thread marked on the layer where each acts.",
    parts.join(""),
  );
}
