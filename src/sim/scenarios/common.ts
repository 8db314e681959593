import { SimError, describeValue } from "../errors.js";
import { Machine, createMachine } from "../machine.js";
import type { MachineConfig } from "../machine.js";
import { SeededRandom } from "../rng.js";
import type { Device } from "../device.js";
import type { Domain } from "../domain.js";
import type { BackendName } from "../dma/backend.js";
import type { Invalidation } from "../iommu.js";
import type { Stats, TraceEvent } from "../trace.js";

/** A failure a scenario caught: the SimError code (or GNTST_* status name) and its message. */
export interface ScenarioError {
  /** The {@link SimErrorCode}, or for a failed grant operation its GNTST_* name (e.g. "GNTST_bad_gntref"). */
  code: string;
  /** The error's message. */
  message: string;
}

/** Uses the reader's machine, or builds one from a config (or from `fallback`). */
export function machineFrom(value: Machine | MachineConfig | undefined, fallback: MachineConfig): Machine {
  if (value instanceof Machine) {
    value.assertRunning();
    return value;
  }
  if (value !== undefined && (typeof value !== "object" || value === null)) {
    throw new SimError(
      "INVALID_CONFIG",
      `machine must be a Machine from createMachine() or a machine config, got ${describeValue(value)}`,
      "machine",
    );
  }
  return createMachine(value ?? fallback);
}

/** A name not yet taken on the machine: `base`, else base2, base3, ... */
export function freshName(taken: readonly string[], base: string): string {
  if (!taken.includes(base)) return base;
  for (let i = 2; ; i++) if (!taken.includes(`${base}${i}`)) return `${base}${i}`;
}

/**
 * The backend's device for a scenario: a fresh name from `base`, the reader's DMA mask (32 bits by
 * default), and behind the IOMMU only for the "iommu" backend (strict invalidation by default).
 */
export function attachScenarioDevice(
  machine: Machine,
  dom0: Domain,
  backend: BackendName,
  device: { base: string; driver: string; dmaMask?: number; invalidation?: Invalidation },
): Device {
  return machine.attachDevice({
    name: freshName(
      machine.devices.map((d) => d.name),
      device.base,
    ),
    domain: dom0,
    driver: device.driver,
    dmaMask: device.dmaMask ?? 32,
    iommu: backend === "iommu" ? { invalidation: device.invalidation ?? "strict" } : false,
  });
}

/** `length` pseudo-random bytes from `seed`: the data a scenario sends, reproducible. */
export function patternBytes(seed: number, length: number): Uint8Array {
  const random = new SeededRandom(seed ^ 0x5bd1e995);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = random.below(256);
  return out;
}

/** True if both arrays hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Records a SimError as a ScenarioError (GrantErrors by their GNTST_* name); anything else is rethrown. */
export function recordError(errors: ScenarioError[], error: unknown): void {
  if (!(error instanceof SimError)) throw error;
  const status = (error as SimError & { statusName?: string }).statusName;
  errors.push({ code: status ?? error.code, message: error.message });
}

/** Runs a cleanup step; a SimError there is recorded, not thrown (the run already failed or the machine halted). */
export function attempt(machine: Machine, errors: ScenarioError[], step: () => void): void {
  if (machine.halted !== undefined) return;
  try {
    step();
  } catch (error) {
    recordError(errors, error);
  }
}

/** Events of `machine` after sequence number `afterSeq`. */
export function traceSince(events: readonly TraceEvent[], afterSeq: number): TraceEvent[] {
  return events.filter((e) => e.seq > afterSeq).map((e) => ({ ...e }));
}

/** `end - start`, kind by kind. */
export function statsDelta(start: Stats, end: Stats): Stats {
  const minus = <K extends string>(a: Partial<Record<K, number>>, b: Partial<Record<K, number>>): Partial<Record<K, number>> => {
    const out: Partial<Record<K, number>> = {};
    for (const [k, v] of Object.entries(a) as [K, number][]) {
      const d = v - (b[k] ?? 0);
      if (d !== 0) out[k] = d;
    }
    return out;
  };
  return {
    events: minus(end.events, start.events),
    cost: { total: end.cost.total - start.cost.total, byKind: minus(end.cost.byKind, start.cost.byKind) },
    time: end.time - start.time,
    droppedEvents: end.droppedEvents - start.droppedEvents,
  };
}

/** The sequence number of the machine's latest stored event (0 if none). */
export function lastSeq(machine: Machine): number {
  return machine.trace[machine.trace.length - 1]?.seq ?? 0;
}
