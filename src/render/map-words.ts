/** Words for cells: what the indices of a band are called ("free frames", "unpopulated PFNs"). */
import type { Cell } from "./elide.js";
import type { BandSpec } from "./map-model.js";
import { grouped } from "./format.js";

/** What an index of this band is called in labels. */
export function noun(spec: BandSpec, cell: Cell): string {
  switch (cell.kind) {
    case "free":
      return "free frames";
    case "xen":
      return "Xen frames";
    case "hole":
      return "unpopulated PFNs";
    case "pool":
      return spec.unit === "mfn" ? `swiotlb pool frames of ${cell.owner}` : "swiotlb pool pages";
    case "foreign":
      return "grant-mapped foreign pages";
    case "tagged":
      return "tagged foreign pages";
    case "mixed":
      return `frames (${(cell.parts ?? []).slice(0, 4).join(", ")}${(cell.parts ?? []).length > 4 ? ", …" : ""})`;
    case "iova-free":
      return "free IOVA pages";
    case "iova-mapped":
      return "mapped IOVA pages";
    case "iova-queued":
      return "IOVA pages awaiting the lazy flush";
    case "iova-reserved":
      return "reserved IOVA pages";
    case "iova-unmapped":
      return "unmapped IOVA pages";
    default:
      return spec.unit === "mfn" ? `${cell.owner} frames` : "pages";
  }
}

/** Short nouns for narrow elided cells ("… 4.2M free …"). */
export const SHORT_NOUN: Record<string, string> = { free: "free", xen: "Xen", hole: "holes", "iova-free": "free" };

/** The full elision marker: "… 4,000 free frames …". */
export function elisionText(spec: BandSpec, cell: Cell): string {
  return `… ${grouped(cell.count)} ${noun(spec, cell)} …`;
}

/** The noun for one index: "unmapped IOVA page". */
export function nounOne(spec: BandSpec, cell: Cell): string {
  return noun(spec, cell).replace(/\b(pages|frames|PFNs)\b/, (w) => w.slice(0, -1));
}
