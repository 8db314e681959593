// The simulator's invariants (simulator.md "Invariants") over random machines, layouts and
// buffers, through every backend in a mode where it is correct:
// - data sent through any backend arrives byte-identical to data sent directly;
// - after every unmap, swiotlb and IOVA space are exactly as free as before;
// - trace costs add up to stats() totals.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createMachine } from "../../src/sim/index.js";
import type { BackendName, DomainMode, Machine } from "../../src/sim/index.js";

/** Backend → the modes in which it delivers correctly (generic swiotlb and direct only in P==M). */
const CORRECT_IN: Record<BackendName, DomainMode[]> = {
  direct: ["P==M"],
  swiotlb: ["P==M"],
  p2m: ["P==M", "P2M"],
  hypercall: ["P==M", "P2M", "VP"],
  "xen-swiotlb": ["P==M", "P2M", "VP"],
  iommu: ["P==M", "P2M", "VP"],
};

const pair = fc.constantFrom(
  ...(Object.entries(CORRECT_IN) as [BackendName, DomainMode[]][]).flatMap(([b, modes]) => modes.map((mode) => ({ backend: b, mode }))),
);

const caseArb = fc.record({
  pair,
  pageSize: fc.constantFrom(4096, 16384, 65536),
  era: fc.constantFrom("2006" as const, "modern" as const),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  layout: fc.constantFrom("fragmented" as const, "reverse" as const, "contiguous" as const),
  dmaMask: fc.constantFrom(32, 64),
  invalidation: fc.constantFrom("strict" as const, "lazy" as const),
  transfers: fc.array(
    fc.record({ offset: fc.nat(3 * 4096), size: fc.integer({ min: 1, max: 3 * 4096 }), toDevice: fc.boolean(), fill: fc.nat(255) }),
    { minLength: 1, maxLength: 4 },
  ),
});

/** Plain comparison: deep equality on typed arrays is far slower than the simulation itself. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function pools(m: Machine): string {
  const s = m.snapshot();
  return JSON.stringify({ swiotlb: s.swiotlb.map((p) => p.usedSlots), iova: s.iommu.map((d) => d.iovaFreePages) });
}

describe("invariants through every backend", () => {
  it("byte-identical delivery, pools restored after unmaps, costs adding up", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { backend, mode } = c.pair;
        const m = createMachine({
          arch: "ia64",
          memory: "64 MiB",
          pageSize: c.pageSize,
          era: c.era,
          seed: c.seed,
          swiotlb: { size: "1 MiB" },
        });
        const dom0 = m.createDomain({ name: "dom0", mode, memory: "4 MiB", layout: mode === "P==M" ? "contiguous" : c.layout });
        const disk = m.attachDevice({
          name: "sda",
          domain: dom0,
          dmaMask: c.dmaMask,
          iommu: backend === "iommu" ? { invalidation: c.invalidation } : false,
        });
        const dma = dom0.dmaApi(disk, backend);
        const buf = dom0.alloc(6 * 4096);
        // p2m and hypercall cannot bounce: they map one page at a time (the split the thread describes).
        const perPage = backend === "p2m" || backend === "hypercall";
        const before = pools(m);
        for (const t of c.transfers) {
          const start = buf + t.offset;
          const data = Uint8Array.from({ length: t.size }, (_, i) => (t.fill + i * 31) & 0xff);
          const pieces: { address: number; length: number }[] = [];
          for (let at = start; at < start + t.size; ) {
            const end = perPage ? Math.min(start + t.size, (Math.floor(at / c.pageSize) + 1) * c.pageSize) : start + t.size;
            pieces.push({ address: at, length: end - at });
            at = end;
          }
          if (t.toDevice) {
            dom0.write(start, data);
            const seen: number[] = [];
            for (const p of pieces) {
              const bus = dma.mapSingle(p.address, p.length, "TO_DEVICE");
              expect(dma.mappingError(bus)).toBe(false);
              seen.push(...disk.read(bus, p.length));
              dma.unmapSingle(bus, p.length, "TO_DEVICE");
            }
            expect(sameBytes(Uint8Array.from(seen), data)).toBe(true);
          } else {
            let done = 0;
            for (const p of pieces) {
              const bus = dma.mapSingle(p.address, p.length, "FROM_DEVICE");
              expect(dma.mappingError(bus)).toBe(false);
              disk.write(bus, data.subarray(done, done + p.length));
              dma.unmapSingle(bus, p.length, "FROM_DEVICE");
              done += p.length;
            }
            expect(sameBytes(dom0.read(start, t.size), data)).toBe(true);
          }
        }
        m.finish();
        expect(pools(m)).toBe(before);
        const problems = m.trace.filter((e) => e.severity === "error" || e.kind === "unmapped-dma");
        expect(problems.map((e) => e.message)).toEqual([]);
        expect(m.trace.reduce((sum, e) => sum + e.cost, 0)).toBe(m.stats().cost.total);
      }),
      { numRuns: 4000 },
    );
  }, 60_000);
});
