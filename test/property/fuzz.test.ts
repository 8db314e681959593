// Fuzz properties over the whole public API (bad input): random configurations and call
// sequences never throw anything but SimError, the same config and calls give the same trace
// (determinism), and trace costs always add up to stats() totals.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { BACKEND_NAMES, SimError, createMachine } from "../../src/sim/index.js";
import type { BackendName, DmaApi, Machine, MachineConfig, SgEntry } from "../../src/sim/index.js";

const direction = fc.constantFrom("TO_DEVICE", "FROM_DEVICE", "BIDIRECTIONAL", "TO_DEVICE", "FROM_DEVICE", "NONE", "sideways");

const operation = fc.oneof(
  fc.record({
    op: fc.constant("map" as const),
    buf: fc.nat(7),
    offset: fc.nat(70000),
    size: fc.integer({ min: -2, max: 300_000 }),
    dir: direction,
  }),
  fc.record({ op: fc.constant("unmap" as const), which: fc.nat(9), sizeDelta: fc.constantFrom(0, 0, 0, -1, 512), dir: direction }),
  fc.record({
    op: fc.constant("mapSg" as const),
    buf: fc.nat(7),
    count: fc.integer({ min: 0, max: 6 }),
    length: fc.integer({ min: 1, max: 40000 }),
    dir: direction,
  }),
  fc.record({ op: fc.constant("unmapSg" as const), which: fc.nat(9), dir: direction }),
  fc.record({
    op: fc.constant("sync" as const),
    which: fc.nat(9),
    toCpu: fc.boolean(),
    offset: fc.nat(20000),
    size: fc.integer({ min: 1, max: 70000 }),
    dir: direction,
  }),
  fc.record({
    op: fc.constant("device" as const),
    which: fc.nat(9),
    write: fc.boolean(),
    offset: fc.integer({ min: -100, max: 70000 }),
    length: fc.nat(40000),
  }),
  fc.record({ op: fc.constant("cpu" as const), buf: fc.nat(7), write: fc.boolean(), offset: fc.nat(70000), length: fc.nat(20000) }),
  fc.record({
    op: fc.constant("alloc" as const),
    size: fc.oneof(fc.integer({ min: -10, max: 2_000_000 }), fc.constantFrom("16 KiB", "1 GiB", "3 KB", "0", "x")),
  }),
  fc.record({ op: fc.constant("coherent" as const), size: fc.integer({ min: 0, max: 300_000 }), free: fc.boolean() }),
  fc.record({ op: fc.constant("setMask" as const), bits: fc.integer({ min: 0, max: 70 }) }),
  fc.record({ op: fc.constant("checkError" as const), which: fc.nat(9) }),
  fc.record({ op: fc.constant("advance" as const), us: fc.oneof(fc.nat(20000), fc.constant(-1)) }),
  fc.record({
    op: fc.constant("garbage" as const),
    target: fc.constantFrom("mapSingle", "unmapSingle", "mapSg", "mapPage", "allocCoherent", "setMask", "write", "read", "page"),
    args: fc.array(fc.anything(), { maxLength: 4 }),
  }),
);

const scenario = fc.record({
  memory: fc.constantFrom("32 MiB", "64 MiB", 48 * 1024 * 1024, "32 MiB", "5 GiB"),
  pageSize: fc.constantFrom(4096, 8192, 16384, 65536, undefined),
  era: fc.constantFrom("2006", "modern"),
  swiotlb: fc.constantFrom(undefined, { size: "1 MiB" }, { size: "256 KiB", force: true }),
  mode: fc.constantFrom("P==M", "P2M", "VP"),
  layout: fc.constantFrom("contiguous", "fragmented", "reverse", undefined),
  backend: fc.constantFrom(...BACKEND_NAMES),
  dmaMask: fc.constantFrom(24, 32, 36, 64),
  iommu: fc.constantFrom(false, true, { invalidation: "lazy" }),
  ops: fc.array(operation, { maxLength: 25 }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

/** Runs one scenario; returns the machine (if one was made) and every non-SimError thrown. */
function run(s: Scenario): { machine?: Machine; foreign: unknown[] } {
  const foreign: unknown[] = [];
  const attempt = (fn: () => void): boolean => {
    try {
      fn();
      return true;
    } catch (error) {
      if (!(error instanceof SimError)) foreign.push(error);
      return false;
    }
  };
  let machine: Machine | undefined;
  let dma: DmaApi | undefined;
  const buffers: number[] = [];
  const singles: { bus: number; size: number; dir: string }[] = [];
  const sgs: { entries: SgEntry[]; dir: string }[] = [];
  const coherent: { cpu: number; bus: number; size: number }[] = [];
  attempt(() => {
    const config = {
      arch: "ia64",
      memory: s.memory,
      pageSize: s.pageSize,
      era: s.era,
      swiotlb: s.swiotlb,
      limits: { storage: "64 MiB" },
    } as MachineConfig;
    machine = createMachine(config);
    const mode = s.mode as "P==M" | "P2M" | "VP";
    const dom0 = machine.createDomain({ name: "dom0", mode, memory: "8 MiB", layout: mode === "P==M" ? undefined : (s.layout as never) });
    machine.createDomain({ name: "domU1", mode: "P2M", memory: "4 MiB" });
    const disk = machine.attachDevice({ name: "sda", domain: dom0, dmaMask: s.dmaMask, iommu: s.iommu as never });
    dma = dom0.dmaApi(disk, s.backend as BackendName);
    for (let i = 0; i < 4; i++) buffers.push(dom0.alloc(i % 2 === 0 ? 16384 : 3 * 16384));
  });
  const m = machine;
  if (!m || !dma) return { machine: m, foreign };
  const api = dma;
  const dom0 = m.domains[0]!;
  const disk = m.devices[0]!;
  const pick = <T>(list: T[], i: number) => (list.length ? list[i % list.length] : undefined);
  for (const o of s.ops) {
    if (m.halted) break;
    attempt(() => {
      switch (o.op) {
        case "map": {
          const base = pick(buffers, o.buf) ?? 0;
          const bus = api.mapSingle(base + o.offset, o.size, o.dir as never);
          singles.push({ bus, size: o.size, dir: o.dir });
          break;
        }
        case "unmap": {
          const s1 = pick(singles, o.which);
          if (s1) api.unmapSingle(s1.bus, s1.size + o.sizeDelta, o.dir as never);
          break;
        }
        case "mapSg": {
          const base = pick(buffers, o.buf) ?? 0;
          const entries = Array.from({ length: o.count }, (_, i) => ({ address: base + i * o.length, length: o.length }));
          api.mapSg(entries, o.dir as never);
          sgs.push({ entries, dir: o.dir });
          break;
        }
        case "unmapSg": {
          const sg = pick(sgs, o.which);
          if (sg) api.unmapSg(sg.entries, o.dir as never);
          break;
        }
        case "sync": {
          const s1 = pick(singles, o.which);
          if (s1)
            o.toCpu
              ? api.syncSingleForCpu(s1.bus + o.offset, o.size, o.dir as never)
              : api.syncSingleForDevice(s1.bus + o.offset, o.size, o.dir as never);
          break;
        }
        case "device": {
          const s1 = pick(singles, o.which);
          const bus = (s1?.bus ?? 0) + o.offset;
          if (o.write) disk.write(bus, new Uint8Array(o.length).fill(0xab));
          else disk.read(bus, o.length);
          break;
        }
        case "cpu": {
          const base = pick(buffers, o.buf) ?? 0;
          if (o.write) dom0.write(base + o.offset, new Uint8Array(o.length).fill(7));
          else dom0.read(base + o.offset, o.length);
          break;
        }
        case "alloc":
          buffers.push(dom0.alloc(o.size));
          break;
        case "coherent": {
          const c = api.allocCoherent(o.size);
          if (c) coherent.push({ cpu: c.cpuAddress, bus: c.busAddress, size: o.size });
          const last = coherent[coherent.length - 1];
          if (o.free && last) {
            coherent.pop();
            api.freeCoherent(last.size, last.cpu, last.bus);
          }
          break;
        }
        case "setMask":
          api.setMask(o.bits);
          break;
        case "checkError": {
          const s1 = pick(singles, o.which);
          if (s1) api.mappingError(s1.bus);
          break;
        }
        case "advance":
          m.advanceTime(o.us);
          break;
        case "garbage": {
          const target = ["write", "read", "page"].includes(o.target) ? dom0 : api;
          (target as unknown as Record<string, (...a: unknown[]) => unknown>)[o.target]!(...o.args);
          break;
        }
      }
    });
  }
  if (!m.halted) attempt(() => m.finish());
  return { machine: m, foreign };
}

describe("fuzzing the public API", () => {
  it("random configurations and call sequences throw nothing but SimError", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { foreign } = run(s);
        expect(foreign.map(String)).toEqual([]);
      }),
      { numRuns: 3500 },
    );
  }, 60_000);

  it("the same configuration and calls give the same trace, and its costs add up to stats()", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const first = run(s).machine;
        const second = run(s).machine;
        if (!first || !second) return;
        expect(JSON.stringify(second.trace)).toBe(JSON.stringify(first.trace));
        const stats = first.stats();
        expect(first.trace.reduce((sum, e) => sum + e.cost, 0)).toBe(stats.cost.total);
        const byKind: Record<string, number> = {};
        for (const e of first.trace) byKind[e.kind] = (byKind[e.kind] ?? 0) + e.cost;
        expect(byKind).toEqual(stats.cost.byKind);
        expect(Object.values(stats.events).reduce((a, b) => a + b, 0)).toBe(first.trace.length);
      }),
      { numRuns: 800 },
    );
  }, 60_000);
});
