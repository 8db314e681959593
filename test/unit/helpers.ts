import { createMachine, SimError } from "../../src/sim/index.js";
import type { MachineConfig, TraceEvent, EventKind } from "../../src/sim/index.js";

/** A small ia64 machine (16 KiB pages) unless overridden. */
export function smallMachine(overrides: Partial<MachineConfig> = {}) {
  return createMachine({ arch: "ia64", memory: "64 MiB", ...overrides });
}

/** Events of one kind. */
export function eventsOf(trace: readonly TraceEvent[], kind: EventKind): TraceEvent[] {
  return trace.filter((e) => e.kind === kind);
}

/** Runs `fn`, expecting a SimError; returns it for assertions on code and message. */
export function simError(fn: () => unknown): SimError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SimError) return error;
    throw new Error(`expected a SimError, got ${String(error)}`);
  }
  throw new Error("expected a SimError, nothing was thrown");
}

export const bytes = (text: string) => new TextEncoder().encode(text);
export const text = (data: Uint8Array) => new TextDecoder().decode(data);
