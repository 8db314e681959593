// dma-debug checks, pinned to torvalds/linux kernel/dma/debug.c (check_unmap, check_sync,
// debug_dma_mapping_error, dma_debug_device_change) and Documentation/core-api/dma-api.rst
// Part III. Codes D1-D21 number the dma-debug messages the simulator reproduces.
import { describe, expect, it } from "vitest";
import { DMA_MAPPING_ERROR } from "../../src/sim/index.js";
import { eventsOf, smallMachine } from "./helpers.js";

function setup(options: { debug?: boolean; era?: "2006" | "modern" } = {}) {
  const m = smallMachine(options);
  const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "16 MiB" });
  const disk = m.attachDevice({ name: "sda", domain: dom0, driver: "blkback" });
  const dma = dom0.dmaApi(disk, "direct");
  const findings = () => eventsOf(m.trace, "dma-debug");
  const codes = () => findings().map((e) => e.code);
  return { m, dom0, disk, dma, findings, codes };
}

describe("dma-debug at unmap (check_unmap)", () => {
  it("a correct map / mappingError / unmap cycle reports nothing", () => {
    const { dma, dom0, codes, m } = setup();
    const buf = dom0.alloc(4096);
    const bus = dma.mapSingle(buf, 4096, "TO_DEVICE");
    expect(dma.mappingError(bus)).toBe(false);
    dma.unmapSingle(bus, 4096, "TO_DEVICE");
    m.finish();
    expect(codes()).toEqual([]);
  });

  it("D1: unmapping an address never mapped", () => {
    const { dma, findings } = setup();
    dma.unmapSingle(0x4000, 512, "TO_DEVICE");
    expect(findings()[0]!.message).toBe(
      "DMA-API: blkback sda: device driver tries to free DMA memory it has not allocated [device address=0x0000000000004000] [size=512 bytes]",
    );
  });

  it("D1 again on a double unmap: the second one finds no entry", () => {
    const { dma, dom0, codes } = setup();
    const buf = dom0.alloc(4096);
    const bus = dma.mapSingle(buf, 4096, "TO_DEVICE");
    dma.mappingError(bus);
    dma.unmapSingle(bus, 4096, "TO_DEVICE");
    dma.unmapSingle(bus, 4096, "TO_DEVICE");
    expect(codes()).toEqual(["D1"]);
  });

  it("D2: unmapping the error value", () => {
    const { dma, findings } = setup();
    dma.unmapSingle(DMA_MAPPING_ERROR, 512, "TO_DEVICE");
    expect(findings()[0]!.code).toBe("D2");
    expect(findings()[0]!.message).toMatch(/device driver tries to free an invalid DMA memory address$/);
  });

  it("D3 and D7: different size and direction at unmap, in the kernel's words", () => {
    const { dma, dom0, findings } = setup();
    const buf = dom0.alloc(8192);
    const bus = dma.mapSingle(buf, 8192, "FROM_DEVICE");
    dma.mappingError(bus);
    dma.unmapSingle(bus, 4096, "TO_DEVICE");
    const [size, direction] = findings();
    expect(size!.code).toBe("D3");
    expect(size!.message).toMatch(
      /frees DMA memory with different size \[device address=0x[0-9a-f]{16}\] \[map size=8192 bytes\] \[unmap size=4096 bytes\]/,
    );
    expect(direction!.code).toBe("D7");
    expect(direction!.message).toMatch(/\[mapped with DMA_FROM_DEVICE\] \[unmapped with DMA_TO_DEVICE\]/);
  });

  it("D4: freeing a streaming mapping with the coherent function", () => {
    const { dma, dom0, findings } = setup();
    const buf = dom0.alloc(4096);
    const bus = dma.mapSingle(buf, 4096, "BIDIRECTIONAL");
    dma.mappingError(bus);
    dma.freeCoherent(4096, buf, bus);
    expect(findings().map((f) => f.code)).toContain("D4");
    expect(findings().find((f) => f.code === "D4")!.message).toMatch(/\[mapped as single\] \[unmapped as coherent\]/);
  });

  it("D5: freeing coherent memory with another CPU address", () => {
    const { dma, codes } = setup();
    const { cpuAddress, busAddress } = dma.allocCoherent(4096)!;
    dma.freeCoherent(4096, cpuAddress + 64, busAddress);
    expect(codes()).toEqual(["D5"]);
  });

  it("D6: unmap_sg with a different entry count than was mapped", () => {
    const { dma, dom0, codes } = setup();
    const buf = dom0.alloc(3 * 16384);
    const entries = [0, 1, 2].map((i) => ({ address: buf + i * 16384, length: 16384 }));
    expect(dma.mapSg(entries, "TO_DEVICE").count).toBe(3);
    dma.unmapSg(entries.slice(0, 2), "TO_DEVICE");
    expect(codes()).toContain("D6");
  });

  it("D8: never calling mappingError before unmap", () => {
    const { dma, dom0, findings } = setup();
    const buf = dom0.alloc(4096);
    const bus = dma.mapSingle(buf, 4096, "TO_DEVICE");
    dma.unmapSingle(bus, 4096, "TO_DEVICE");
    expect(findings()).toHaveLength(1);
    expect(findings()[0]!.message).toMatch(
      /device driver failed to check map error\[device address=0x[0-9a-f]{16}\] \[size=4096 bytes\] \[mapped as single\]/,
    );
  });
});

describe("dma-debug at sync (check_sync)", () => {
  function mapped(dir: "TO_DEVICE" | "FROM_DEVICE" | "BIDIRECTIONAL") {
    const s = setup();
    const buf = s.dom0.alloc(8192);
    const bus = s.dma.mapSingle(buf, 8192, dir);
    s.dma.mappingError(bus);
    return { ...s, bus };
  }

  it("a partial sync inside the mapping is allowed", () => {
    const { dma, bus, codes } = mapped("FROM_DEVICE");
    dma.syncSingleForCpu(bus + 4096, 1024, "FROM_DEVICE");
    expect(codes()).toEqual([]);
  });

  it("D9: syncing memory never mapped", () => {
    const { dma, codes } = setup();
    dma.syncSingleForCpu(0x8000, 16, "FROM_DEVICE");
    expect(codes()).toEqual(["D9"]);
  });

  // Modern kernel/dma/debug.c (linux.git 0604aa87b098): check_sync looks the range up with
  // bucket_find_contain / containing_match, which accept only a mapping holding the whole range,
  // so a sync running past the end is "tries to sync DMA memory it has not allocated".
  it("D9, modern: a sync running past the end of the mapping matches no mapping", () => {
    const { dma, bus, findings } = mapped("FROM_DEVICE");
    dma.syncSingleForCpu(bus + 4096, 8192, "FROM_DEVICE");
    expect(findings().map((e) => e.code)).toEqual(["D9"]);
    expect(findings()[0]!.message).toMatch(
      /device driver tries to sync DMA memory it has not allocated \[device address=0x[0-9a-f]{16}\] \[size=8192 bytes\]/,
    );
  });

  // Era "2006" shows the first dma-debug (lib/dma-debug.c, Linux 2.6.30, 2009; dma-debug did not
  // exist in 2006): hash_bucket_find matched the exact address, then tested offset + size.
  it("D10, era 2006: the first dma-debug's exact lookup reports the overrun as outside the allocated range", () => {
    const s = setup({ era: "2006" });
    const buf = s.dom0.alloc(8192);
    const bus = s.dma.mapSingle(buf, 8192, "FROM_DEVICE");
    s.dma.mappingError(bus);
    s.dma.syncSingleForCpu(bus, 12288, "FROM_DEVICE");
    expect(s.codes()).toEqual(["D10"]);
    expect(s.findings()[0]!.message).toMatch(
      /syncs DMA memory outside allocated range \[device address=0x[0-9a-f]{16}\] \[allocation size=8192 bytes\] \[sync offset=0\] \[sync size=12288\]/,
    );
  });

  it("D9, era 2006: a sync that does not name the mapping's start matches nothing (exact lookup)", () => {
    const s = setup({ era: "2006" });
    const buf = s.dom0.alloc(8192);
    const bus = s.dma.mapSingle(buf, 8192, "FROM_DEVICE");
    s.dma.mappingError(bus);
    s.dma.syncSingleForCpu(bus + 4096, 1024, "FROM_DEVICE");
    expect(s.codes()).toEqual(["D9"]);
  });

  it("D11 and D12: syncing a TO_DEVICE mapping for the CPU as FROM_DEVICE", () => {
    const { dma, bus, codes } = mapped("TO_DEVICE");
    dma.syncSingleForCpu(bus, 8192, "FROM_DEVICE");
    expect(codes()).toEqual(["D11", "D12"]);
  });

  it("D13: syncing a FROM_DEVICE mapping to the device with another direction", () => {
    const { dma, bus, codes } = mapped("FROM_DEVICE");
    dma.syncSingleForDevice(bus, 8192, "BIDIRECTIONAL");
    expect(codes()).toEqual(["D11", "D13"]);
  });

  it("BIDIRECTIONAL mappings may be synced either way", () => {
    const { dma, bus, codes } = mapped("BIDIRECTIONAL");
    dma.syncSingleForCpu(bus, 8192, "TO_DEVICE");
    dma.syncSingleForDevice(bus, 8192, "FROM_DEVICE");
    expect(codes()).toEqual([]);
  });

  it("D14: sync_sg with a different entry count", () => {
    const { dma, dom0, codes } = setup();
    const buf = dom0.alloc(2 * 16384);
    const entries = [0, 1].map((i) => ({ address: buf + i * 16384, length: 16384 }));
    dma.mapSg(entries, "FROM_DEVICE");
    dma.syncSgForCpu(entries.slice(0, 1), "FROM_DEVICE");
    expect(codes()).toContain("D14");
  });
});

describe("dma-debug elsewhere", () => {
  it("D15: mappings still live at the end of the run are reported once per device, with one entry's details", () => {
    const { dma, dom0, findings, m } = setup();
    for (let i = 0; i < 3; i++) dma.mappingError(dma.mapSingle(dom0.alloc(4096), 4096, "TO_DEVICE"));
    m.finish();
    expect(findings()).toHaveLength(1);
    expect(findings()[0]!.message).toMatch(
      /^DMA-API: blkback sda: device driver has pending DMA allocations while released from device \[count=3\]\nOne of leaked entries details: \[device address=0x[0-9a-f]{16}\] \[size=4096 bytes\] \[mapped with DMA_TO_DEVICE\] \[mapped as single\]$/,
    );
  });

  it("D19: two FROM_DEVICE mappings sharing a cacheline (TO_DEVICE ones are not tracked)", () => {
    const { dma, dom0, codes } = setup();
    const buf = dom0.alloc(256);
    dma.mapSingle(buf, 64, "TO_DEVICE");
    dma.mapSingle(buf, 64, "TO_DEVICE");
    expect(codes()).toEqual([]);
    dma.mapSingle(buf + 8, 32, "FROM_DEVICE");
    dma.mapSingle(buf + 16, 32, "FROM_DEVICE");
    expect(codes()).toEqual(["D19"]);
  });

  it("D20 and D21: sg segments longer than max_segment_size or across the segment boundary", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "16 MiB" });
    const disk = m.attachDevice({ name: "sda", domain: dom0, maxSegmentSize: "16 KiB", segmentBoundary: "64 KiB" });
    const dma = dom0.dmaApi(disk, "direct");
    const buf = dom0.alloc("128 KiB", { align: "64 KiB" });
    dma.mapSg(
      [
        { address: buf, length: 32768 },
        { address: buf + 65536 - 512, length: 1024 },
      ],
      "TO_DEVICE",
    );
    expect(eventsOf(m.trace, "dma-debug").map((e) => e.code)).toEqual(["D20", "D21"]);
  });

  it("with debug: false nothing is checked", () => {
    const { dma, codes } = setup({ debug: false });
    dma.unmapSingle(0x4000, 512, "TO_DEVICE");
    expect(codes()).toEqual([]);
  });

  it("a failed mapping creates no entry, so unmapping it is D2, not a leak", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", layout: [3, 9] });
    const disk = m.attachDevice({ name: "sda", domain: dom0 });
    const dma = dom0.dmaApi(disk, "p2m");
    const bus = dma.mapSingle(0, 32768, "TO_DEVICE");
    expect(dma.mappingError(bus)).toBe(true);
    dma.unmapSingle(bus, 32768, "TO_DEVICE");
    m.finish();
    expect(eventsOf(m.trace, "dma-debug").map((e) => e.code)).toEqual(["D2"]);
  });
});

describe("DMA-API argument checks", () => {
  it("DMA_NONE is a kernel BUG that ends the run, in the trace", () => {
    const { dma, dom0, m } = setup();
    expect(() => dma.mapSingle(dom0.alloc(64), 64, "NONE" as never)).toThrow(/kernel BUG: dma_map_single called with DMA_NONE/);
    expect(eventsOf(m.trace, "panic")).toHaveLength(1);
    expect(m.halted).toMatch(/DMA_NONE/);
  });

  it("any other direction is an argument error naming the allowed values", () => {
    const { dma, dom0 } = setup();
    expect(() => dma.mapSingle(dom0.alloc(64), 64, "OUT" as never)).toThrow(
      'dma_map_single: direction must be "TO_DEVICE", "FROM_DEVICE" or "BIDIRECTIONAL", got "OUT"',
    );
  });

  it("setMask accepts what the backend supports and reports -EIO otherwise", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "16 MiB" });
    m.createDomain({ name: "dom1", mode: "P==M", memory: "32 MiB" });
    const late = m.createDomain({ name: "late", mode: "P==M", memory: "1 MiB", privileged: true });
    const dma = late.dmaApi(m.attachDevice({ name: "fd0", domain: late }), "direct");
    expect(dma.setMask(24)).toBe(-5);
    expect(dma.setMask(32)).toBe(0);
    expect(dom0.dmaApi(m.attachDevice({ name: "sda", domain: dom0 }), "direct").setMask(24)).toBe(0);
    expect(() => dma.setMask(100)).toThrow(/integer from 12 to 64, got 100/);
  });

  it("coherent memory is zeroed, visible to the device at its bus address without syncs", () => {
    const { dma, dom0, disk } = setup();
    const { cpuAddress, busAddress } = dma.allocCoherent(100)!;
    expect([...dom0.read(cpuAddress, 4)]).toEqual([0, 0, 0, 0]);
    dom0.write(cpuAddress, [1, 2, 3]);
    expect([...disk.read(busAddress, 3)]).toEqual([1, 2, 3]);
  });

  it("a mask given at attachDevice that the backend cannot serve is flagged when the DMA-API is created", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "32 MiB" });
    const disk = m.attachDevice({ name: "fd0", domain: dom0, dmaMask: 24 });
    dom0.dmaApi(disk, "xen-swiotlb");
    const warning = m.trace.find((e) => e.kind === "setup" && e.code === "EIO")!;
    expect(warning.severity).toBe("warning");
    expect(warning.message).toMatch(/dma_set_mask\(fd0, DMA_BIT_MASK\(24\)\) would fail with -EIO/);
  });
});
