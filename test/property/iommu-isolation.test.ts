// Invariants of the hardware IOMMU and the `iommu` backend (simulator.md "Invariants"), over
// random mappings, unmaps and device writes:
// - with an IOMMU (strict policy: Documentation/Intel-IOMMU.txt protection, intel_iommu=strict so
//   no stale IOTLB window, Mark Gross's "PCI: iommu: iotlb flushing"), no device write changes a
//   frame that is not mapped writable for that device, and a fully faulted write changes nothing
//   (VT-d blocks the request: drivers/iommu/intel/dmar.c reports it);
// - data sent through the iommu backend arrives byte-identical to data sent with the direct
//   backend in P==M (drivers/iommu/dma-iommu.c __iommu_dma_map: iova + offset, page by page);
// - after every unmap the IOVA space is exactly as free as before: at once under strict, after
//   the flush under lazy (dma-iommu.c iommu_dma_free_iova: queued IOVAs are freed only once the
//   flush queue's invalidation has run).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createMachine } from "../../src/sim/index.js";
import type { Device, Direction, DmaApi, Domain, Machine, SgEntry } from "../../src/sim/index.js";

const PAGE = 4096;
const DOM0_PAGES = 24;
const DIRECTIONS: Direction[] = ["TO_DEVICE", "FROM_DEVICE", "BIDIRECTIONAL"];

interface Live {
  dev: number;
  bus: number;
  gpa: number;
  length: number;
  dir: Direction;
}

const mapOp = fc.record({
  kind: fc.constant("map" as const),
  dev: fc.nat(1),
  page: fc.nat(DOM0_PAGES - 1),
  offset: fc.nat(PAGE - 1),
  length: fc.integer({ min: 1, max: 3 * PAGE }),
  dir: fc.constantFrom(...DIRECTIONS),
});
const unmapOp = fc.record({ kind: fc.constant("unmap" as const), which: fc.nat() });
const writeOp = fc.record({
  kind: fc.constant("write" as const),
  dev: fc.nat(1),
  // live: near one of the live mappings (either device's); gone: a bus address already unmapped; any: anywhere in 4 GiB.
  target: fc.constantFrom("live", "live", "gone", "any"),
  which: fc.nat(),
  delta: fc.integer({ min: -PAGE, max: 3 * PAGE }),
  anywhere: fc.nat(2 ** 20 - 1),
  length: fc.integer({ min: 1, max: 2 * PAGE }),
  fill: fc.integer({ min: 1, max: 255 }),
});
const operations = fc.array(fc.oneof(mapOp, mapOp, unmapOp, writeOp, writeOp), { minLength: 1, maxLength: 30 });

/** A 512 KiB x86_64 machine: a VP dom0 with two devices in separate protection domains, and a domU full of data. */
function machineWithVictim(seed: number) {
  const m = createMachine({ arch: "x86_64", memory: "512 KiB", seed });
  const dom0 = m.createDomain({ name: "dom0", mode: "VP", memory: DOM0_PAGES * PAGE });
  const domU = m.createDomain({ name: "domU1", mode: "P2M", memory: "64 KiB" });
  domU.write(0, new Uint8Array(domU.memory).fill(0x5a));
  dom0.write(
    0,
    Uint8Array.from({ length: dom0.memory }, (_, i) => i % 253),
  );
  const devices = [m.attachDevice({ name: "sda", domain: dom0, iommu: true }), m.attachDevice({ name: "eth0", domain: dom0, iommu: true })];
  const apis = devices.map((d) => dom0.dmaApi(d, "iommu"));
  return { m, dom0, devices, apis };
}

/** Copies of every frame that holds bytes (frames never written read as zeros). */
function frameImage(m: Machine): (Uint8Array | undefined)[] {
  return Array.from({ length: m.frameCount }, (_, mfn) => m.store.peek(mfn)?.slice());
}

function frameChanged(before: Uint8Array | undefined, after: Uint8Array | undefined): boolean {
  if (!before && !after) return false;
  const a = before ?? new Uint8Array(PAGE);
  const b = after ?? new Uint8Array(PAGE);
  return !Buffer.from(a).equals(Buffer.from(b));
}

/** Machine frames a device may write: the pages of its own live FROM_DEVICE/BIDIRECTIONAL mappings. */
function writableFrames(dom0: Domain, live: Live[], dev: number): Set<number> {
  const frames = new Set<number>();
  for (const l of live) {
    if (l.dev !== dev || l.dir === "TO_DEVICE") continue;
    for (let pfn = Math.floor(l.gpa / PAGE); pfn <= Math.floor((l.gpa + l.length - 1) / PAGE); pfn++) frames.add(dom0.pfnToMfn(pfn)!);
  }
  return frames;
}

describe("IOMMU isolation (strict invalidation)", () => {
  it("no device write changes a frame not mapped writable for that device; fully faulted writes change nothing", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), operations, (seed, ops) => {
        const { m, dom0, devices, apis } = machineWithVictim(seed);
        const live: Live[] = [];
        const gone: number[] = [];
        for (const op of ops) {
          if (op.kind === "map") {
            const gpa = Math.min(op.page * PAGE + op.offset, dom0.memory - op.length);
            const bus = apis[op.dev]!.mapSingle(gpa, op.length, op.dir);
            if (!apis[op.dev]!.mappingError(bus)) live.push({ dev: op.dev, bus, gpa, length: op.length, dir: op.dir });
          } else if (op.kind === "unmap") {
            if (live.length === 0) continue;
            const [l] = live.splice(op.which % live.length, 1);
            apis[l!.dev]!.unmapSingle(l!.bus, l!.length, l!.dir);
            gone.push(l!.bus);
          } else {
            const base =
              op.target === "live" && live.length
                ? live[op.which % live.length]!.bus
                : op.target === "gone" && gone.length
                  ? gone[op.which % gone.length]!
                  : op.anywhere * PAGE;
            // Devices cannot emit addresses beyond their 32-bit mask (that is a SimError, not a DMA).
            const bus = Math.min(Math.max(0, base + (op.target === "any" ? 0 : op.delta)), 2 ** 32 - op.length);
            const allowed = writableFrames(dom0, live, op.dev);
            const before = frameImage(m);
            const faultsBefore = m.stats().events["iommu-fault"] ?? 0;
            devices[op.dev]!.write(bus, new Uint8Array(op.length).fill(op.fill));
            const after = frameImage(m);
            const faults = (m.stats().events["iommu-fault"] ?? 0) - faultsBefore;
            const pages = Math.floor((bus + op.length - 1) / PAGE) - Math.floor(bus / PAGE) + 1;
            for (let mfn = 0; mfn < m.frameCount; mfn++) {
              if (!frameChanged(before[mfn], after[mfn])) continue;
              expect(allowed.has(mfn), `frame ${mfn} changed by ${devices[op.dev]!.name} at bus ${bus}`).toBe(true);
              expect(faults, "a write every page of which faulted changed memory").toBeLessThan(pages);
            }
          }
        }
        expect(m.stats().events["iotlb-stale"] ?? 0).toBe(0);
        expect(m.stats().events["stray-dma"] ?? 0).toBe(0);
      }),
      { numRuns: 250 },
    );
  }, 30_000);
});

describe("IOVA space after unmaps", () => {
  const mapping = fc.record({
    kind: fc.constantFrom("single" as const, "sg" as const, "coherent" as const),
    page: fc.nat(DOM0_PAGES - 8),
    offset: fc.nat(PAGE - 1),
    lengths: fc.array(fc.integer({ min: 1, max: 2 * PAGE }), { minLength: 1, maxLength: 4 }),
    dir: fc.constantFrom(...DIRECTIONS),
    unmapAt: fc.nat(),
  });

  it("is exactly as free as before: at once under strict, after the flush under lazy", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("strict" as const, "lazy" as const),
        fc.array(mapping, { minLength: 1, maxLength: 20 }),
        fc.nat(2),
        (invalidation, plan, flushBy) => {
          const m = createMachine({ arch: "x86_64", memory: "2 MiB", seed: 7 });
          const dom0 = m.createDomain({ name: "dom0", mode: "VP", memory: DOM0_PAGES * PAGE });
          const disk = m.attachDevice({ name: "sda", domain: dom0, iommu: { invalidation } });
          const dma = dom0.dmaApi(disk, "iommu");
          const iova = disk.iommu!.iova;
          const before = iova.freeRanges();
          const undo: (() => void)[] = [];
          for (const p of plan) {
            const gpa = p.page * PAGE + p.offset;
            if (p.kind === "single") {
              const bus = dma.mapSingle(gpa, p.lengths[0]!, p.dir);
              if (!dma.mappingError(bus)) undo.push(() => dma.unmapSingle(bus, p.lengths[0]!, p.dir));
            } else if (p.kind === "sg") {
              let at = gpa;
              const entries: SgEntry[] = p.lengths.map((length) => ({ address: (at += length) - length, length }));
              if (dma.mapSg(entries, p.dir).count > 0) undo.push(() => dma.unmapSg(entries, p.dir));
            } else {
              const region = dma.allocCoherent(p.lengths[0]!);
              if (region) undo.push(() => dma.freeCoherent(p.lengths[0]!, region.cpuAddress, region.busAddress));
            }
            // Unmap something now and then, so IOVA is freed and reused mid-run.
            if (undo.length > 0 && p.unmapAt % 3 === 0) undo.splice(p.unmapAt % undo.length, 1)[0]!();
          }
          for (const u of undo.splice(0)) u();
          if (invalidation === "strict") {
            expect(iova.freeRanges()).toEqual(before);
          } else {
            const queued = m.snapshot().iommu[0]!.queued;
            if (queued > 0) expect(iova.freeRanges()).not.toEqual(before);
            if (flushBy === 0) m.advanceTime(10_000);
            else m.finish();
            expect(iova.freeRanges()).toEqual(before);
          }
          expect(m.snapshot().iommu[0]!.entries).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  }, 30_000);
});

describe("delivery through the iommu backend", () => {
  /** Sends `payload` to the device and `reply` back through one backend; returns what each side saw. */
  function roundTrip(backend: "iommu" | "direct", seed: number, offset: number, payload: Uint8Array, reply: Uint8Array, dir: Direction) {
    const m = createMachine({ arch: "x86_64", memory: "2 MiB", seed });
    const dom0 = m.createDomain({ name: "dom0", mode: backend === "iommu" ? "VP" : "P==M", memory: DOM0_PAGES * PAGE });
    const disk: Device = m.attachDevice({ name: "sda", domain: dom0, iommu: backend === "iommu" });
    const dma: DmaApi = dom0.dmaApi(disk, backend);
    const buf = dom0.alloc(payload.length + offset) + offset;
    dom0.write(buf, payload);
    const bus = dma.mapSingle(buf, payload.length, dir);
    const seen = dir === "FROM_DEVICE" ? undefined : disk.read(bus, payload.length);
    if (dir !== "TO_DEVICE") disk.write(bus, reply);
    dma.unmapSingle(bus, payload.length, dir);
    return {
      seen,
      landed: dom0.read(buf, payload.length),
      trouble: (m.stats().events["iommu-fault"] ?? 0) + (m.stats().events["stray-dma"] ?? 0),
    };
  }

  it("is byte-identical to the direct backend in P==M, whatever the layout, offset and size", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.nat(PAGE - 1),
        fc.uint8Array({ minLength: 1, maxLength: 5 * PAGE }),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom(...DIRECTIONS),
        (seed, offset, payload, salt, dir) => {
          const reply = payload.map((b) => b ^ salt);
          const viaIommu = roundTrip("iommu", seed, offset, payload, reply, dir);
          const direct = roundTrip("direct", seed, offset, payload, reply, dir);
          expect(viaIommu.trouble).toBe(0);
          expect(direct.trouble).toBe(0);
          if (dir !== "FROM_DEVICE") {
            expect(Buffer.from(viaIommu.seen!).equals(Buffer.from(payload))).toBe(true);
            expect(Buffer.from(viaIommu.seen!).equals(Buffer.from(direct.seen!))).toBe(true);
          }
          const expected = dir === "TO_DEVICE" ? payload : reply;
          expect(Buffer.from(viaIommu.landed).equals(Buffer.from(expected))).toBe(true);
          expect(Buffer.from(viaIommu.landed).equals(Buffer.from(direct.landed))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  }, 30_000);
});
