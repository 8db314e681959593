// The walking skeleton's simulator slice: P==M and P2M translation, the direct and p2m
// backends, device-side reads and writes. Behaviour pinned to:
// - Documentation/core-api/dma-api-howto.rst: dma_map_single "will fail if the user tries to map
//   a non-physically contiguous piece of memory";
// - xenLinux arch/i386/kernel/pci-dma-xen.c (2.6.18-xen): bus = phys_to_machine, IOMMU_BUG_ON on
//   range_straddles_page_boundary. In January 2006 the same code was
//   linux-2.6-xen-sparse/arch/xen/i386/kernel/pci-dma.c (xen.git a365040987, the Sources page's
//   "Jan 2006 tree"; renamed pci-dma-xen.c by xen.git 66ee4af453 on 2006-01-30).
import { describe, expect, it } from "vitest";
import { DMA_MAPPING_ERROR } from "../../src/sim/index.js";
import { bytes, eventsOf, simError, smallMachine, text } from "./helpers.js";

describe("P==M with the direct backend", () => {
  it("uses the guest-physical address as the bus address, and that is the machine address", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "16 MiB" });
    const disk = m.attachDevice({ name: "sda", domain: dom0 });
    const dma = dom0.dmaApi(disk, "direct");
    const buf = dom0.alloc("32 KiB");
    const bus = dma.mapSingle(buf, 32768, "TO_DEVICE");
    expect(dma.mappingError(bus)).toBe(false);
    expect(bus).toBe(buf);
    expect(dom0.pfnToMfn(dom0.pfnOf(buf))).toBe(buf / m.pageSize);
  });

  it("delivers what the CPU wrote to the device, and what the device wrote to the CPU", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "16 MiB" });
    const disk = m.attachDevice({ name: "sda", domain: dom0 });
    const dma = dom0.dmaApi(disk, "direct");
    const buf = dom0.alloc("16 KiB");
    dom0.write(buf, bytes("block 7"));
    const bus = dma.mapSingle(buf, 16384, "BIDIRECTIONAL");
    expect(text(disk.read(bus, 7))).toBe("block 7");
    disk.write(bus + 100, bytes("from disk"));
    dma.unmapSingle(bus, 16384, "BIDIRECTIONAL");
    expect(text(dom0.read(buf + 100, 9))).toBe("from disk");
    expect(eventsOf(m.trace, "stray-dma")).toHaveLength(0);
  });

  it("places two P==M domains on disjoint identity ranges", () => {
    const m = smallMachine();
    const a = m.createDomain({ name: "dom0", mode: "P==M", memory: "16 MiB" });
    const b = m.createDomain({ name: "domU1", mode: "P==M", memory: "16 MiB" });
    expect(b.pfnBase).toBe(a.pfnBase + a.nrPages);
    expect(b.pfnToMfn(b.pfnBase)).toBe(b.pfnBase);
  });
});

describe("P2M with the p2m backend", () => {
  it("translates each page through the p2m table, charging one table read per page", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({
      name: "dom0",
      mode: "P2M",
      memory: "256 KiB",
      layout: [100, 7, 8, 9, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211],
    });
    const disk = m.attachDevice({ name: "sda", domain: dom0 });
    const dma = dom0.dmaApi(disk, "p2m");
    const bus = dma.mapSingle(16384 + 100, 200, "TO_DEVICE");
    expect(bus).toBe(7 * 16384 + 100);
    const reads = eventsOf(m.trace, "translate");
    expect(reads).toHaveLength(1);
    expect(reads[0]!.cost).toBe(m.costs.p2mRead);
  });

  it("maps a 2-page buffer whose frames are machine-contiguous as one range", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "64 KiB", layout: [50, 40, 41, 60] });
    const dma = dom0.dmaApi(m.attachDevice({ name: "sda", domain: dom0 }), "p2m");
    const bus = dma.mapSingle(16384, 32768, "TO_DEVICE");
    expect(bus).toBe(40 * 16384);
  });

  it("refuses a 2-page buffer whose frames are not machine-contiguous instead of mapping it as if they were (modern)", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "32 KiB", layout: [10, 30] });
    const disk = m.attachDevice({ name: "sda", domain: dom0 });
    const dma = dom0.dmaApi(disk, "p2m");
    const bus = dma.mapSingle(0, 32768, "FROM_DEVICE");
    expect(bus).toBe(DMA_MAPPING_ERROR);
    expect(dma.mappingError(bus)).toBe(true);
    const failure = eventsOf(m.trace, "mapping-error")[0]!;
    expect(failure.message).toMatch(/not machine-contiguous/);
    expect(failure.message).toMatch(/mfn 0xa .*mfn 0x1e/);
    expect(simError(() => disk.write(bus, bytes("x"))).code).toBe("DMA_MAPPING_ERROR_USED");
  });

  it("in era 2006 the same buffer hits IOMMU_BUG_ON: the kernel's advice, a BUG, and the run ends", () => {
    const m = smallMachine({ era: "2006" });
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "32 KiB", layout: [10, 30] });
    const dma = dom0.dmaApi(m.attachDevice({ name: "sda", domain: dom0 }), "p2m");
    const error = simError(() => dma.mapSingle(0, 32768, "FROM_DEVICE"));
    expect(error.code).toBe("KERNEL_PANIC");
    expect(error.message).toMatch(/^Fatal DMA error! Please use 'swiotlb=force'/);
    // Era "2006" is the thread's month: the file was still arch/xen/i386/kernel/pci-dma.c.
    expect(error.message).toMatch(/kernel BUG in arch\/xen\/i386\/kernel\/pci-dma\.c \(IOMMU_BUG_ON\)/);
    expect(eventsOf(m.trace, "panic")).toHaveLength(1);
    expect(simError(() => dom0.alloc(100)).code).toBe("MACHINE_HALTED");
  });

  it("gets every byte a domU-style fragmented buffer holds to the device when split per page with mapSg", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "4 MiB" });
    const disk = m.attachDevice({ name: "sda", domain: dom0 });
    const dma = dom0.dmaApi(disk, "p2m");
    const buf = dom0.alloc("48 KiB");
    const payload = Uint8Array.from({ length: 49152 }, (_, i) => (i * 7) % 251);
    dom0.write(buf, payload);
    const entries = [0, 1, 2].map((i) => ({ address: buf + i * 16384, length: 16384 }));
    const mapped = dma.mapSg(entries, "TO_DEVICE");
    expect(mapped.count).toBe(3);
    const seen = new Uint8Array(49152);
    mapped.segments.forEach((s, i) => seen.set(disk.read(s.busAddress, s.length), i * 16384));
    expect(seen).toEqual(payload);
    dma.unmapSg(entries, "TO_DEVICE");
    expect(eventsOf(m.trace, "stray-dma")).toHaveLength(0);
    m.finish();
    expect(eventsOf(m.trace, "dma-debug")).toHaveLength(0);
  });

  it("the direct backend in a P2M domain hands out pseudo-physical addresses: the DMA strays into another domain", () => {
    const m = smallMachine();
    const domU = m.createDomain({ name: "domU1", mode: "P2M", memory: "32 KiB", layout: [0, 1] });
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "32 KiB", layout: [5, 6], privileged: true });
    const disk = m.attachDevice({ name: "sda", domain: dom0 });
    const dma = dom0.dmaApi(disk, "direct");
    const bus = dma.mapSingle(0, 100, "FROM_DEVICE");
    disk.write(bus, bytes("oops"));
    const stray = eventsOf(m.trace, "stray-dma");
    expect(stray).toHaveLength(1);
    expect(stray[0]!.victim).toBe("domU1");
    expect(stray[0]!.message).toMatch(/belongs to domU1 \(pfn 0x0\), not to dom0/);
    expect(text(domU.read(0, 4))).toBe("oops");
  });
});

describe("invalid configurations are rejected with a specific message", () => {
  it("names the field, the value and what is allowed", () => {
    const m = smallMachine();
    expect(simError(() => m.createDomain({ name: "d", mode: "PV" as never, memory: "1 MiB" })).message).toBe(
      'domain d: mode must be "P==M", "P2M" or "VP", got "PV"',
    );
    expect(simError(() => m.createDomain({ name: "d", mode: "P2M", memory: "1 GiB" })).code).toBe("OUT_OF_MEMORY");
    expect(simError(() => m.createDomain({ name: "d", mode: "P2M", memory: "10 KiB" })).message).toMatch(/whole number of 16 KiB pages/);
    expect(simError(() => m.createDomain({ name: "d", mode: "P==M", memory: "1 MiB", layout: "fragmented" })).code).toBe("INVALID_LAYOUT");
    expect(simError(() => m.createDomain({ name: "d", mode: "P2M", layout: [1, 1] })).message).toMatch(
      /layout\[1\] repeats machine frame 1/,
    );
    expect(simError(() => m.createDomain({ name: "d", mode: "P2M", layout: [1, 99999] })).message).toMatch(
      /layout\[1\] must be a machine frame number from 0 to 4095, got 99999/,
    );
    expect(simError(() => m.createDomain({ name: "d", mode: "P==M", layout: [3, 5] })).message).toMatch(/consecutive/);
    expect(simError(() => smallMachine({ memroy: "1 GiB" } as never)).message).toMatch(/unknown option "memroy"/);
  });

  it("refuses overlapping explicit layouts, naming the owner", () => {
    const m = smallMachine();
    m.createDomain({ name: "dom0", mode: "P2M", layout: [4, 5] });
    const error = simError(() => m.createDomain({ name: "domU1", mode: "P2M", layout: [6, 5] }));
    expect(error.message).toMatch(/layout\[1\] is machine frame 5 \(0x5\), which already belongs to dom0/);
  });

  it("refuses the p2m backend for a VP domain, and impossible masks", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "VP", memory: "1 MiB" });
    const disk = m.attachDevice({ name: "sda", domain: dom0 });
    expect(simError(() => dom0.dmaApi(disk, "p2m")).code).toBe("BACKEND_UNSUITABLE");
    expect(simError(() => m.attachDevice({ name: "eth0", domain: dom0, dmaMask: 65 })).code).toBe("INVALID_MASK");
    expect(simError(() => dom0.dmaApi(disk, "magic" as never)).code).toBe("UNKNOWN_BACKEND");
  });
});
