import { SimError, describeValue } from "../errors.js";
import type { Machine } from "../machine.js";
import type { EventKind, Stats } from "../trace.js";

/** One strategy of a comparison: a display name plus the scenario's own options. */
export interface StrategySpec {
  /** Shown in charts and tables; unique within one comparison. */
  name: string;
}

/** What a scenario reports after running one strategy. */
export interface ScenarioOutcome {
  /** The machine the strategy ran on (its trace and stats are the raw data). */
  machine: Machine;
  /** Operations in the measured window (packets, requests). */
  ops: number;
  /** Stats when the measured window opened and closed; default: the whole run. Setup and teardown stay outside. */
  window?: { start: Stats; end: Stats };
  /** Scenario-specific figures, e.g. `throughputGbps`, `fractionOfLineRate`. */
  metrics?: Record<string, number>;
  /** False if the run failed (mapping error, panic, wrong bytes). */
  ok: boolean;
  /** What went wrong, one message per failure ("CODE: message"); empty when ok. */
  errors: string[];
}

/**
 * A workload that can be run once per strategy, each time on a fresh machine. Build one with
 * {@link packetStream} or {@link blkbackScenario}, or write your own.
 * @template S The strategy type the scenario accepts, e.g. {@link PacketStrategy}.
 */
export interface Scenario<S extends StrategySpec> {
  /** The workload's name, for titles, e.g. "blkback round trip: write of 64 sectors". */
  name: string;
  /** What one operation is, for labels ("packet", "request"). */
  opName: string;
  /** Runs the workload once under `strategy` on a fresh machine and reports what happened. */
  run(strategy: S): ScenarioOutcome;
}

/** One strategy's figures: the data the comparison charts draw. Plain data. */
export interface StrategyResult {
  /** The strategy's name (its `StrategySpec.name`). */
  name: string;
  /** Simulated CPU cycles spent in the measured window. */
  total: number;
  /** `total / ops`. */
  perOp: number;
  /** Operations in the measured window (packets, requests). */
  ops: number;
  /** Cycles by event kind in the window. */
  breakdown: Partial<Record<EventKind, number>>;
  /** Event counts by kind in the window. */
  events: Partial<Record<EventKind, number>>;
  /** The scenario's own figures (e.g. packet stream: cyclesPerPacket, throughputGbps, fractionOfLineRate, lineRateGbps, packetsDelivered). */
  metrics: Record<string, number>;
  /** False if the run failed (mapping error, panic, wrong bytes). */
  ok: boolean;
  /** What went wrong; empty when ok. */
  errors: string[];
}

/** Most strategies one comparison may run (each builds a machine). */
export const MAX_STRATEGIES = 32;

/**
 * Runs `scenario` once per strategy, each on its own machine with the SAME default constants
 * (nothing is tuned per strategy or scenario), and returns per-strategy totals and breakdowns.
 * @example
 * compareStrategies(packetStream({ packets: 500 }), [
 *   { name: "strict", mapping: "strict" }, { name: "deferred", mapping: "deferred" },
 * ]).map((r) => [r.name, r.perOp]);
 */
export function compareStrategies<S extends StrategySpec>(scenario: Scenario<S>, strategies: readonly S[]): StrategyResult[] {
  if (typeof scenario !== "object" || scenario === null || typeof scenario.run !== "function") {
    throw new SimError(
      "INVALID_ARGUMENT",
      `compareStrategies(scenario, strategies): scenario must be a scenario such as packetStream() or blkbackScenario(), got ${describeValue(scenario)}`,
      "scenario",
    );
  }
  if (!Array.isArray(strategies) || strategies.length === 0 || strategies.length > MAX_STRATEGIES) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `strategies must be an array of 1 to ${MAX_STRATEGIES} strategies ({ name, ... }), got ${Array.isArray(strategies) ? `${strategies.length}` : describeValue(strategies)}`,
      "strategies",
    );
  }
  const names = new Set<string>();
  strategies.forEach((s, i) => {
    if (typeof s !== "object" || s === null || typeof s.name !== "string" || s.name.length === 0 || s.name.length > 64) {
      throw new SimError(
        "INVALID_ARGUMENT",
        `strategies[${i}] must be an object with a name of 1-64 characters, got ${describeValue(s)}`,
        `strategies[${i}]`,
      );
    }
    if (names.has(s.name))
      throw new SimError("INVALID_ARGUMENT", `strategies[${i}]: the name ${describeValue(s.name)} is used twice`, `strategies[${i}].name`);
    names.add(s.name);
  });
  return strategies.map((s) => summarise(s.name, scenario.run(s)));
}

/** Turns one run into its figures: costs and counts inside the measured window. */
export function summarise(name: string, outcome: ScenarioOutcome): StrategyResult {
  const end = outcome.window?.end ?? outcome.machine.stats();
  const start = outcome.window?.start;
  const breakdown = difference(end.cost.byKind, start?.cost.byKind);
  const events = difference(end.events, start?.events);
  const total = end.cost.total - (start?.cost.total ?? 0);
  return {
    name,
    total,
    perOp: outcome.ops > 0 ? total / outcome.ops : 0,
    ops: outcome.ops,
    breakdown,
    events,
    metrics: { ...(outcome.metrics ?? {}) },
    ok: outcome.ok,
    errors: [...outcome.errors],
  };
}

function difference(
  end: Partial<Record<EventKind, number>>,
  start: Partial<Record<EventKind, number>> | undefined,
): Partial<Record<EventKind, number>> {
  const out: Partial<Record<EventKind, number>> = {};
  for (const [kind, value] of Object.entries(end) as [EventKind, number][]) {
    const delta = value - (start?.[kind] ?? 0);
    if (delta !== 0) out[kind] = delta;
  }
  return out;
}
