import type { MachineSnapshot } from "./snapshot.js";
import { hex } from "./units.js";

/** What sort of thing a {@link SnapshotChange} is about. */
export type ChangeKind =
  | "domain"
  | "device"
  | "mapping"
  | "bounce"
  | "iommu-entry"
  | "iotlb"
  | "iova"
  | "grant"
  | "foreign-page"
  | "frames"
  | "p2m"
  | "halted";

/** One thing that appeared, went away or changed between two snapshots. */
export interface SnapshotChange {
  /** What sort of thing it is: a mapping, bounce slots, an IOTLB entry, a grant, ... */
  kind: ChangeKind;
  /** Stable identity within its kind (the same thing has the same key in both snapshots). */
  key: string;
  /** A short description for a reader, e.g. "xen-swiotlb slots 0-3 of dom0 (bounce for 0x4000)". */
  label: string;
}

/** Returned by `diffSnapshots` and `machine.changes({ at })`. */
export interface SnapshotChanges {
  /** In `after`, not in `before`. */
  appeared: SnapshotChange[];
  /** In `before`, not in `after`. */
  gone: SnapshotChange[];
  /** In both with a different state: an IOTLB entry turned stale, a p2m or the frame map rewritten, the machine halted. */
  changed: SnapshotChange[];
}

type Items = Map<string, SnapshotChange>;

function items(s: MachineSnapshot | null): Items {
  const out: Items = new Map();
  if (!s) return out;
  const add = (kind: ChangeKind, key: string, label: string) => out.set(`${kind}:${key}`, { kind, key, label });
  for (const d of s.domains) add("domain", d.name, `${d.name} (${d.mode})`);
  for (const d of s.devices) add("device", d.name, `${d.name} of ${d.domain}`);
  for (const m of s.mappings)
    add(
      "mapping",
      `${m.device}@${m.busAddress}+${m.size}`,
      `${m.backend} mapping of ${m.size} bytes at ${hex(m.address)} for ${m.device}, bus ${hex(m.busAddress)}`,
    );
  for (const p of s.swiotlb) {
    for (const u of p.used) {
      const what = u.original === null ? "coherent memory" : `bounce for ${hex(u.original)}`;
      add(
        "bounce",
        `${p.domain}/${p.kind}/${u.slot}+${u.count}`,
        `${p.kind} slot${u.count > 1 ? `s ${u.slot}-${u.slot + u.count - 1}` : ` ${u.slot}`} of ${p.domain} (${what})`,
      );
    }
  }
  for (const d of s.iommu) {
    for (const e of d.entries)
      add("iommu-entry", `${d.group}/${e.iovaPage}`, `IOMMU PTE ${hex(e.iovaPage)} → mfn ${hex(e.mfn)} (${d.group})`);
    for (const e of d.iotlb)
      add(
        "iotlb",
        `${d.group}/${e.iovaPage}/${e.mfn}`,
        `IOTLB entry ${hex(e.iovaPage)} → mfn ${hex(e.mfn)} (${d.group})${e.stale ? ", stale" : ""}`,
      );
    for (const r of d.iova)
      add("iova", `${d.group}/${r.iovaPage}+${r.pages}/${r.use}`, `IOVA pages ${hex(r.iovaPage)}+${r.pages} ${r.use} (${d.group})`);
  }
  for (const g of s.grants)
    add("grant", `${g.domain}/${g.gref}`, `grant ${g.gref} of ${g.domain} to ${g.grantee} [${g.flagNames.join(" ")}]`);
  for (const f of s.foreignPages)
    add("foreign-page", `${f.domain}/${f.handle}`, `${f.domain} maps grant ${f.gref} of ${f.granter} (${f.strategy})`);
  return out;
}

/** Changes of state that keep the thing's identity: stale IOTLB entries, grant flags, rewritten p2m or frame maps, a panic. */
function changedInPlace(before: MachineSnapshot, after: MachineSnapshot, was: Items, now: Items): SnapshotChange[] {
  const changed: SnapshotChange[] = [];
  for (const [id, item] of now) {
    const old = was.get(id);
    if (old && old.label !== item.label) changed.push(item);
  }
  // History shares unchanged O(memory) parts between moments, so the reference check settles
  // almost every step at once; a run-by-run comparison is left for parts that were rebuilt.
  if (!sameRuns(before.frames, after.frames)) changed.push({ kind: "frames", key: "frames", label: "machine frame owners" });
  for (const d of after.domains) {
    const old = before.domains.find((o) => o.name === d.name);
    if (!old) continue;
    if (!sameRuns(old.p2m, d.p2m) || !sameRuns(old.extra, d.extra)) {
      changed.push({ kind: "p2m", key: d.name, label: `p2m of ${d.name}` });
    }
  }
  if (before.halted === null && after.halted !== null) changed.push({ kind: "halted", key: "halted", label: `halted: ${after.halted}` });
  return changed;
}

type Run = { count: number; start?: number; pfn?: number; mfn?: number; owner?: string };

function sameRuns(a: readonly Run[], b: readonly Run[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.count !== y.count || x.start !== y.start || x.pfn !== y.pfn || x.mfn !== y.mfn || x.owner !== y.owner) return false;
  }
  return true;
}

/**
 * What appeared, went away or changed from `before` to `after` (pass null for "nothing yet"):
 * mappings, bounce slots, IOMMU PTEs, IOTLB entries, IOVA ranges, grants, foreign pages,
 * domains and devices by identity; p2m and frame maps as changed. A stepper marks these.
 */
export function diffSnapshots(before: MachineSnapshot | null, after: MachineSnapshot): SnapshotChanges {
  const was = items(before);
  const now = items(after);
  const appeared = [...now].filter(([id]) => !was.has(id)).map(([, c]) => c);
  const gone = [...was].filter(([id]) => !now.has(id)).map(([, c]) => c);
  return { appeared, gone, changed: before ? changedInPlace(before, after, was, now) : [] };
}
