import { hex } from "../units.js";
import type { BackendContext } from "./backend.js";

/** How a backend learns the machine frame behind a PFN: the thread's three positions. */
export type TranslateVia = "p2m" | "hypercall";

/**
 * Machine frames behind every page of [gpa, gpa + length), each lookup traced and charged: a p2m
 * table read (P2M: "a cheap memory read"), or a hypercall (VP: machine addresses are hidden, so
 * Xen must be asked). Returns a reason instead if a page is not populated.
 */
export function lookupFrames(ctx: BackendContext, gpa: number, length: number, via: TranslateVia): number[] | string {
  const { machine, domain } = ctx;
  const pageSize = machine.pageSize;
  const first = Math.floor(gpa / pageSize);
  const last = Math.floor((gpa + Math.max(length, 1) - 1) / pageSize);
  const frames: number[] = [];
  for (let pfn = first; pfn <= last; pfn++) {
    const mfn = domain.pfnToMfn(pfn);
    if (mfn === undefined) return `pfn ${hex(pfn)} of ${domain.name} is not populated`;
    if (via === "p2m") {
      machine.emit("translate", () => `p2m read: ${domain.name} pfn ${hex(pfn)} → mfn ${hex(mfn)}`, {
        domain: domain.name,
        device: ctx.device.name,
        address: pfn * pageSize,
        machineAddress: mfn * pageSize,
        cost: machine.costs.p2mRead,
      });
    } else {
      machine.emit(
        "hypercall",
        () =>
          `hypercall: Xen translates ${domain.name} pfn ${hex(pfn)} → mfn ${hex(mfn)} (VP: ${domain.name} cannot read machine addresses)`,
        {
          domain: domain.name,
          device: ctx.device.name,
          address: pfn * pageSize,
          machineAddress: mfn * pageSize,
          cost: machine.costs.hypercall,
        },
      );
    }
    frames.push(mfn);
  }
  return frames;
}

/** Index of the first page whose frame does not follow the previous one, or -1 if all are contiguous. */
export function firstDiscontinuity(frames: readonly number[]): number {
  for (let i = 1; i < frames.length; i++) if (frames[i] !== frames[i - 1]! + 1) return i;
  return -1;
}

/** How the domain of `ctx` translates: by reading its p2m, or by asking Xen (VP). */
export function naturalVia(ctx: BackendContext): TranslateVia {
  return ctx.domain.mode === "VP" ? "hypercall" : "p2m";
}
