import { arrow, box, label, marker, svg } from "./svg.js";

/** The boxes of the blkfront → device path, left to right. */
export const STAGES = [
  { id: "blkfront", x: 24, w: 124, lines: ["blkfront", "domU's block driver"] },
  { id: "ring", x: 186, w: 112, lines: ["shared ring", "requests with", "grant references"] },
  { id: "blkback", x: 336, w: 124, lines: ["blkback", "maps the grants"] },
  { id: "block", x: 490, w: 124, lines: ["block layer", "bounce limit,", "request merging"] },
  { id: "dma", x: 644, w: 112, lines: ["DMA-API", "bus addresses"] },
  { id: "device", x: 800, w: 96, lines: ["device", "the disk"] },
] as const;

/** What happens where: grants, foreign pages and the two places a bounce can happen. */
export const EVENTS: readonly { at: (typeof STAGES)[number]["id"]; kind: "grant" | "foreign" | "bounce"; text: string }[] = [
  { at: "blkfront", kind: "grant", text: "grant: domU lets dom0 access each data page (a grant reference per page)" },
  { at: "blkback", kind: "grant", text: "grant map: GNTTABOP_map_grant_ref, one map operation per page" },
  { at: "blkback", kind: "foreign", text: "foreign page: a struct page in dom0 for domU's frame (mapped at a dom0 PFN, or only tagged)" },
  {
    at: "block",
    kind: "bounce",
    text: "bounce in the block layer: blk_queue_bounce copies through kmap(), only if PCI_DMA_BUS_IS_PHYS is 1",
  },
  { at: "dma", kind: "bounce", text: "bounce in the DMA layer: swiotlb / xen-swiotlb copy into their pool" },
];

const ROW_Y = 64;
const ROW_H = 70;

/** The split-driver I/O path with numbered markers for grants, foreign pages and bounces. */
export function splitDriverPicture(): string {
  const parts: string[] = [];
  parts.push(`<rect x="12" y="22" width="148" height="132" rx="10" class="dl-domain"/>`);
  parts.push(label(86, 36, ["domU (guest)"], { cls: "dl-strong" }));
  parts.push(`<rect x="324" y="22" width="444" height="132" rx="10" class="dl-domain"/>`);
  parts.push(label(546, 36, ["dom0 (driver domain)"], { cls: "dl-strong" }));
  STAGES.forEach((s, i) => {
    parts.push(box(s.x, ROW_Y, s.w, ROW_H, s.lines, s.id === "dma" || s.id === "block" ? "dl-box dl-accent" : "dl-box"));
    const next = STAGES[i + 1];
    if (next) parts.push(arrow(s.x + s.w + 2, ROW_Y + ROW_H / 2, next.x - 3, ROW_Y + ROW_H / 2));
  });
  const perStage = new Map<string, number>();
  EVENTS.forEach((e, n) => {
    const stage = STAGES.find((s) => s.id === e.at)!;
    const k = perStage.get(e.at) ?? 0;
    perStage.set(e.at, k + 1);
    const cls = e.kind === "bounce" ? "dl-marker-warn" : "dl-marker";
    parts.push(marker(stage.x + 14 + k * 22, ROW_Y + ROW_H + 18, n + 1, cls));
    const y = 190 + n * 22;
    parts.push(marker(24, y, n + 1, cls));
    parts.push(label(42, y + 1, [e.text], { anchor: "start" }));
  });
  return svg(
    910,
    190 + EVENTS.length * 22,
    "The split-driver I/O path: blkfront in the domU, the shared ring, blkback, the block layer and the DMA-API in dom0, and the disk; numbered markers show where grants are made and mapped, where foreign pages appear, and the two places a bounce can happen.",
    parts.join(""),
  );
}
