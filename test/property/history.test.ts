// Time travel: `machine.snapshot({ at })` must be the machine exactly as a reader would have seen
// it right after event `at`. Each random run records, from a trace watcher, a full live snapshot
// and stats() as each event is appended, then compares every one with what the history hands
// back after the run is over. Runs mix the
// backends that change the most state per event: xen-swiotlb and swiotlb (bounce slots, pool
// frames, XENMEM_exchange rewriting the p2m), the IOMMU under strict and lazy invalidation
// (PTEs, IOTLB, flush queue, time), grants mapped by a backend, and time passing.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { SimError, createMachine } from "../../src/sim/index.js";
import type { Direction, DmaApi, Machine, MachineSnapshot, Stats } from "../../src/sim/index.js";
import { takeSnapshot } from "../../src/sim/snapshot.js";

const PAGE = 4096;
const DIRECTIONS: Direction[] = ["TO_DEVICE", "FROM_DEVICE", "BIDIRECTIONAL"];

const op = fc.oneof(
  fc.record({
    kind: fc.constant("map" as const),
    api: fc.nat(2),
    page: fc.nat(30),
    offset: fc.nat(PAGE - 1),
    length: fc.integer({ min: 1, max: 3 * PAGE }),
    dir: fc.constantFrom(...DIRECTIONS),
  }),
  fc.record({
    kind: fc.constant("map" as const),
    api: fc.nat(2),
    page: fc.nat(30),
    offset: fc.nat(PAGE - 1),
    length: fc.integer({ min: 1, max: 3 * PAGE }),
    dir: fc.constantFrom(...DIRECTIONS),
  }),
  fc.record({ kind: fc.constant("unmap" as const), which: fc.nat() }),
  fc.record({ kind: fc.constant("write" as const), which: fc.nat(), fill: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant("time" as const), microseconds: fc.integer({ min: 1, max: 20_000 }) }),
  fc.record({ kind: fc.constant("grant" as const), page: fc.nat(7), readonly: fc.boolean() }),
  fc.record({ kind: fc.constant("coherent" as const), api: fc.nat(2) }),
);

interface Live {
  api: DmaApi;
  bus: number;
  size: number;
  dir: Direction;
}

/** dom0 with three devices: one per backend family; domU has data to grant. */
function rig(seed: number, invalidation: "strict" | "lazy", mode: "P2M" | "VP", watch: (m: Machine) => void = () => {}) {
  const m = createMachine({ arch: "x86_64", memory: "8 MiB", seed, swiotlb: { size: "256 KiB" } });
  m.recordHistory();
  watch(m);
  const dom0 = m.createDomain({ name: "dom0", mode, memory: 32 * PAGE });
  const domU = m.createDomain({ name: "domU1", mode: "P2M", memory: 8 * PAGE });
  const iommuDev = m.attachDevice({ name: "nic", domain: dom0, iommu: { invalidation } });
  const bounceDev = m.attachDevice({ name: "sda", domain: dom0 });
  const apis = [
    dom0.dmaApi(iommuDev, "iommu"),
    dom0.dmaApi(bounceDev, mode === "P2M" ? "xen-swiotlb" : "hypercall"),
    dom0.dmaApi(m.attachDevice({ name: "sdb", domain: dom0 }), mode === "P2M" ? "p2m" : "hypercall"),
  ];
  return { m, dom0, domU, apis };
}

/** Records a full live snapshot (built from scratch, no cache) and stats() as each event is appended. */
class LiveRecorder {
  readonly moments: MachineSnapshot[] = [];
  readonly stats: Stats[] = [];

  readonly watch = (m: Machine): void => {
    m.traceLog.watch(() => {
      this.moments.push(takeSnapshot(m));
      this.stats.push(m.stats());
    });
  };
}

describe("snapshot({ at }) replays the run", () => {
  it("equals the live snapshot and stats at every event", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.constantFrom("strict" as const, "lazy" as const),
        fc.constantFrom("P2M" as const, "VP" as const),
        fc.array(op, { minLength: 1, maxLength: 25 }),
        (seed, invalidation, mode, ops) => {
          const recorder = new LiveRecorder();
          const { m, dom0, domU, apis } = rig(seed, invalidation, mode, recorder.watch);
          const live: Live[] = [];
          try {
            for (const o of ops) {
              if (o.kind === "map") {
                const api = apis[o.api]!;
                const bus = api.mapSingle(o.page * PAGE + o.offset, o.length, o.dir);
                if (!api.mappingError(bus)) live.push({ api, bus, size: o.length, dir: o.dir });
              } else if (o.kind === "unmap" && live.length > 0) {
                const [l] = live.splice(o.which % live.length, 1);
                l!.api.unmapSingle(l!.bus, l!.size, l!.dir);
              } else if (o.kind === "write" && live.length > 0) {
                const l = live[o.which % live.length]!;
                l.api.device.write(l.bus, new Uint8Array(Math.min(l.size, 64)).fill(o.fill));
              } else if (o.kind === "time") {
                m.advanceTime(o.microseconds);
              } else if (o.kind === "grant") {
                const gref = domU.grantAccess(o.page, dom0, { readonly: o.readonly });
                dom0.mapGrant(domU, gref, { readonly: o.readonly });
              } else if (o.kind === "coherent") {
                apis[o.api]!.allocCoherent(PAGE);
              }
            }
            m.finish();
          } catch (e) {
            if (!(e instanceof SimError)) throw e;
          }
          const { moments, stats } = recorder;
          expect(moments.length).toBe(m.trace.length);
          for (let seq = 1; seq <= moments.length; seq++) {
            expect(m.snapshot({ at: seq }), `snapshot at event ${seq} (${m.trace[seq - 1]!.kind})`).toEqual(moments[seq - 1]);
            expect(m.stats({ at: seq }), `stats at event ${seq}`).toEqual(stats[seq - 1]);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("snapshot({ at }) outside the run", () => {
  it("names the range of events it has", () => {
    const { m } = rig(1, "strict", "P2M");
    const last = m.trace.length;
    expect(() => m.snapshot({ at: 0 })).toThrow(`the run's stored trace events are 1 to ${last}`);
    expect(() => m.snapshot({ at: last + 1 })).toThrow(`the run's stored trace events are 1 to ${last}`);
    expect(() => m.stats({ at: 1.5 })).toThrow("at must be the seq of a trace event");
  });

  it("asks for recordHistory() when the machine does not record", () => {
    const m = createMachine({ memory: "64 MiB" });
    m.createDomain({ name: "dom0", mode: "P2M", memory: "16 MiB" });
    expect(() => m.snapshot({ at: 1 })).toThrow("call machine.recordHistory() before its first event");
    // stats need no history: they are sums over the stored trace.
    expect(m.stats({ at: 1 }).events).toEqual({ setup: 1 });
  });

  it("keeps only the first events when told to, and says so past them", () => {
    const m = createMachine({ arch: "x86_64", memory: "8 MiB" });
    m.recordHistory({ events: 2 });
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "64 KiB" });
    const dma = dom0.dmaApi(m.attachDevice({ name: "sda", domain: dom0 }), "p2m");
    dma.mapSingle(0, 64, "TO_DEVICE");
    expect(m.snapshot({ at: 2 }).domains.map((d) => d.name)).toEqual(["dom0"]);
    expect(m.snapshot({ at: 2 }).mappings).toEqual([]);
    expect(() => m.snapshot({ at: 3 })).toThrow("history keeps the moments of events 1 to 2");
  });
});

describe("changes({ at })", () => {
  it("lists the bounce slots a straddling xen-swiotlb map takes and its unmap gives back", () => {
    const m = createMachine({ arch: "x86_64", memory: "8 MiB", swiotlb: { size: "256 KiB" } });
    m.recordHistory();
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: 16 * PAGE });
    const dma = dom0.dmaApi(m.attachDevice({ name: "sda", domain: dom0 }), "xen-swiotlb");
    const buf = dom0.alloc(2 * PAGE);
    const bus = dma.mapSingle(buf + PAGE - 100, 200, "TO_DEVICE");
    const mapped = m.trace.length;
    dma.unmapSingle(bus, 200, "TO_DEVICE");
    const kinds = (at: number, side: "appeared" | "gone") => m.changes({ at })[side].map((c) => c.kind);
    const taken = Array.from({ length: mapped }, (_, i) => i + 1).filter((at) => kinds(at, "appeared").includes("bounce"));
    const freed = Array.from({ length: m.trace.length }, (_, i) => i + 1).filter((at) => kinds(at, "gone").includes("bounce"));
    expect(taken).toHaveLength(1);
    expect(freed).toHaveLength(1);
    expect(freed[0]!).toBeGreaterThan(mapped);
    expect(m.snapshot({ at: taken[0]! }).swiotlb[0]!.usedSlots).toBeGreaterThan(0);
    expect(m.snapshot({ at: freed[0]! }).swiotlb[0]!.usedSlots).toBe(0);
  });
});
