/**
 * What happened, and what is live: reads the snapshot's live state (DMA mappings, grants, foreign
 * pages, bounce slots, IOTLB) and the trace up to a step, and turns them into per-band marks
 * (error, warning, live ...), DMA touches (the device arrows) and candidate cells in priority
 * order for elision. Only the most recent events of each sort count, so a long trace costs one
 * pass and a bounded picture.
 */
import type { MachineSnapshot, TraceEvent } from "../sim/index.js";
import { frameOwner } from "./map-model.js";
import { formatSize, hex } from "../sim/index.js";

/** Candidate priorities: lower numbers win a cell first. */
export const PRIORITY = { error: 0, warning: 1, active: 2, owned: 3, context: 4 } as const;

/** Annotations of one index of a band. */
export interface Mark {
  /** Error notes (stray DMA, IOMMU fault): drawn red. */
  errors: string[];
  /** Warning notes (stale IOTLB, unmapped DMA, mapping errors): drawn amber. */
  warnings: string[];
  /** Notes for the tooltip (live mapping, DMA, grant, bounce slot). */
  notes: string[];
  /** Covered by a live DMA mapping. */
  live: boolean;
  /** Touched by the event at the current step. */
  current: boolean;
  /** Granted to another domain (grantee names). */
  granted: string[];
  /** Holds swiotlb bounce slots in use. */
  bounce: boolean;
}

/** One device access or mapping: an arrow from the device to a cell. */
export interface Touch {
  device: string;
  /** Band id: "machine" or "iova:<group>". */
  band: string;
  index: number;
  kind: "mapped" | "read" | "write" | "error" | "warning";
  /** Trace position (0 for live state from the snapshot). */
  seq: number;
  note: string;
}

/** A problem the picture must show: stray DMA, IOMMU fault, stale IOTLB use, unmapped DMA, mapping error. */
export interface Incident {
  kind: "stray-dma" | "iommu-fault" | "iotlb-stale" | "unmapped-dma" | "mapping-error";
  seq: number;
  message: string;
  device?: string;
  /** For stray DMA: the domain whose memory was hit ("none" beyond memory). */
  victim?: string;
  band: string;
  index: number;
}

/** Everything the trace and live state add to the picture. */
export interface Activity {
  /** Band id → index → best (lowest) priority. */
  candidates: Map<string, Map<number, number>>;
  marks: Map<string, Map<number, Mark>>;
  touches: Touch[];
  incidents: Incident[];
  /** Bounce buffers in use: the original buffer's page and its bounce slot's page, in one domain. */
  bounces: { domain: string; from: number; to: number; dir: string; note: string }[];
  /** IOVA pages reached through a stale IOTLB entry: drawn as an amber link to the frame. */
  staleLinks: { band: string; iova: number; mfn: number }[];
  /** IOMMU group → IOVA pages that only the trace mentions. */
  extraIova: Map<string, Set<number>>;
  /** The event at the current step (the last one counted), when stepping. */
  current: TraceEvent | undefined;
  /** Events at or before the step. */
  eventsCounted: number;
}

/** How many of the latest events of each sort the picture considers. */
export const EVENT_LIMITS = { incidents: 32, dma: 24, cpu: 16 } as const;
/** Most pages one mapping or event contributes (a 64 MiB mapping must not flood the picture). */
const PAGES_PER_ITEM = 8;

const INCIDENT_KINDS = new Set(["stray-dma", "iommu-fault", "iotlb-stale", "unmapped-dma", "mapping-error"]);
// Not "exchange": xen_swiotlb_fixup's setup-time exchanges would crowd out the reader's own calls.
const CPU_KINDS = new Set([
  "map",
  "unmap",
  "sync",
  "alloc",
  "bounce-copy",
  "kmap",
  "cpu-copy",
  "grant",
  "grant-map",
  "grant-unmap",
  "p2m-update",
  "dma-debug",
]);

function pages(address: number, bytes: number | undefined, pageSize: number): number[] {
  const first = Math.floor(address / pageSize);
  const last = Math.floor((address + Math.max(1, bytes ?? 1) - 1) / pageSize);
  const out: number[] = [];
  for (let p = first; p <= last && out.length < PAGES_PER_ITEM; p++) out.push(p);
  return out;
}

class Collector {
  readonly a: Activity = {
    candidates: new Map(),
    marks: new Map(),
    touches: [],
    incidents: [],
    bounces: [],
    staleLinks: [],
    extraIova: new Map(),
    current: undefined,
    eventsCounted: 0,
  };
  private readonly devices: Map<string, { domain: string; group: string | null }>;

  constructor(readonly s: MachineSnapshot) {
    this.devices = new Map(s.devices.map((d) => [d.name, { domain: d.domain, group: d.iommuGroup }]));
  }

  candidate(band: string, index: number, priority: number): void {
    let m = this.a.candidates.get(band);
    if (!m) this.a.candidates.set(band, (m = new Map()));
    const old = m.get(index);
    if (old === undefined || priority < old) m.set(index, priority);
  }

  mark(band: string, index: number): Mark {
    let m = this.a.marks.get(band);
    if (!m) this.a.marks.set(band, (m = new Map()));
    let mark = m.get(index);
    if (!mark) m.set(index, (mark = { errors: [], warnings: [], notes: [], live: false, current: false, granted: [], bounce: false }));
    return mark;
  }

  /** The band a device's bus addresses live in: its IOVA space, or machine memory without an IOMMU. */
  busBand(device: string | undefined): string {
    const group = device === undefined ? null : (this.devices.get(device)?.group ?? null);
    return group === null ? "machine" : `iova:${group}`;
  }

  /** Remembers an IOVA page the snapshot may not list (so the model gives it a cell). */
  iovaPage(band: string, page: number): void {
    if (!band.startsWith("iova:")) return;
    const group = band.slice(5);
    let set = this.a.extraIova.get(group);
    if (!set) this.a.extraIova.set(group, (set = new Set()));
    set.add(page);
  }

  /** Also marks the page of the domain that owns machine frame `mfn` (so the victim's page shows). */
  owningPage(mfn: number, priority: number, apply: (m: Mark) => void): void {
    const o = frameOwner(this.s, mfn);
    if (!o || o.pfn === undefined || o.owner === "free" || o.owner === "Xen") return;
    const band = `domain:${o.owner}`;
    this.candidate(band, o.pfn, priority);
    apply(this.mark(band, o.pfn));
  }
}

function liveState(c: Collector): void {
  const s = c.s;
  const ps = s.pageSize;
  for (const m of [...s.mappings].reverse()) {
    const note = `live ${m.type} mapping of ${m.device} (${m.backend}, ${m.dir}): ${formatSize(m.size)} at ${hex(m.address)} → bus ${hex(m.busAddress)}`;
    for (const pfn of pages(m.address, m.size, ps)) {
      c.candidate(`domain:${m.domain}`, pfn, PRIORITY.active);
      const mark = c.mark(`domain:${m.domain}`, pfn);
      mark.live = true;
      mark.notes.push(note);
    }
    const band = c.busBand(m.device);
    for (const page of pages(m.busAddress, m.size, ps)) {
      c.candidate(band, page, PRIORITY.active);
      c.iovaPage(band, page);
      const mark = c.mark(band, page);
      mark.live = true;
      mark.notes.push(note);
      c.a.touches.push({ device: m.device, band, index: page, kind: "mapped", seq: 0, note });
    }
  }
  for (const g of s.grants) {
    c.candidate(`domain:${g.domain}`, g.pfn, PRIORITY.active);
    const mark = c.mark(`domain:${g.domain}`, g.pfn);
    mark.granted.push(g.grantee);
    mark.notes.push(`gref ${g.gref} granted to ${g.grantee} (${g.flagNames.join(", ")})`);
    c.candidate("machine", g.mfn, PRIORITY.active);
  }
  for (const f of s.foreignPages) {
    const note = `${f.strategy === "tag" ? "tagged foreign page" : "grant-mapped foreign frame"} of ${f.granter} (gref ${f.gref}, handle ${f.handle}${f.readonly ? ", read-only" : ""})`;
    if (f.pfn !== null) {
      c.candidate(`domain:${f.domain}`, f.pfn, PRIORITY.active);
      c.mark(`domain:${f.domain}`, f.pfn).notes.push(note);
    }
    c.candidate("machine", f.mfn, PRIORITY.active);
    c.mark("machine", f.mfn).notes.push(`${note}, mapped by ${f.domain}`);
  }
  for (const pool of s.swiotlb) {
    for (const u of pool.used) {
      const note = `${pool.kind} bounce slots ${u.slot}-${u.slot + u.count - 1} in use${u.original === null ? " (coherent)" : ` for ${hex(u.original)}`}`;
      if (u.original !== null) {
        const dir = s.mappings.find((m) => m.busAddress === u.busAddress && m.domain === pool.domain)?.dir ?? "BIDIRECTIONAL";
        c.a.bounces.push({ domain: pool.domain, from: Math.floor(u.original / ps), to: Math.floor(u.address / ps), dir, note });
        c.candidate(`domain:${pool.domain}`, Math.floor(u.original / ps), PRIORITY.active);
      }
      for (const pfn of pages(u.address, u.count * 2048, ps)) {
        c.candidate(`domain:${pool.domain}`, pfn, PRIORITY.active);
        const mark = c.mark(`domain:${pool.domain}`, pfn);
        mark.bounce = true;
        mark.notes.push(note);
      }
    }
  }
  for (const d of s.domains) {
    for (const p of d.pages) {
      c.candidate(`domain:${d.name}`, p.pfn, PRIORITY.active);
      c.mark(`domain:${d.name}`, p.pfn).notes.push(
        `struct page flags: ${p.flags.join(", ") || "none"}${p.private === null ? "" : `, private ${p.private}`}`,
      );
    }
  }
  for (const io of s.iommu) {
    const band = `iova:${io.group}`;
    for (const e of io.iotlb) {
      if (!e.stale) continue;
      c.candidate(band, e.iovaPage, PRIORITY.warning);
      c.iovaPage(band, e.iovaPage);
      c.mark(band, e.iovaPage).warnings.push(
        `stale IOTLB entry: IOVA ${hex(e.iovaPage * ps)} still reaches machine ${hex(e.mfn * ps)} until the next flush`,
      );
      c.candidate("machine", e.mfn, PRIORITY.warning);
      c.a.staleLinks.push({ band, iova: e.iovaPage, mfn: e.mfn });
    }
  }
}

function incident(c: Collector, e: TraceEvent): void {
  const ps = c.s.pageSize;
  const kind = e.kind as Incident["kind"];
  if (kind === "mapping-error") {
    if (e.address === undefined || e.domain === undefined) return;
    for (const pfn of pages(e.address, e.bytes, ps)) {
      const band = `domain:${e.domain}`;
      c.candidate(band, pfn, PRIORITY.warning);
      c.mark(band, pfn).warnings.push(e.message);
      c.a.incidents.push({ kind, seq: e.seq, message: e.message, device: e.device, band, index: pfn });
    }
    return;
  }
  const isError = kind === "stray-dma" || kind === "iommu-fault";
  const priority = isError ? PRIORITY.error : PRIORITY.warning;
  const note = (m: { errors: string[]; warnings: string[] }) => (isError ? m.errors : m.warnings).push(e.message);
  const onMachine = (mfn: number) => {
    c.candidate("machine", mfn, priority);
    note(c.mark("machine", mfn));
    c.owningPage(mfn, priority, note);
  };
  if (kind === "iommu-fault" || kind === "iotlb-stale") {
    if (e.busAddress === undefined) return;
    const band = c.busBand(e.device);
    const page = Math.floor(e.busAddress / ps);
    c.candidate(band, page, priority);
    c.iovaPage(band, page);
    note(c.mark(band, page));
    if (e.device)
      c.a.touches.push({ device: e.device, band, index: page, kind: isError ? "error" : "warning", seq: e.seq, note: e.message });
    c.a.incidents.push({ kind, seq: e.seq, message: e.message, device: e.device, band, index: page });
    if (kind === "iotlb-stale" && e.machineAddress !== undefined) {
      const mfn = Math.floor(e.machineAddress / ps);
      onMachine(mfn);
      c.a.staleLinks.push({ band, iova: page, mfn });
    }
    return;
  }
  // stray-dma, unmapped-dma: a machine frame (beyond memory for a master abort: no frame).
  const maddr = e.machineAddress ?? (c.busBand(e.device) === "machine" ? e.busAddress : undefined);
  if (maddr === undefined) return;
  const mfn = Math.floor(maddr / ps);
  if (mfn >= c.s.frameCount) return;
  onMachine(mfn);
  const band = c.busBand(e.device);
  if (e.device) {
    if (band === "machine")
      c.a.touches.push({ device: e.device, band, index: mfn, kind: isError ? "error" : "warning", seq: e.seq, note: e.message });
    else if (e.busAddress !== undefined) {
      const page = Math.floor(e.busAddress / ps);
      c.candidate(band, page, priority);
      c.iovaPage(band, page);
      note(c.mark(band, page));
      c.a.touches.push({ device: e.device, band, index: page, kind: isError ? "error" : "warning", seq: e.seq, note: e.message });
    }
  }
  c.a.incidents.push({ kind, seq: e.seq, message: e.message, device: e.device, victim: e.victim, band: "machine", index: mfn });
}

function dmaEvent(c: Collector, e: TraceEvent): void {
  if (e.busAddress === undefined || e.device === undefined) return;
  const band = c.busBand(e.device);
  const kind = e.kind === "dma-write" ? "write" : "read";
  for (const page of pages(e.busAddress, e.bytes, c.s.pageSize)) {
    c.candidate(band, page, PRIORITY.active);
    c.iovaPage(band, page);
    c.mark(band, page).notes.push(`#${e.seq} ${e.message}`);
    c.a.touches.push({ device: e.device, band, index: page, kind, seq: e.seq, note: `#${e.seq} ${e.message}` });
  }
}

function cpuEvent(c: Collector, e: TraceEvent): void {
  if (e.address === undefined || e.domain === undefined) return;
  for (const pfn of pages(e.address, e.bytes, c.s.pageSize)) {
    c.candidate(`domain:${e.domain}`, pfn, PRIORITY.active);
    c.mark(`domain:${e.domain}`, pfn).notes.push(`#${e.seq} ${e.message}`);
  }
}

/** Marks what the event at the current step touched. */
function currentEvent(c: Collector, e: TraceEvent): void {
  const ps = c.s.pageSize;
  const mark = (band: string, index: number) => {
    c.candidate(band, index, PRIORITY.warning);
    c.mark(band, index).current = true;
  };
  if (e.address !== undefined && e.domain !== undefined) for (const pfn of pages(e.address, e.bytes, ps)) mark(`domain:${e.domain}`, pfn);
  if (e.busAddress !== undefined && e.device !== undefined) {
    const band = c.busBand(e.device);
    for (const page of pages(e.busAddress, e.bytes, ps)) {
      c.iovaPage(band, page);
      mark(band, page);
    }
  }
  if (e.machineAddress !== undefined) mark("machine", Math.floor(e.machineAddress / ps));
}

/**
 * Collects the live state and the trace up to `uptoSeq` (all of it when undefined). Events are
 * read newest first, so the limits keep the latest of each sort.
 */
export function collectActivity(s: MachineSnapshot, trace: readonly TraceEvent[] | undefined, uptoSeq: number | undefined): Activity {
  const c = new Collector(s);
  liveState(c);
  if (!trace) return c.a;
  const upto = uptoSeq ?? Infinity;
  let incidents = 0;
  let dma = 0;
  let cpu = 0;
  for (let i = trace.length - 1; i >= 0; i--) {
    const e = trace[i]!;
    if (e.seq > upto) continue;
    c.a.eventsCounted++;
    if (c.a.current === undefined && uptoSeq !== undefined) c.a.current = e;
    if (INCIDENT_KINDS.has(e.kind)) {
      if (incidents++ < EVENT_LIMITS.incidents) incident(c, e);
    } else if (e.kind === "dma-read" || e.kind === "dma-write") {
      if (dma++ < EVENT_LIMITS.dma) dmaEvent(c, e);
    } else if (CPU_KINDS.has(e.kind)) {
      if (cpu++ < EVENT_LIMITS.cpu) cpuEvent(c, e);
    }
  }
  if (c.a.current) currentEvent(c, c.a.current);
  // Oldest first: later arrows draw over earlier ones.
  c.a.touches.sort((x, y) => x.seq - y.seq);
  c.a.incidents.sort((x, y) => x.seq - y.seq);
  return c.a;
}
