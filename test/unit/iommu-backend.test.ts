// The `iommu` DMA-API backend (src/sim/dma/iommu.ts): "VP with hardware IOMMU: Xen maps IOVA →
// MFN". Behaviour pinned to:
// - the 2006 thread: the DMA-API may "call into Xen to establish an IOMMU mapping (VP w/ IOMMU)",
//   and a HW IOMMU can "map a scatter-gather list of machine pages into a contigous range in the
//   IO space" (Muli Ben-Yehuda);
// - torvalds/linux drivers/iommu/dma-iommu.c: __iommu_dma_map (one IOVA range, iova + offset),
//   dma_info_to_prot, iommu_dma_map_sg ("The DMA API client is passing in a scatterlist which
//   could describe any old buffer layout, but the IOMMU API requires everything to be aligned to
//   IOMMU pages": granule padding, boundary padding, ONE allocation) and __finalise_sg (merge iff
//   the previous output segment has length, the entry starts on a granule, its IOVA is not at a
//   segment boundary, and max_len - cur_len >= s_length), iommu_dma_unmap_sg, iommu_dma_alloc;
// - xen-project/xen xen/drivers/passthrough/vtd/dmar.c: "Zap ACPI DMAR signature to prevent dom0
//   using vt-d HW" — the IOMMU is Xen's, so every domain mode pays a hypercall per mapping call.
import { describe, expect, it } from "vitest";
import { DMA_MAPPING_ERROR, EIO, createMachine } from "../../src/sim/index.js";
import type { DeviceConfig, DomainMode, Layout } from "../../src/sim/index.js";
import { bytes, eventsOf, simError, smallMachine, text } from "./helpers.js";

const PAGE = 16384;
const FOUR_GIB = 2 ** 32;

function rig(
  options: { mode?: DomainMode; layout?: Layout; memory?: string; device?: Partial<DeviceConfig>; era?: "2006" | "modern" } = {},
) {
  const m = smallMachine({ era: options.era });
  const dom0 = m.createDomain({
    name: "dom0",
    mode: options.mode ?? "VP",
    memory: options.layout ? undefined : (options.memory ?? "4 MiB"),
    layout: options.layout,
  });
  const disk = m.attachDevice({ name: "sda", domain: dom0, iommu: true, ...options.device });
  const dma = dom0.dmaApi(disk, "iommu");
  return { m, dom0, disk, dma };
}

const pattern = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) % 251);

describe("the iommu backend maps any buffer as one contiguous IOVA range", () => {
  it("refuses a device that is not behind the IOMMU", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "VP", memory: "1 MiB" });
    const disk = m.attachDevice({ name: "sda", domain: dom0 });
    const error = simError(() => dom0.dmaApi(disk, "iommu"));
    expect(error.code).toBe("BACKEND_UNSUITABLE");
    expect(error.message).toMatch(/sda is not behind one: attach it with iommu: true/);
  });

  it("maps 3 pages scattered in machine memory as 3 consecutive IOVA pages; the device reads them in order", () => {
    const { m, dom0, disk, dma } = rig({ layout: [10, 30, 20, 40] });
    const payload = pattern(3 * PAGE, 1);
    dom0.write(0, payload);
    const bus = dma.mapSingle(0, 3 * PAGE, "TO_DEVICE");
    expect(dma.mappingError(bus)).toBe(false);
    expect(bus).toBe(FOUR_GIB - 4 * PAGE);
    expect(m.snapshot().iommu[0]!.entries).toEqual(
      [10, 30, 20].map((mfn, i) => ({ iovaPage: bus / PAGE + i, mfn, read: true, write: false })),
    );
    expect(Buffer.from(disk.read(bus, 3 * PAGE)).equals(Buffer.from(payload))).toBe(true);
  });

  it("where the hypercall backend (no IOMMU) must refuse that same buffer", () => {
    const { m, dom0 } = rig({ layout: [10, 30, 20, 40] });
    const plain = dom0.dmaApi(m.attachDevice({ name: "sdb", domain: dom0 }), "hypercall");
    expect(plain.mapSingle(0, 3 * PAGE, "TO_DEVICE")).toBe(DMA_MAPPING_ERROR);
  });

  it("delivers byte-identical data to what the direct backend delivers in P==M, both ways", () => {
    const payload = pattern(2 * PAGE + 777, 9);
    const reply = pattern(2 * PAGE + 777, 77);
    const results = (["iommu", "direct"] as const).map((backend) => {
      const m = createMachine({ arch: "ia64", memory: "64 MiB" });
      const dom0 = m.createDomain({ name: "dom0", mode: backend === "iommu" ? "VP" : "P==M", memory: "4 MiB" });
      const disk = m.attachDevice({ name: "sda", domain: dom0, iommu: backend === "iommu" });
      const dma = dom0.dmaApi(disk, backend);
      const buf = dom0.alloc("64 KiB") + 4000;
      dom0.write(buf, payload);
      const out = dma.mapSingle(buf, payload.length, "TO_DEVICE");
      const seen = disk.read(out, payload.length);
      dma.unmapSingle(out, payload.length, "TO_DEVICE");
      const back = dma.mapSingle(buf, reply.length, "FROM_DEVICE");
      disk.write(back, reply);
      dma.unmapSingle(back, reply.length, "FROM_DEVICE");
      return {
        seen,
        landed: dom0.read(buf, reply.length),
        faults: eventsOf(m.trace, "iommu-fault").length + eventsOf(m.trace, "stray-dma").length,
      };
    });
    for (const r of results) {
      expect(Buffer.from(r.seen).equals(Buffer.from(payload))).toBe(true);
      expect(Buffer.from(r.landed).equals(Buffer.from(reply))).toBe(true);
      expect(r.faults).toBe(0);
    }
  });

  it("returns the IOVA plus the buffer's offset for a buffer straddling a page boundary", () => {
    const { dom0, disk, dma } = rig();
    const buf = dom0.alloc("32 KiB") + PAGE - 10;
    dom0.write(buf, bytes("straddles the boundary"));
    const bus = dma.mapSingle(buf, 22, "TO_DEVICE");
    expect(bus).toBe(FOUR_GIB - 2 * PAGE + PAGE - 10);
    expect(text(disk.read(bus, 22))).toBe("straddles the boundary");
  });

  it("costs one hypercall per map call (Xen writes every PTE), not one per page as the hypercall backend does", () => {
    const { m, dma } = rig({ layout: [10, 30, 20, 40] });
    const bus = dma.mapSingle(0, 3 * PAGE, "TO_DEVICE");
    const calls = eventsOf(m.trace, "hypercall");
    expect(calls).toHaveLength(1);
    expect(calls[0]!.message).toMatch(/VP: dom0 cannot see machine frames, Xen translates pfn → mfn/);
    expect(calls[0]!.cost).toBe(m.costs.hypercall);
    expect(eventsOf(m.trace, "iommu-map").map((e) => e.cost)).toEqual([500, 500, 500]);
    expect(eventsOf(m.trace, "translate")).toHaveLength(0);
    dma.unmapSingle(bus, 3 * PAGE, "TO_DEVICE");
    expect(eventsOf(m.trace, "hypercall")).toHaveLength(2);
    expect(eventsOf(m.trace, "iommu-unmap")[0]!.cost).toBe(3 * m.costs.iommuPteClear);
    expect(eventsOf(m.trace, "iotlb-flush")).toHaveLength(1);

    const h = smallMachine();
    const d = h.createDomain({ name: "dom0", mode: "VP", layout: [10, 11, 12, 13] });
    d.dmaApi(h.attachDevice({ name: "sda", domain: d }), "hypercall").mapSingle(0, 3 * PAGE, "TO_DEVICE");
    expect(eventsOf(h.trace, "hypercall")).toHaveLength(3);
    // Mapping 3 pages: 1 hypercall + 3 PTE writes (3,500 cycles) vs 3 hypercalls (6,000).
    const mapCost = m.trace
      .filter((e) => e.seq <= calls[0]!.seq + 3 && (e.kind === "hypercall" || e.kind === "iommu-map"))
      .reduce((s, e) => s + e.cost, 0);
    expect(mapCost).toBe(m.costs.hypercall + 3 * m.costs.iommuPteWrite);
    expect(h.stats().cost.byKind.hypercall).toBe(3 * h.costs.hypercall);
  });

  it("charges the hypercall in P2M and P==M as well: under Xen the IOMMU is the hypervisor's", () => {
    for (const mode of ["P2M", "P==M"] as const) {
      const { m, dom0, dma } = rig({ mode });
      dma.mapSingle(dom0.alloc("16 KiB"), 100, "TO_DEVICE");
      const calls = eventsOf(m.trace, "hypercall");
      expect(calls).toHaveLength(1);
      expect(calls[0]!.message).toMatch(/the IOMMU belongs to Xen, not to dom0/);
    }
  });

  it("fails a buffer that reaches past the domain's memory before taking any IOVA", () => {
    const { m, dom0, disk, dma } = rig();
    const free = disk.iommu!.freeIovaPages();
    expect(dma.mapSingle(dom0.memory + 10 * PAGE, 100, "TO_DEVICE")).toBe(DMA_MAPPING_ERROR);
    expect(eventsOf(m.trace, "mapping-error")[0]!.message).toMatch(/pfn 0x10a of dom0 is not populated/);
    expect(eventsOf(m.trace, "hypercall")).toHaveLength(0);
    expect(disk.iommu!.freeIovaPages()).toBe(free);
  });

  it("needs no bounce and no sync copies: what the device writes is what the CPU reads", () => {
    const { m, dom0, disk, dma } = rig();
    const buf = dom0.alloc("16 KiB");
    const bus = dma.mapSingle(buf, 64, "FROM_DEVICE");
    disk.write(bus, bytes("written by the disk"));
    dma.syncSingleForCpu(bus, 64, "FROM_DEVICE");
    expect(text(dom0.read(buf, 19))).toBe("written by the disk");
    expect(eventsOf(m.trace, "bounce-copy")).toHaveLength(0);
    expect(dma.isPhys).toBe(false);
    expect(dma.maxMappingSize()).toBeGreaterThan(2 ** 40);
  });
});

describe("mapSg: one IOVA allocation, segments merged as __finalise_sg does", () => {
  it("merges 4 whole pages listed in any order into one 64 KiB segment the device reads in list order", () => {
    const { m, dom0, disk, dma } = rig();
    const buf = dom0.alloc("64 KiB");
    const data = [0, 1, 2, 3].map((i) => pattern(PAGE, i));
    data.forEach((d, i) => dom0.write(buf + i * PAGE, d));
    const order = [3, 0, 2, 1];
    const entries = order.map((i) => ({ address: buf + i * PAGE, length: PAGE }));
    const mapped = dma.mapSg(entries, "TO_DEVICE");
    expect(mapped).toEqual({ count: 1, segments: [{ busAddress: FOUR_GIB - 4 * PAGE, length: 4 * PAGE }] });
    const seen = disk.read(mapped.segments[0]!.busAddress, 4 * PAGE);
    order.forEach((i, k) => expect(Buffer.from(seen.subarray(k * PAGE, (k + 1) * PAGE)).equals(Buffer.from(data[i]!))).toBe(true));
    expect(eventsOf(m.trace, "hypercall")).toHaveLength(1);
  });

  it("stops a segment at max_segment_size (64 KiB by default, or what the device declares)", () => {
    const five = rig({ memory: "4 MiB" });
    const buf = five.dom0.alloc("80 KiB");
    const entries = [0, 1, 2, 3, 4].map((i) => ({ address: buf + i * PAGE, length: PAGE }));
    expect(five.dma.mapSg(entries, "TO_DEVICE").segments.map((s) => s.length)).toEqual([4 * PAGE, PAGE]);

    const small = rig({ device: { maxSegmentSize: "32 KiB" } });
    const b = small.dom0.alloc("64 KiB");
    const mapped = small.dma.mapSg(
      [0, 1, 2, 3].map((i) => ({ address: b + i * PAGE, length: PAGE })),
      "TO_DEVICE",
    );
    expect(mapped.segments.map((s) => s.length)).toEqual([2 * PAGE, 2 * PAGE]);
    expect(mapped.segments[1]!.busAddress - mapped.segments[0]!.busAddress).toBe(2 * PAGE);
  });

  it("does not merge an entry that starts inside its page, nor one that follows an entry ending inside its page", () => {
    const { dom0, dma } = rig();
    const buf = dom0.alloc("64 KiB");
    const offset = dma.mapSg(
      [
        { address: buf, length: PAGE },
        { address: buf + PAGE + 100, length: 1000 },
      ],
      "TO_DEVICE",
    );
    expect(offset.count).toBe(2);
    expect(offset.segments[1]!.busAddress).toBe(offset.segments[0]!.busAddress + PAGE + 100);
    const short = dma.mapSg(
      [
        { address: buf + 2 * PAGE, length: PAGE / 2 },
        { address: buf + 3 * PAGE, length: PAGE },
      ],
      "TO_DEVICE",
    );
    expect(short.segments).toEqual([
      { busAddress: short.segments[0]!.busAddress, length: PAGE / 2 },
      { busAddress: short.segments[0]!.busAddress + PAGE, length: PAGE },
    ]);
  });

  it("does not merge across the device's segment boundary, and pads so no entry crosses it", () => {
    const { m, dom0, dma } = rig({ device: { segmentBoundary: "32 KiB" } });
    const buf = dom0.alloc("128 KiB");
    const four = dma.mapSg(
      [0, 1, 2, 3].map((i) => ({ address: buf + i * PAGE, length: PAGE })),
      "TO_DEVICE",
    );
    expect(four.segments.map((s) => s.length)).toEqual([2 * PAGE, 2 * PAGE]);
    expect(four.segments[0]!.busAddress % (2 * PAGE)).toBe(0);
    // 8 KiB, then a 32 KiB entry: the first is padded to the boundary so the second starts on it.
    const padded = dma.mapSg(
      [
        { address: buf + 4 * PAGE, length: PAGE / 2 },
        { address: buf + 6 * PAGE, length: 2 * PAGE },
      ],
      "TO_DEVICE",
    );
    const base = padded.segments[0]!.busAddress;
    expect(padded.segments).toEqual([
      { busAddress: base, length: PAGE / 2 },
      { busAddress: base + 2 * PAGE, length: 2 * PAGE },
    ]);
    expect(m.snapshot().iommu[0]!.entries.filter((e) => e.iovaPage >= base / PAGE && e.iovaPage < base / PAGE + 4)).toHaveLength(3);
    expect(eventsOf(m.trace, "dma-debug").filter((e) => e.code === "D21")).toHaveLength(0);
  });

  it("unmapSg with the original entries frees the whole range: IOVA space as free as before, no PTE left", () => {
    const { m, dom0, disk, dma } = rig();
    const before = disk.iommu!.iova.freeRanges();
    const buf = dom0.alloc("64 KiB");
    const entries = [
      { address: buf + 50, length: 3000 },
      { address: buf + PAGE, length: 2 * PAGE },
      { address: buf + 3 * PAGE, length: 10 },
    ];
    dma.mapSg(entries, "BIDIRECTIONAL");
    dma.unmapSg(entries, "BIDIRECTIONAL");
    expect(disk.iommu!.iova.freeRanges()).toEqual(before);
    expect(m.snapshot().iommu[0]!.entries).toEqual([]);
    expect(eventsOf(m.trace, "hypercall")).toHaveLength(2);
  });

  it("returns 0 and leaves nothing behind when the list does not fit in IOVA space", () => {
    const { m, dom0, disk, dma } = rig({ device: { dmaMask: 16 } });
    const free = disk.iommu!.freeIovaPages();
    const buf = dom0.alloc("64 KiB");
    const mapped = dma.mapSg(
      [0, 1, 2, 3].map((i) => ({ address: buf + i * PAGE, length: PAGE })),
      "TO_DEVICE",
    );
    expect(mapped.count).toBe(0);
    expect(eventsOf(m.trace, "mapping-error")[0]!.message).toMatch(/no free IOVA range of 64 KiB/);
    expect(disk.iommu!.freeIovaPages()).toBe(free);
    expect(eventsOf(m.trace, "iommu-map")).toHaveLength(0);
  });
});

describe("coherent memory and masks", () => {
  it("allocCoherent maps zeroed pages BIDIRECTIONAL at an IOVA; freeCoherent gives the IOVA back", () => {
    const { m, dom0, disk, dma } = rig();
    const before = disk.iommu!.iova.freeRanges();
    const region = dma.allocCoherent(5000)!;
    expect(region.busAddress).toBe(FOUR_GIB - PAGE);
    expect(m.snapshot().iommu[0]!.entries).toEqual([
      { iovaPage: region.busAddress / PAGE, mfn: dom0.pfnToMfn(dom0.pfnOf(region.cpuAddress)), read: true, write: true },
    ]);
    expect(disk.read(region.busAddress, 8)).toEqual(new Uint8Array(8));
    disk.write(region.busAddress, bytes("status"));
    expect(text(dom0.read(region.cpuAddress, 6))).toBe("status");
    dma.freeCoherent(5000, region.cpuAddress, region.busAddress);
    expect(disk.iommu!.iova.freeRanges()).toEqual(before);
  });

  it("accepts any mask that leaves an IOVA page besides page 0, and maps below it", () => {
    const { dom0, dma } = rig();
    expect(dma.setMask(12)).toBe(EIO);
    expect(dma.setMask(14)).toBe(EIO);
    expect(dma.setMask(15)).toBe(0);
    expect(dma.setMask(20)).toBe(0);
    expect(dma.mapSingle(dom0.alloc("16 KiB"), 10, "TO_DEVICE")).toBe(2 ** 20 - PAGE);
  });

  it("a full map/sync/unmap/sg/coherent cycle leaves dma-debug nothing to report", () => {
    const { m, dom0, dma } = rig();
    const buf = dom0.alloc("64 KiB");
    const bus = dma.mapSingle(buf, 100, "TO_DEVICE");
    if (!dma.mappingError(bus)) dma.unmapSingle(bus, 100, "TO_DEVICE");
    const entries = [
      { address: buf, length: PAGE },
      { address: buf + PAGE, length: PAGE },
    ];
    dma.mapSg(entries, "FROM_DEVICE");
    dma.syncSgForCpu(entries, "FROM_DEVICE");
    dma.unmapSg(entries, "FROM_DEVICE");
    const region = dma.allocCoherent(100)!;
    dma.freeCoherent(100, region.cpuAddress, region.busAddress);
    m.finish();
    expect(eventsOf(m.trace, "dma-debug")).toHaveLength(0);
    expect(m.stats().cost.total).toBe(m.trace.reduce((sum, e) => sum + e.cost, 0));
  });
});

describe('bare metal (hypervisor: "none")', () => {
  // Linux's own intel-iommu driver programs the IOMMU: no hypervisor call per map or unmap.
  it("maps through the IOMMU without hypercalls, and refuses Xen-only backends and second domains", () => {
    const m = createMachine({ arch: "x86_64", memory: "64 MiB", hypervisor: "none" });
    const linux = m.createDomain({ name: "linux", mode: "P==M", memory: "16 MiB" });
    const nic = m.attachDevice({ name: "eth0", domain: linux, iommu: true });
    const dma = linux.dmaApi(nic, "iommu");
    const bus = dma.mapSingle(linux.alloc(4096), 4096, "FROM_DEVICE");
    expect(dma.mappingError(bus)).toBe(false);
    dma.unmapSingle(bus, 4096, "FROM_DEVICE");
    expect(m.stats().events.hypercall ?? 0).toBe(0);
    expect(m.stats().events["iommu-map"]).toBe(1);
    expect(() => linux.dmaApi(nic, "xen-swiotlb")).toThrow(/needs Xen/);
    expect(() => m.createDomain({ name: "domU1", mode: "P==M", memory: "1 MiB" })).toThrow(/no second domain/);
    expect(() => createMachine({ memory: "64 MiB", hypervisor: "kvm" as never })).toThrow(/hypervisor must be "xen" or "none"/);
  });
});
