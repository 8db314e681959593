// Scenario helpers (src/sim/scenarios/): blkfront/blkback round trips, a netback packet, packet
// streams and compareStrategies. Behaviour pinned to:
// - xen/include/public/io/blkif.h: BLKIF_MAX_SEGMENTS_PER_REQUEST 11, segments within a page;
// - xenified asm/io.h BIOVEC_PHYS_MERGEABLE / drivers/xen/biomerge.c (merge only machine-contiguous);
// - the 2006 thread (Ian Pratt): "swiotlb just handles the rare cases where things straddle a page.
//   Other modifications we've made try to avoid this happening (preventing block request merging
//   across boundries that aren't machine and phys contiguous, skb slab cache)";
// - xenified drivers/xen/core/skbuff.c: xen-skb-<size> caches with size = align (no object crosses a
//   page boundary; larger ones made machine-contiguous by xen_create_contiguous_region);
// - Intel VT-d batched flushing (250 entries / 10 ms) vs intel_iommu=strict; vIOMMU's optimistic
//   teardown ("Keep the translation alive ... optimistically expecting it to be reused").
import { describe, expect, it } from "vitest";
import {
  blkbackRoundTrip,
  blkbackScenario,
  compareStrategies,
  netbackPacket,
  packetStream,
  SimError,
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
} from "../../src/sim/index.js";
import { eventsOf, simError } from "./helpers.js";

/** A machine small enough to build fast; ia64 (16 KiB pages) like the thread's platform. */
const small = { arch: "ia64" as const, memory: "256 MiB" };
const sizes = { dom0Memory: "32 MiB", domUMemory: "16 MiB" };

describe("blkbackRoundTrip", () => {
  it("delivers the domU's sectors to the disk and back under p2m, hypercall, xen-swiotlb and iommu", () => {
    for (const backend of ["p2m", "hypercall", "xen-swiotlb", "iommu"] as const) {
      for (const op of ["write", "read"] as const) {
        const r = blkbackRoundTrip({ machine: small, ...sizes, backend, op, sectors: 70, offsetSectors: 5 });
        expect(r.errors, `${backend} ${op}`).toEqual([]);
        expect(r.ok).toBe(true);
        expect(r.bytesIdentical).toBe(true);
        // 70 sectors from sector 5 of a 32-sector page touch 3 pages: 3 grants, 3 bio_vecs.
        expect(r.grants).toBe(3);
        expect(r.bioVecs).toBe(3);
      }
    }
  });

  it("leaves nothing behind: grants ended, foreign pages gone, no live mappings", () => {
    const r = blkbackRoundTrip({ machine: small, ...sizes, backend: "xen-swiotlb", sectors: 100 });
    expect(r.ok).toBe(true);
    const snap = r.machine.snapshot();
    expect(snap.mappings).toEqual([]);
    expect(r.dom0.pageState.size).toBe(0);
    expect(eventsOf(r.trace, "grant").some((e) => e.code === "in-use")).toBe(false);
    expect(r.stats.events["grant-map"]).toBe(r.grants);
    expect(r.stats.events["grant-unmap"]).toBe(r.grants);
  });

  it("splits the domU's pages into blkif requests of at most 11 segments", () => {
    const r = blkbackRoundTrip({ machine: small, ...sizes, backend: "p2m", sectors: 32 * 25 });
    expect(r.grants).toBe(25);
    expect(r.requests).toBe(Math.ceil(25 / BLKIF_MAX_SEGMENTS_PER_REQUEST));
    expect(r.ok).toBe(true);
  });

  it("works with tagged foreign pages: the DMA-API takes each bus address from the grant, no p2m lookup", () => {
    const r = blkbackRoundTrip({ machine: small, ...sizes, backend: "p2m", foreignPages: "tag", sectors: 64 });
    expect(r.ok).toBe(true);
    expect(r.stats.events.translate ?? 0).toBe(0);
    expect(eventsOf(r.trace, "grant").some((e) => /PageForeign: .* takes the bus address/.test(e.message))).toBe(true);
  });

  it("with the Xen merge check off and a first-frame mapping, the DMA lands in the wrong frames and the bytes do not arrive", () => {
    const r = blkbackRoundTrip({
      machine: small,
      ...sizes,
      backend: "p2m",
      op: "read",
      sectors: 96,
      xenMergeCheck: false,
      sgMapping: "first-frame",
    });
    expect(r.dmaSegments).toBe(1); // three machine-scattered pages merged into one segment
    expect(r.bytesIdentical).toBe(false);
    expect(r.ok).toBe(false);
    const wrong = [...eventsOf(r.trace, "stray-dma"), ...eventsOf(r.trace, "unmapped-dma")];
    expect(wrong.length).toBeGreaterThan(0);
  });

  it("with the check on, the same first-frame mapping is harmless: every segment is machine-contiguous", () => {
    const r = blkbackRoundTrip({ machine: small, ...sizes, backend: "p2m", op: "read", sectors: 96, sgMapping: "first-frame" });
    expect(r.ok).toBe(true);
    expect(eventsOf(r.trace, "stray-dma")).toHaveLength(0);
  });

  it("with the check off, the p2m DMA-API refuses the merged request (modern: EIO) or sends it to the wrong frames (2006)", () => {
    const modern = blkbackRoundTrip({ machine: small, ...sizes, backend: "p2m", sectors: 96, xenMergeCheck: false });
    expect(modern.errors.map((e) => e.code)).toEqual(["EIO"]);
    // 2006 dma_map_sg tested no straddling: the merged segment goes out as one bus address.
    const old = blkbackRoundTrip({ machine: { ...small, era: "2006" }, ...sizes, backend: "p2m", sectors: 96, xenMergeCheck: false });
    expect(old.machine.halted).toBeUndefined();
    expect(old.bytesIdentical).toBe(false);
    expect(old.errors.map((e) => e.code)).toEqual(["DATA_MISMATCH"]);
  });

  it("the direct backend outside P==M hands the disk pseudo-physical addresses: stray DMA", () => {
    const r = blkbackRoundTrip({ machine: small, ...sizes, backend: "direct", dom0Mode: "P2M", sectors: 32 });
    expect(r.ok).toBe(false);
    expect(r.trace.some((e) => e.kind === "stray-dma" || e.kind === "unmapped-dma")).toBe(true);
  });

  it("a tagged page that the 2006 block layer must bounce fails at kmap()", () => {
    const r = blkbackRoundTrip({
      machine: { ...small, era: "2006" },
      ...sizes,
      backend: "p2m",
      foreignPages: "tag",
      dmaMask: 24,
      sectors: 32,
    });
    expect(r.errors.map((e) => e.code)).toContain("KMAP_FAILED");
  });

  it("is deterministic: the same options give the same trace, event for event", () => {
    const run = () =>
      blkbackRoundTrip({
        machine: { ...small, seed: 7 },
        ...sizes,
        backend: "xen-swiotlb",
        op: "read",
        sectors: 150,
        offsetSectors: 9,
        seed: 7,
      });
    const a = run();
    const b = run();
    expect(a.trace.map((e) => [e.kind, e.message, e.cost])).toEqual(b.trace.map((e) => [e.kind, e.message, e.cost]));
    expect(a.trace.reduce((n, e) => n + e.cost, 0)).toBe(a.stats.cost.total);
  });

  it("rejects a bad backend or option with a SimError naming it", () => {
    expect(simError(() => blkbackRoundTrip({ backend: "magic" as "p2m" })).code).toBe("UNKNOWN_BACKEND");
    expect(simError(() => blkbackRoundTrip({ backend: "p2m", dom0: {} as never })).field).toBe("dom0");
    expect(simError(() => blkbackRoundTrip({ backend: "p2m", sectors: 0 })).field).toBe("sectors");
    expect(simError(() => blkbackRoundTrip({ backend: "p2m", sectros: 4 } as never)).code).toBe("INVALID_CONFIG");
  });
});

describe("netbackPacket", () => {
  it("a straddling packet over machine-scattered pages: split (p2m, hypercall), bounced (xen-swiotlb), one IOVA range (iommu)", () => {
    const expected = { p2m: "split", hypercall: "split", "xen-swiotlb": "bounced", iommu: "contiguous" } as const;
    for (const [backend, handling] of Object.entries(expected)) {
      const r = netbackPacket({ machine: small, backend: backend as keyof typeof expected });
      expect(r.straddles).toBe(true);
      expect(r.machineContiguous).toBe(false);
      expect(r.handling, backend).toBe(handling);
      expect(r.bytesIdentical).toBe(true);
      expect(r.bounceBytes).toBe(handling === "bounced" ? 1514 : 0);
    }
  });

  it("in 2006, the linear dma_map_single of a straddling packet hits IOMMU_BUG_ON", () => {
    const r = netbackPacket({ machine: { ...small, era: "2006" }, backend: "p2m" });
    expect(r.handling).toBe("failed");
    expect(r.errors[0]!.message).toMatch(/Fatal DMA error/);
  });

  it("Xen's skb cache keeps the packet in one page: no split, no bounce, under every backend", () => {
    for (const backend of ["p2m", "hypercall", "xen-swiotlb", "iommu"] as const) {
      const r = netbackPacket({ machine: small, backend, allocation: "xen-skb" });
      expect(r.straddles).toBe(false);
      expect(r.handling).toBe("single-page");
      expect(r.segments).toBe(1);
      expect(r.bounceBytes).toBe(0);
      expect(r.ok).toBe(true);
    }
  });

  it("a jumbo frame from the xen-skb cache spans pages but is made machine-contiguous (xen_create_contiguous_region)", () => {
    const r = netbackPacket({ machine: { arch: "x86_64", memory: "256 MiB" }, backend: "p2m", allocation: "xen-skb", packetSize: 9000 });
    expect(r.straddles).toBe(true);
    expect(r.machineContiguous).toBe(true);
    expect(r.handling).toBe("contiguous");
    expect(r.stats.events.exchange).toBe(1);
    expect(r.ok).toBe(true);
  });

  it("tagged foreign pages cannot form one linear buffer: the packet goes out as one fragment per page", () => {
    const r = netbackPacket({ machine: small, backend: "iommu", foreignPages: "tag" });
    expect(r.handling).toBe("split");
    expect(r.segments).toBe(2);
    expect(r.ok).toBe(true);
  });

  it("without splitting, a straddling packet the backend cannot map is dropped", () => {
    const r = netbackPacket({ machine: small, backend: "p2m", split: false });
    expect(r.handling).toBe("failed");
    expect(r.ok).toBe(false);
  });
});

describe("packetStream and compareStrategies", () => {
  const stream = packetStream({ packets: 300, ring: 64 });

  it("gives totals, per-packet costs and breakdowns that add up", () => {
    const results = compareStrategies(stream, [
      { name: "strict", mapping: "strict" },
      { name: "none", mapping: "none" },
    ]);
    for (const r of results) {
      expect(r.ok).toBe(true);
      expect(r.ops).toBe(300);
      const sum = Object.values(r.breakdown).reduce((a, b) => a + b!, 0);
      expect(sum).toBe(r.total);
      expect(r.perOp).toBeCloseTo(r.total / 300, 9);
      expect(r.metrics.packetsDelivered).toBe(300);
    }
  });

  it("strict invalidation flushes the IOTLB on every unmap; deferred flushes once per 250 unmaps", () => {
    const [strict, deferred] = compareStrategies(stream, [
      { name: "strict", mapping: "strict" },
      { name: "deferred", mapping: "deferred" },
    ]);
    expect(strict!.events["iotlb-flush"]).toBe(300);
    expect(deferred!.events["iotlb-flush"]).toBe(1);
    expect(deferred!.perOp).toBeLessThan(strict!.perOp);
  });

  it("optimistic teardown reuses the ring's mappings: no map or unmap inside the measured window", () => {
    const [optimistic] = compareStrategies(stream, [{ name: "optimistic", mapping: "optimistic" }]);
    expect(optimistic!.events.map ?? 0).toBe(0);
    expect(optimistic!.events.unmap ?? 0).toBe(0);
    expect(optimistic!.events["mapping-reuse"]).toBe(600);
  });

  it("optimistic teardown with no keep window degenerates to deferred map/unmap (its invalidations are batched, as in vIOMMU's patch)", () => {
    const [kept0, deferred] = compareStrategies(stream, [
      { name: "zero", mapping: "optimistic", keepMicroseconds: 0 },
      { name: "deferred", mapping: "deferred" },
    ]);
    expect(kept0!.events["iommu-unmap"]).toBe(300);
    expect(kept0!.events["iotlb-flush"]).toBe(deferred!.events["iotlb-flush"]);
    expect(kept0!.events["iotlb-flush"]).toBeLessThan(300);
  });

  it("the copy strategy copies every packet through a permanently mapped shadow buffer and still delivers it", () => {
    const [copy] = compareStrategies(stream, [{ name: "copy", mapping: "copy" }]);
    expect(copy!.events["bounce-copy"]).toBe(300);
    expect(copy!.events["iommu-map"] ?? 0).toBe(0);
    expect(copy!.ok).toBe(true);
  });

  it("transmit works too: the NIC reads exactly the packets the stack wrote", () => {
    const tx = packetStream({ packets: 100, ring: 16, direction: "tx" });
    const results = compareStrategies(
      tx,
      ["none", "strict", "copy", "shared", "direct-map"].map((m) => ({ name: m, mapping: m as "none" })),
    );
    for (const r of results) expect(r.metrics.packetsDelivered, r.name).toBe(100);
  });

  it("compares blkback strategies on the same workload", () => {
    const results = compareStrategies(blkbackScenario({ machine: small, ...sizes, sectors: 64 }), [
      { name: "p2m", backend: "p2m" },
      { name: "hypercall", backend: "hypercall" },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    // VP pays a hypercall where P2M reads its table.
    expect(results[1]!.total).toBeGreaterThan(results[0]!.total);
  });

  it("rejects bad strategies and options", () => {
    expect(simError(() => compareStrategies(stream, [])).field).toBe("strategies");
    expect(
      simError(() =>
        compareStrategies(stream, [
          { name: "a", mapping: "strict" },
          { name: "a", mapping: "none" },
        ]),
      ).field,
    ).toBe("strategies[1].name");
    expect(simError(() => compareStrategies(stream, [{ name: "x", mapping: "lazy" as "strict" }])).field).toBe("mapping");
    expect(simError(() => packetStream({ packets: 0 })).field).toBe("packets");
    expect(() => compareStrategies(null as never, [{ name: "a" }])).toThrow(SimError);
  });
});
