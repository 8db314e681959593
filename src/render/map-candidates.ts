/**
 * Which cells each band draws first when it cannot draw them all: spreads interest across spaces
 * (an IOVA page → its machine frame → the page of the domain that owns it → that page's frame),
 * adds each domain's own frames and one neighbour on each side of anything active (so a reader
 * sees whether the next frame is contiguous), and sorts by priority.
 */
import { PRIORITY } from "./map-activity.js";
import type { Activity, Mark } from "./map-activity.js";
import { follow, frameOwner } from "./map-model.js";
import type { BandSpec, MapModel } from "./map-model.js";

type Candidates = Map<number, number>;

function bandMap(a: Activity, band: string): Candidates {
  let m = a.candidates.get(band);
  if (!m) a.candidates.set(band, (m = new Map()));
  return m;
}

function add(m: Candidates, index: number, priority: number): void {
  const old = m.get(index);
  if (old === undefined || priority < old) m.set(index, priority);
}

/** Every index of a small segment, or its two ends for a large one. */
function ownedIndices(band: BandSpec, kinds: ReadonlySet<string>, budget: number, into: Candidates): void {
  for (const s of band.segments) {
    if (!kinds.has(s.kind)) continue;
    if (s.count <= budget) for (let i = s.start; i < s.start + s.count; i++) add(into, i, PRIORITY.owned);
    else {
      add(into, s.start, PRIORITY.owned);
      add(into, s.start + s.count - 1, PRIORITY.owned);
    }
  }
}

const OWNED = new Set(["ram", "pool", "foreign", "tagged", "iova-mapped", "iova-queued", "iova-unmapped"]);

/**
 * Copies "live" from a mapped IOVA page to the machine frame its PTE points at, so the frame the
 * device reaches is outlined too. (Not from a domain's pages: a bounced mapping's device side is
 * the bounce slot, not the frame behind the buffer.)
 */
export function spreadLiveMarks(model: MapModel, a: Activity): void {
  const machine = a.marks.get("machine") ?? new Map<number, Mark>();
  a.marks.set("machine", machine);
  for (const band of model.iommu) {
    for (const [index, mark] of a.marks.get(band.id) ?? []) {
      if (!mark.live) continue;
      const mfn = follow(band.links, index);
      if (mfn === undefined) continue;
      const m = machine.get(mfn);
      if (m) m.live = true;
      else machine.set(mfn, { errors: [], warnings: [], notes: [], live: true, current: false, granted: [], bounce: false });
    }
  }
}

/** Candidate lists per band id, best first. */
export function candidateLists(model: MapModel, a: Activity, budget: number): Map<string, number[]> {
  const machine = bandMap(a, "machine");
  for (const io of model.iommu) {
    for (const [page, priority] of bandMap(a, io.id)) {
      const mfn = follow(io.links, page);
      if (mfn !== undefined && priority <= PRIORITY.active) add(machine, mfn, priority);
    }
  }
  for (const [mfn, priority] of [...machine]) {
    if (priority > PRIORITY.active) continue;
    const o = frameOwner(model.snapshot, mfn);
    if (o && o.pfn !== undefined && model.colourOf.has(o.owner)) add(bandMap(a, `domain:${o.owner}`), o.pfn, priority);
  }
  for (const d of model.domains) {
    for (const [pfn, priority] of bandMap(a, d.id)) {
      const mfn = follow(d.links, pfn);
      if (mfn !== undefined) add(machine, mfn, priority);
    }
  }
  const bands: BandSpec[] = [...model.domains, model.machine, ...model.iommu];
  const lists = new Map<string, number[]>();
  for (const band of bands) {
    const m = bandMap(a, band.id);
    for (const [index, priority] of [...m]) {
      if (priority > PRIORITY.active) continue;
      add(m, index - 1, PRIORITY.context);
      add(m, index + 1, PRIORITY.context);
    }
    ownedIndices(band, OWNED, budget, m);
    // Stable sort on priority alone: within a priority, first noticed first. Live mappings are
    // noticed newest first in every band, so when only some fit, the PFN, MFN and IOVA bands
    // keep the same mappings and their links meet.
    lists.set(
      band.id,
      [...m].sort((x, y) => x[1] - y[1]).map(([index]) => index),
    );
  }
  return lists;
}
