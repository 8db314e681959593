// Property: a blkfront → blkback → disk round trip delivers the domU's bytes
// byte-identical under every backend that can do it, for any size, offset, layout and direction —
// the design's invariant "data sent through any backend arrives byte-identical to data sent
// directly", on the path the 2006 thread is about. "Can do it" per dom0 mode, as the thread's
// positions have it: P==M maps directly (direct), P2M reads its p2m (p2m), VP asks Xen
// (hypercall); xen-swiotlb and an IOMMU serve every mode. The Xen merge check is on (the default,
// xenified asm/io.h BIOVEC_PHYS_MERGEABLE), so no backend is handed a machine-discontiguous segment
// it cannot map; foreign pages are either grant-mapped ("map") or tagged ("tag", the summit's suggestion).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  blkbackRoundTrip,
  compareStrategies,
  createMachine,
  createRequestQueue,
  netbackPacket,
  packetStream,
  SimError,
} from "../../src/sim/index.js";
import type { BackendName, DomainMode } from "../../src/sim/index.js";

const CAPABLE: Record<DomainMode, BackendName[]> = {
  "P==M": ["direct", "xen-swiotlb", "iommu"],
  P2M: ["p2m", "xen-swiotlb", "iommu"],
  VP: ["hypercall", "xen-swiotlb", "iommu"],
};

const combo = fc.constantFrom(
  ...(Object.entries(CAPABLE) as [DomainMode, BackendName[]][]).flatMap(([mode, backends]) =>
    backends.map((backend) => ({ mode, backend })),
  ),
);

const roundTrip = fc.record({
  combo,
  foreignPages: fc.constantFrom("map" as const, "tag" as const),
  op: fc.constantFrom("read" as const, "write" as const),
  sectors: fc.integer({ min: 1, max: 200 }),
  offsetSectors: fc.integer({ min: 0, max: 31 }),
  diskSector: fc.integer({ min: 0, max: 1000 }),
  domULayout: fc.constantFrom("fragmented" as const, "fragmented" as const, "reverse" as const, "contiguous" as const),
  domUMode: fc.constantFrom("VP" as const, "P2M" as const),
  era: fc.constantFrom("modern" as const, "2006" as const),
  invalidation: fc.constantFrom("strict" as const, "lazy" as const),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

describe("blkback round trip", () => {
  it("delivers the bytes identical under every capable backend, and leaves no mapping behind", () => {
    fc.assert(
      fc.property(roundTrip, (c) => {
        const r = blkbackRoundTrip({
          machine: { arch: "ia64", memory: "256 MiB", era: c.era, seed: c.seed },
          backend: c.combo.backend,
          dom0Mode: c.combo.mode,
          domUMode: c.domUMode,
          domULayout: c.domULayout,
          foreignPages: c.foreignPages,
          op: c.op,
          sectors: c.sectors,
          offsetSectors: c.offsetSectors,
          diskSector: c.diskSector,
          invalidation: c.invalidation,
          dom0Memory: "32 MiB",
          domUMemory: "16 MiB",
          seed: c.seed,
        });
        expect(r.errors).toEqual([]);
        expect(r.bytesIdentical).toBe(true);
        expect(r.trace.filter((e) => e.kind === "stray-dma" || e.kind === "iommu-fault" || e.kind === "dma-debug")).toEqual([]);
        expect(r.machine.snapshot().mappings).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});

// Issue 3, "Bad input": whatever a reader passes, the scenario helpers and the request queue throw
// nothing but SimError (and never hang).
// Mostly plausible values (so runs get deep), sometimes absent, now and then anything at all.
const maybe = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    { weight: 12, arbitrary: arb },
    { weight: 1, arbitrary: fc.anything() as fc.Arbitrary<T> },
  );

describe("scenario helpers under random input", () => {
  it("throw nothing but SimError", () => {
    const options = fc.record(
      {
        backend: fc.oneof(
          { weight: 12, arbitrary: fc.constantFrom("direct", "p2m", "hypercall", "swiotlb", "xen-swiotlb", "iommu") },
          { weight: 1, arbitrary: fc.anything() },
        ),
        foreignPages: maybe(fc.constantFrom("map", "tag")),
        op: maybe(fc.constantFrom("read", "write")),
        sectors: maybe(fc.integer({ min: -2, max: 300 })),
        offsetSectors: maybe(fc.integer({ min: -1, max: 40 })),
        dom0Mode: maybe(fc.constantFrom("P==M", "P2M", "VP")),
        domUMode: maybe(fc.constantFrom("P==M", "P2M", "VP")),
        dmaMask: maybe(fc.constantFrom(16, 24, 30, 32, 64)),
        xenMergeCheck: maybe(fc.boolean()),
        sgMapping: maybe(fc.constantFrom("dma-api", "first-frame")),
        bounce: maybe(fc.constantFrom("pci-dma-bus-is-phys", "none")),
        allocation: maybe(fc.constantFrom("straddling", "xen-skb")),
        packetSize: maybe(fc.integer({ min: 0, max: 10000 })),
        era: maybe(fc.constantFrom("2006", "modern")),
      },
      { requiredKeys: ["backend"] },
    );
    fc.assert(
      fc.property(options, fc.constantFrom("blkback", "netback", "queue", "stream"), (o, which) => {
        const machine = { arch: "ia64" as const, memory: "256 MiB", era: o.era === "2006" ? ("2006" as const) : ("modern" as const) };
        try {
          if (which === "blkback") {
            const { allocation: _a, packetSize: _p, era: _e, ...rest } = o;
            blkbackRoundTrip({ ...rest, machine, dom0Memory: "32 MiB", domUMemory: "16 MiB" } as never);
          } else if (which === "netback") {
            const { op: _o, sectors: _s, offsetSectors: _f, xenMergeCheck: _x, sgMapping: _g, bounce: _b, era: _e, ...rest } = o;
            netbackPacket({ ...rest, machine, dom0Memory: "32 MiB", domUMemory: "16 MiB" } as never);
          } else if (which === "queue") {
            const m = createMachine(machine);
            const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "16 MiB" });
            const sda = m.attachDevice({ name: "sda", domain: dom0, dmaMask: typeof o.dmaMask === "number" ? o.dmaMask : 32 });
            const q = createRequestQueue(dom0.dmaApi(sda, "p2m"), {
              xenMergeCheck: o.xenMergeCheck,
              sgMapping: o.sgMapping,
              bounce: o.bounce,
            } as never);
            const rq = q.submit(o.op as never, typeof o.sectors === "number" ? o.sectors : 0, [
              { address: (Number(o.offsetSectors) || 0) * 512, length: (Number(o.packetSize) || 0) * 512 },
            ]);
            q.map(rq);
            q.complete(rq);
          } else {
            compareStrategies(packetStream({ packets: typeof o.sectors === "number" ? o.sectors : 10, ring: 8 }), [
              { name: "s", mapping: o.backend as never },
            ]);
          }
        } catch (error) {
          if (!(error instanceof SimError)) throw error;
        }
      }),
      { numRuns: 300 },
    );
  });
});
