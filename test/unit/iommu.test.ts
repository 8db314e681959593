// The hardware IOMMU model (src/sim/iommu.ts), driven through the `iommu` DMA-API backend.
// Behaviour pinned to:
// - torvalds/linux Documentation/Intel-IOMMU.txt: one protection domain per device, shared by
//   devices behind a PCIe-to-PCI bridge ("due to transaction id aliasing"); IOVA allocated "per
//   domain" like vmalloc; the interrupt range 0xfee00000-0xfeefffff is not translated; the
//   "DMAR:[DMA Write] Request device [00:02.0] fault addr ..." / "[fault reason 05] PTE Write
//   access is not set" report.
// - torvalds/linux drivers/iommu/dma-iommu.c: iommu_dma_alloc_iova (top-down below the mask,
//   sub-32-page sizes rounded to a power of two, "Try to get PCI devices a SAC address", the
//   "Using %d-bit DMA addresses" notice), dma_info_to_prot, __iommu_dma_unmap (strict flush, or
//   the flush queue that frees IOVA only after invalidation).
// - torvalds/linux drivers/iommu/intel/dmar.c: dmar_fault_do_one's "[%s NO_PASID] Request device
//   [..] fault addr 0x%llx [fault reason 0x%02x] %s", reasons 5 and 6 of dma_remap_fault_reasons[].
// - Mark Gross, "PCI: iommu: iotlb flushing": lazy unmaps are batched until "a high water mark
//   (250 ...) or 10ms", "Its use does weaken the IOMMU protections a bit" — the stale window
//   (era "2006"); modern dma-iommu.c's flush queue (IOVA_DEFAULT_FQ_SIZE 256, fq_full, queue_iova).
import { describe, expect, it } from "vitest";
import { DMA_MAPPING_ERROR } from "../../src/sim/index.js";
import type { IommuOptions, MachineConfig } from "../../src/sim/index.js";
import { bytes, eventsOf, simError, smallMachine, text } from "./helpers.js";

const PAGE = 16384;
const FOUR_GIB = 2 ** 32;

/** Byte-for-byte equality of two (large) buffers, without a per-element deep compare. */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

function rig(options: { iommu?: true | IommuOptions; dmaMask?: number; memory?: string } & Partial<MachineConfig> = {}) {
  const { iommu, dmaMask, memory, ...machine } = options;
  const m = smallMachine(machine);
  const dom0 = m.createDomain({ name: "dom0", mode: "VP", memory: memory ?? "4 MiB" });
  const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask, iommu: iommu ?? true });
  const dma = dom0.dmaApi(disk, "iommu");
  return { m, dom0, disk, dma };
}

describe("IOVA allocation (per protection domain, Linux's alloc_iova)", () => {
  it("hands out IOVAs top-down from the device's DMA mask, plus the buffer's offset in its page", () => {
    const { dom0, dma } = rig();
    const a = dom0.alloc("16 KiB");
    const b = dom0.alloc("16 KiB");
    expect(dma.mapSingle(a + 5, 100, "TO_DEVICE")).toBe(FOUR_GIB - PAGE + 5);
    expect(dma.mapSingle(b, 100, "TO_DEVICE")).toBe(FOUR_GIB - 2 * PAGE);
  });

  it("gives each device its own IOVA space: the same bus address reaches different memory per device", () => {
    const { m, dom0, disk, dma } = rig();
    const nic = m.attachDevice({ name: "eth0", domain: dom0, iommu: true });
    const net = dom0.dmaApi(nic, "iommu");
    const a = dom0.alloc("16 KiB");
    const b = dom0.alloc("16 KiB");
    dom0.write(a, bytes("disk data"));
    dom0.write(b, bytes("net data!"));
    const busA = dma.mapSingle(a, 9, "TO_DEVICE");
    const busB = net.mapSingle(b, 9, "TO_DEVICE");
    expect(busA).toBe(busB);
    expect(text(disk.read(busA, 9))).toBe("disk data");
    expect(text(nic.read(busB, 9))).toBe("net data!");
  });

  it("never uses IOVA page 0: a 16-bit device gets three pages, then a mapping error", () => {
    const { m, dom0, dma } = rig({ dmaMask: 16 });
    const buf = dom0.alloc("64 KiB");
    const got = [0, 1, 2, 3].map((i) => dma.mapSingle(buf + i * PAGE, 10, "TO_DEVICE"));
    expect(got).toEqual([0xc000, 0x8000, 0x4000, DMA_MAPPING_ERROR]);
    expect(eventsOf(m.trace, "mapping-error")[0]!.message).toMatch(
      /no free IOVA range of 16 KiB below sda's 16-bit DMA mask \(alloc_iova failed\)/,
    );
  });

  it("reserves the interrupt window 0xfee00000-0xfeefffff: a 64 MiB range lands below it, and DMA there faults", () => {
    const { m, disk } = rig();
    const range = disk.iommu!.allocIova(4096, disk)!;
    // 64 MiB does not fit between the window and 4 GiB, and ranges are aligned to their size.
    expect(range.iovaPage * PAGE).toBe(0xf8000000);
    expect(m.snapshot().iommu[0]!.iova).toContainEqual({ iovaPage: 0xfee00000 / PAGE, pages: 0x100000 / PAGE, use: "reserved" });
    disk.write(0xfee00000, bytes("msi"));
    expect(eventsOf(m.trace, "iommu-fault")).toHaveLength(1);
  });

  it("rounds a 3-page mapping up to 4 size-aligned IOVA pages; the unmapped 4th page faults", () => {
    const { m, dom0, disk, dma } = rig();
    const buf = dom0.alloc("48 KiB");
    const bus = dma.mapSingle(buf, 3 * PAGE, "BIDIRECTIONAL");
    expect(bus).toBe(FOUR_GIB - 4 * PAGE);
    expect(bus % (4 * PAGE)).toBe(0);
    expect(m.snapshot().iommu[0]!.iova).toContainEqual({ iovaPage: bus / PAGE, pages: 4, use: "mapped" });
    expect(m.snapshot().iommu[0]!.entries).toHaveLength(3);
    disk.write(bus + 3 * PAGE, bytes("overrun"));
    expect(eventsOf(m.trace, "iommu-fault")[0]!.busAddress).toBe(bus + 3 * PAGE);
  });

  it("tries a 64-bit device below 4 GiB first, and once that space is exhausted says so and stays above", () => {
    const { m, dom0, disk, dma } = rig({ dmaMask: 64 });
    const buf = dom0.alloc("32 KiB");
    expect(dma.mapSingle(buf, 10, "TO_DEVICE")).toBe(FOUR_GIB - PAGE);
    // A range as large as the whole 32-bit space cannot fit below 4 GiB.
    const huge = disk.iommu!.allocIova(FOUR_GIB / PAGE, disk)!;
    expect(huge.iovaPage * PAGE).toBeGreaterThanOrEqual(FOUR_GIB);
    expect(eventsOf(m.trace, "setup").map((e) => e.message)).toContain("sda: Using 48-bit DMA addresses");
    expect(dma.mapSingle(buf + PAGE, 10, "TO_DEVICE")).toBeGreaterThan(FOUR_GIB);
  });
});

describe("permissions follow the DMA direction (dma_info_to_prot) and faults touch no memory", () => {
  it("TO_DEVICE: the device may read; its write faults with VT-d reason 0x05 and changes nothing", () => {
    const { m, dom0, disk, dma } = rig();
    const buf = dom0.alloc("16 KiB");
    dom0.write(buf, bytes("original"));
    const before = dom0.read(0, dom0.memory);
    const bus = dma.mapSingle(buf, 8, "TO_DEVICE");
    expect(text(disk.read(bus, 8))).toBe("original");
    disk.write(bus, bytes("CLOBBER!"));
    const fault = eventsOf(m.trace, "iommu-fault");
    expect(fault).toHaveLength(1);
    expect(fault[0]!.message).toBe(
      `DMAR: [DMA Write NO_PASID] Request device [sda] fault addr 0xffffc000 [fault reason 0x05] PTE Write access is not set`,
    );
    expect(fault[0]!.code).toBe("0x05");
    expect(same(dom0.read(0, dom0.memory), before)).toBe(true);
    expect(eventsOf(m.trace, "dma-write")[0]!.message).toMatch(/blocked by the IOMMU$/);
  });

  it("FROM_DEVICE: the device may write; its read faults with reason 0x06 and gets nothing", () => {
    const { m, dom0, disk, dma } = rig();
    const buf = dom0.alloc("16 KiB");
    dom0.write(buf, bytes("secret"));
    const bus = dma.mapSingle(buf, 6, "FROM_DEVICE");
    expect(disk.read(bus, 6)).toEqual(new Uint8Array(6));
    expect(eventsOf(m.trace, "iommu-fault")[0]!.message).toBe(
      `DMAR: [DMA Read NO_PASID] Request device [sda] fault addr 0xffffc000 [fault reason 0x06] PTE Read access is not set`,
    );
    disk.write(bus, bytes("answer"));
    dma.unmapSingle(bus, 6, "FROM_DEVICE");
    expect(text(dom0.read(buf, 6))).toBe("answer");
  });

  it("BIDIRECTIONAL: both, no fault", () => {
    const { m, dom0, disk, dma } = rig();
    const buf = dom0.alloc("16 KiB");
    dom0.write(buf, bytes("ping"));
    const bus = dma.mapSingle(buf, 4, "BIDIRECTIONAL");
    expect(text(disk.read(bus, 4))).toBe("ping");
    disk.write(bus, bytes("pong"));
    expect(text(dom0.read(buf, 4))).toBe("pong");
    expect(eventsOf(m.trace, "iommu-fault")).toHaveLength(0);
  });

  it("era 2006 prints the fault the way Documentation/Intel-IOMMU.txt shows it", () => {
    const { m, dom0, disk, dma } = rig({ era: "2006" });
    const bus = dma.mapSingle(dom0.alloc("16 KiB"), 8, "TO_DEVICE");
    disk.write(bus, bytes("x"));
    expect(eventsOf(m.trace, "iommu-fault")[0]!.message).toBe(
      "DMAR:[DMA Write] Request device [sda] fault addr ffffc000\nDMAR:[fault reason 05] PTE Write access is not set",
    );
  });

  it("an IOVA nobody mapped faults, and no frame of any domain changes", () => {
    const { m, dom0, disk } = rig();
    const domU = m.createDomain({ name: "domU1", mode: "P2M", memory: "1 MiB" });
    domU.write(0, new Uint8Array(domU.memory).fill(0x5a));
    const mine = dom0.read(0, dom0.memory);
    disk.write(0x10000000, new Uint8Array(3 * PAGE).fill(0xee));
    expect(eventsOf(m.trace, "iommu-fault")).toHaveLength(3);
    expect(same(dom0.read(0, dom0.memory), mine)).toBe(true);
    expect(same(domU.read(0, domU.memory), new Uint8Array(domU.memory).fill(0x5a))).toBe(true);
    expect(eventsOf(m.trace, "stray-dma")).toHaveLength(0);
  });
});

describe('IOTLB invalidation: strict vs lazy (Mark Gross, "PCI: iommu: iotlb flushing")', () => {
  /** Map FROM_DEVICE, let the device use it (the IOTLB caches it), unmap, then let the device write again. */
  function writeAfterUnmap(invalidation: "strict" | "lazy") {
    const { m, dom0, disk, dma } = rig({ iommu: { invalidation } });
    const buf = dom0.alloc("16 KiB");
    const bus = dma.mapSingle(buf, 100, "FROM_DEVICE");
    dma.mappingError(bus);
    disk.write(bus, bytes("in time"));
    dma.unmapSingle(bus, 100, "FROM_DEVICE");
    disk.write(bus, bytes("too late"));
    return { m, dom0, disk, dma, buf, bus };
  }

  it("strict: the unmap flushes the IOTLB at once, so a device write after it faults and changes nothing", () => {
    const { m, dom0, buf } = writeAfterUnmap("strict");
    const kinds = m.trace.filter((e) => e.kind === "iommu-unmap" || e.kind === "iotlb-flush").map((e) => e.kind);
    expect(kinds).toEqual(["iommu-unmap", "iotlb-flush"]);
    expect(eventsOf(m.trace, "iommu-fault")).toHaveLength(1);
    expect(eventsOf(m.trace, "iotlb-stale")).toHaveLength(0);
    expect(text(dom0.read(buf, 7))).toBe("in time");
  });

  it("lazy: the same write goes through a stale IOTLB entry (the window), until the 10 ms flush closes it", () => {
    const { m, dom0, disk, buf, bus } = writeAfterUnmap("lazy");
    expect(eventsOf(m.trace, "iotlb-flush")).toHaveLength(0);
    expect(eventsOf(m.trace, "iommu-fault")).toHaveLength(0);
    const stale = eventsOf(m.trace, "iotlb-stale");
    expect(stale).toHaveLength(1);
    expect(stale[0]!.message).toMatch(/stale IOTLB entry for IOVA 0xffffc000/);
    expect(text(dom0.read(buf, 8))).toBe("too late");
    expect(m.snapshot().iommu[0]!.iotlb).toEqual([{ iovaPage: bus / PAGE, mfn: dom0.pfnToMfn(dom0.pfnOf(buf)), stale: true }]);
    m.advanceTime(10_000);
    expect(eventsOf(m.trace, "iotlb-flush")[0]!.message).toMatch(/\(10 ms timer\): 1 queued unmap/);
    disk.write(bus, bytes("later!!!"));
    expect(eventsOf(m.trace, "iommu-fault")).toHaveLength(1);
    expect(text(dom0.read(buf, 8))).toBe("too late");
  });

  it("lazy: a translation the IOTLB never cached is gone with its PTE, so that access faults at once", () => {
    const { m, dom0, disk, dma } = rig({ iommu: { invalidation: "lazy" } });
    const bus = dma.mapSingle(dom0.alloc("16 KiB"), 100, "FROM_DEVICE");
    dma.unmapSingle(bus, 100, "FROM_DEVICE");
    disk.write(bus, bytes("x"));
    expect(eventsOf(m.trace, "iommu-fault")).toHaveLength(1);
    expect(eventsOf(m.trace, "iotlb-stale")).toHaveLength(0);
  });

  it("an IOVA is reused only after its invalidation: strict reuses it at once, lazy hands out another", () => {
    for (const invalidation of ["strict", "lazy"] as const) {
      const { dom0, dma } = rig({ iommu: { invalidation } });
      const buf = dom0.alloc("16 KiB");
      const first = dma.mapSingle(buf, 100, "TO_DEVICE");
      dma.unmapSingle(first, 100, "TO_DEVICE");
      const second = dma.mapSingle(buf, 100, "TO_DEVICE");
      if (invalidation === "strict") expect(second).toBe(first);
      else expect(second).toBe(first - PAGE);
    }
  });

  // Era "2006" shows the first VT-d batching: drivers/pci/intel-iommu.c's add_unmap (torvalds/linux
  // 00dfff77e718, Linux 3.0) flushes when `list_size == HIGH_WATER_MARK` (250), before queueing the
  // unmap that found it so: the 251st unmap flushes 250. Modern drivers/iommu/dma-iommu.c's
  // queue_iova flushes when fq_full() (a 256-entry ring that keeps one slot empty), then adds:
  // the 256th unmap flushes 255.
  for (const [era, held] of [
    ["2006", 250],
    ["modern", 255],
  ] as const) {
    it(`lazy, era ${era}: the queue holds ${held} unmaps; the next one flushes them all, then waits in the queue itself`, () => {
      const { m, dom0, disk, dma } = rig({ era, iommu: { invalidation: "lazy" } });
      const free = disk.iommu!.freeIovaPages();
      const buf = dom0.alloc("16 KiB");
      for (let i = 0; i < held; i++) dma.unmapSingle(dma.mapSingle(buf, 64, "TO_DEVICE"), 64, "TO_DEVICE");
      expect(eventsOf(m.trace, "iotlb-flush")).toHaveLength(0);
      expect(m.snapshot().iommu[0]!.queued).toBe(held);
      expect(disk.iommu!.freeIovaPages()).toBe(free - held);
      dma.unmapSingle(dma.mapSingle(buf, 64, "TO_DEVICE"), 64, "TO_DEVICE");
      const flushes = eventsOf(m.trace, "iotlb-flush");
      expect(flushes).toHaveLength(1);
      expect(flushes[0]!.message).toContain(
        `(${era === "2006" ? "HIGH_WATER_MARK" : "flush queue full"}: ${held} unmaps queued): ${held} queued unmaps`,
      );
      expect(flushes[0]!.cost).toBe(m.costs.iotlbFlush);
      expect(m.snapshot().iommu[0]!.queued).toBe(1);
      expect(disk.iommu!.freeIovaPages()).toBe(free - 1);
    });
  }

  it("lazy: simulated time spent on costed work (here a 10 ms hypercall) fires the timer too", () => {
    const { m, dom0, disk, dma } = rig({ iommu: { invalidation: "lazy" }, costs: { hypercall: 10_000_000 } });
    const buf = dom0.alloc("32 KiB");
    const bus = dma.mapSingle(buf, 100, "FROM_DEVICE");
    disk.write(bus, bytes("a"));
    dma.unmapSingle(bus, 100, "FROM_DEVICE");
    dma.mapSingle(buf + PAGE, 100, "FROM_DEVICE"); // its hypercall alone takes 10 ms
    disk.write(bus, bytes("b"));
    expect(eventsOf(m.trace, "iotlb-flush")[0]!.message).toMatch(/10 ms timer/);
    expect(eventsOf(m.trace, "iotlb-stale")).toHaveLength(0);
    expect(eventsOf(m.trace, "iommu-fault")).toHaveLength(1);
  });

  it("finish() flushes the lazy queue, and only then is IOVA space exactly as free as before", () => {
    const { m, dom0, disk, dma } = rig({ iommu: { invalidation: "lazy" } });
    const before = disk.iommu!.iova.freeRanges();
    const buf = dom0.alloc("64 KiB");
    const bus = dma.mapSingle(buf, 3 * PAGE, "TO_DEVICE");
    const sg = [
      { address: buf, length: 100 },
      { address: buf + 2 * PAGE, length: PAGE },
    ];
    dma.mapSg(sg, "TO_DEVICE");
    dma.unmapSingle(bus, 3 * PAGE, "TO_DEVICE");
    dma.unmapSg(sg, "TO_DEVICE");
    expect(disk.iommu!.iova.freeRanges()).not.toEqual(before);
    expect(m.snapshot().iommu[0]!.iova.filter((r) => r.use === "flush-queued")).toHaveLength(2);
    m.finish();
    expect(eventsOf(m.trace, "iotlb-flush")[0]!.message).toMatch(/\(end of run\)/);
    expect(disk.iommu!.iova.freeRanges()).toEqual(before);
  });

  it("bounds the shared IOTLB and tags its entries by protection domain", () => {
    const { m, dom0, disk, dma } = rig({ memory: "12 MiB" });
    const nic = m.attachDevice({ name: "eth0", domain: dom0, iommu: true });
    const net = dom0.dmaApi(nic, "iommu");
    const big = dom0.alloc("10 MiB");
    const bus = dma.mapSingle(big, 10 * 1024 * 1024, "TO_DEVICE");
    disk.read(bus, 10 * 1024 * 1024); // 640 pages through a 512-entry IOTLB
    const netBus = net.mapSingle(dom0.alloc("16 KiB"), 10, "TO_DEVICE");
    nic.read(netBus, 10);
    const [diskDomain, nicDomain] = m.snapshot().iommu;
    expect(diskDomain!.iotlb.length + nicDomain!.iotlb.length).toBe(512);
    expect(nicDomain!.iotlb).toEqual([{ iovaPage: netBus / PAGE, mfn: nicDomain!.entries[0]!.mfn, stale: false }]);
    expect(diskDomain!.iotlb.every((e) => e.iovaPage >= bus / PAGE)).toBe(true);
  });
});

describe("protection domains shared by a group (devices behind one PCIe-to-PCI bridge)", () => {
  it("devices of one group see each other's mappings; a device outside it faults at the same IOVA", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "VP", memory: "4 MiB" });
    const disk = m.attachDevice({ name: "sda", domain: dom0, iommu: { group: "bridge0" } });
    const tape = m.attachDevice({ name: "st0", domain: dom0, iommu: { group: "bridge0" } });
    const other = m.attachDevice({ name: "eth0", domain: dom0, iommu: true });
    const dma = dom0.dmaApi(disk, "iommu");
    const buf = dom0.alloc("16 KiB");
    dom0.write(buf, bytes("shared"));
    const bus = dma.mapSingle(buf, 6, "TO_DEVICE");
    expect(text(tape.read(bus, 6))).toBe("shared");
    expect(eventsOf(m.trace, "iommu-fault")).toHaveLength(0);
    expect(other.read(bus, 6)).toEqual(new Uint8Array(6));
    expect(eventsOf(m.trace, "iommu-fault")[0]!.device).toBe("eth0");
    expect(m.snapshot().iommu.map((d) => d.devices)).toEqual([["sda", "st0"], ["eth0"]]);
    expect(m.snapshot().devices.map((d) => d.iommuGroup)).toEqual(["bridge0", "bridge0", "device:eth0"]);
  });

  it("a device joining a group inherits its invalidation policy, and may not contradict it", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "VP", memory: "4 MiB" });
    m.attachDevice({ name: "sda", domain: dom0, iommu: { group: "bridge0", invalidation: "lazy" } });
    expect(m.attachDevice({ name: "st0", domain: dom0, iommu: { group: "bridge0" } }).iommu!.invalidation).toBe("lazy");
    const error = simError(() => m.attachDevice({ name: "st1", domain: dom0, iommu: { group: "bridge0", invalidation: "strict" } }));
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.message).toMatch(/iommu group "bridge0" already uses lazy invalidation; st1 cannot join it with "strict"/);
  });

  it("refuses a group spanning two driver domains, and malformed options", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "VP", memory: "4 MiB" });
    const drv = m.createDomain({ name: "drv", mode: "VP", memory: "1 MiB", privileged: true });
    m.attachDevice({ name: "sda", domain: dom0, iommu: { group: "bridge0" } });
    expect(simError(() => m.attachDevice({ name: "eth0", domain: drv, iommu: { group: "bridge0" } })).message).toMatch(
      /already holds sda of dom0: devices behind one PCIe-to-PCI bridge share one protection domain, so eth0 cannot belong to drv/,
    );
    expect(simError(() => m.attachDevice({ name: "eth1", domain: dom0, iommu: { invalidation: "sometimes" as never } })).message).toBe(
      'iommu.invalidation must be "strict" or "lazy", got "sometimes"',
    );
    expect(simError(() => m.attachDevice({ name: "eth2", domain: dom0, iommu: { group: "device:sda" } })).field).toBe("iommu.group");
    expect(simError(() => m.attachDevice({ name: "eth3", domain: dom0, iommu: { grup: "x" } as never })).message).toMatch(
      /unknown option "grup"/,
    );
  });
});
