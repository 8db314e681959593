// The stepper's messages between the page and the finished run's runner (its session): the page
// asks for machine N at event `at`; the runner answers with the snapshot, changes and stats there.
//
// Snapshots of consecutive events share their big arrays (frame runs, p2m runs, pool frames: see
// the simulator's history), so each such array crosses once per session: an answer carries only
// the arrays the page has not seen, and the snapshot refers to the others by number.
import type { MachineSnapshot, SnapshotChanges, Stats } from "../../sim/index.js";

/** Page → runner: machine `machine` (0-based) right after trace event `at`. `id` pairs the answer. */
export interface StepRequest {
  type: "step";
  id: number;
  machine: number;
  at: number;
}

/** A shared array the page had not seen yet, as JSON text. */
export interface StepPart {
  part: number;
  json: string;
}

/** Runner → page: the answer to a {@link StepRequest} with the same id, or why there is none. */
export type StepAnswer =
  | { type: "step"; id: number; snapshotJson: string; parts: StepPart[]; changes: SnapshotChanges; stats: Stats }
  | { type: "step"; id: number; error: string };

/** The fields of a snapshot (and of its domains and pools) that hold shared arrays. */
const SHARED_TOP = ["frames"] as const;
const SHARED_DOMAIN = ["p2m", "extra"] as const;
const SHARED_POOL = ["frames"] as const;
/** How a snapshot's JSON refers to a part: `{"$part": 3}` in place of the array. */
const REF = "$part";

/** Runner side: remembers which arrays the page has, and packs snapshots accordingly. */
export class PartPacker {
  private readonly sent = new WeakMap<object, number>();
  private next = 1;

  constructor(private readonly stringify: (value: unknown) => string = JSON.stringify) {}

  pack(snapshot: MachineSnapshot): { snapshotJson: string; parts: StepPart[] } {
    const parts: StepPart[] = [];
    const ref = (value: unknown): unknown => {
      if (!Array.isArray(value)) return value;
      let part = this.sent.get(value);
      if (part === undefined) {
        part = this.next++;
        this.sent.set(value, part);
        parts.push({ part, json: this.stringify(value) });
      }
      return { [REF]: part };
    };
    const swap = <T extends object>(o: T, keys: readonly string[]): T => ({
      ...o,
      ...Object.fromEntries(keys.map((k) => [k, ref((o as Record<string, unknown>)[k])])),
    });
    const packed = {
      ...swap(snapshot, SHARED_TOP),
      domains: snapshot.domains.map((d) => swap(d, SHARED_DOMAIN)),
      swiotlb: snapshot.swiotlb.map((p) => swap(p, SHARED_POOL)),
    };
    return { snapshotJson: this.stringify(packed), parts };
  }
}

/** Page side: the parts received in one session, and the snapshots rebuilt from them. */
export class PartStore {
  private readonly parts = new Map<number, unknown[]>();

  /** The snapshot of an answer; throws if it refers to a part never sent or is not a snapshot. */
  unpack(answer: { snapshotJson: string; parts: StepPart[] }): MachineSnapshot {
    for (const { part, json } of answer.parts) {
      const value: unknown = JSON.parse(json);
      if (!Array.isArray(value)) throw new Error(`step part ${part} is not an array`);
      this.parts.set(part, value);
    }
    const snapshot: unknown = JSON.parse(answer.snapshotJson, (_key, value: unknown) => {
      if (typeof value !== "object" || value === null || !Object.hasOwn(value, REF)) return value;
      const part = this.parts.get((value as Record<string, number>)[REF]!);
      if (!part) throw new Error("the step refers to a part the page never received");
      return part;
    });
    if (!isSnapshot(snapshot)) throw new Error("the step answer is not a machine snapshot");
    return snapshot;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const LISTS = ["frames", "domains", "devices", "mappings", "iommu", "swiotlb", "grants", "foreignPages"] as const;

function isSnapshot(v: unknown): v is MachineSnapshot {
  return isObject(v) && typeof v.pageSize === "number" && typeof v.memory === "number" && LISTS.every((k) => Array.isArray(v[k]));
}

const isChange = (v: unknown) => isObject(v) && typeof v.kind === "string" && typeof v.key === "string" && typeof v.label === "string";
const isChangeList = (v: unknown) => Array.isArray(v) && v.every(isChange);
const isChanges = (v: unknown) => isObject(v) && isChangeList(v.appeared) && isChangeList(v.gone) && isChangeList(v.changed);
const isStats = (v: unknown) =>
  isObject(v) &&
  isObject(v.events) &&
  isObject(v.cost) &&
  typeof v.cost.total === "number" &&
  isObject(v.cost.byKind) &&
  typeof v.time === "number";
const isPart = (v: unknown) => isObject(v) && isCount(v.part) && typeof v.json === "string" && Object.keys(v).length === 2;

/** `data` as a step answer, or undefined when it does not match (fields and nothing else). */
export function parseStepAnswer(data: unknown): StepAnswer | undefined {
  if (!isObject(data) || data.type !== "step" || !isCount(data.id)) return undefined;
  const keys = Object.keys(data).sort().join(",");
  if ("error" in data) return keys === "error,id,type" && typeof data.error === "string" ? (data as unknown as StepAnswer) : undefined;
  const ok =
    keys === "changes,id,parts,snapshotJson,stats,type" &&
    typeof data.snapshotJson === "string" &&
    Array.isArray(data.parts) &&
    data.parts.every(isPart) &&
    isChanges(data.changes) &&
    isStats(data.stats);
  return ok ? (data as unknown as StepAnswer) : undefined;
}

/** `data` as a step request (the runner checks the page's messages too). */
export function parseStepRequest(data: unknown): StepRequest | undefined {
  if (!isObject(data) || data.type !== "step") return undefined;
  return isCount(data.id) && isCount(data.machine) && isCount(data.at) && Object.keys(data).length === 4
    ? (data as unknown as StepRequest)
    : undefined;
}
