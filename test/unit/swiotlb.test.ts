// Generic swiotlb, pinned to:
// - lib/swiotlb.c, 2.6.16-2.6.27 ("2006" era): map_single / unmap_single / sync_single,
//   swiotlb_full, swiotlb_map_sg, swiotlb_alloc_coherent, swiotlb_dma_supported;
// - kernel/dma/swiotlb.c ("modern"): swiotlb_tbl_map_single, swiotlb_area_find_slots,
//   swiotlb_release_slots, swiotlb_map, swiotlb_max_mapping_size;
// - Documentation/core-api/swiotlb.rst: "swiotlb_tbl_map_single() always does a 'sync' operation".
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createMachine, DMA_MAPPING_ERROR, EIO } from "../../src/sim/index.js";
import type { Direction, Era, Machine } from "../../src/sim/index.js";
import { bytes, eventsOf, simError, smallMachine, text } from "./helpers.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const pattern = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) % 251);
const poolOf = (m: Machine) => m.swiotlbPools[0]!;

/** x86_64 (4 KiB pages) with a P==M dom0 of `pages` frames starting at frame `first`, and one device. */
function identityDom0(
  opts: { memory?: string; first?: number; pages?: number; era?: Era; size?: string; force?: boolean; dmaMask?: number } = {},
) {
  const m = createMachine({
    arch: "x86_64",
    memory: opts.memory ?? "8 GiB",
    era: opts.era ?? "modern",
    swiotlb: { size: opts.size ?? "1 MiB", force: opts.force ?? false },
  });
  const first = opts.first ?? 0x100000; // 4 GiB: all of dom0 is beyond a 32-bit mask
  const dom0 = m.createDomain({ name: "dom0", mode: "P==M", layout: Array.from({ length: opts.pages ?? 1024 }, (_, i) => first + i) });
  const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: opts.dmaMask ?? 32 });
  const dma = dom0.dmaApi(disk, "swiotlb");
  return { m, dom0, disk, dma };
}

describe("the pool (lib/swiotlb.c swiotlb_init_with_default_size, kernel/dma/swiotlb.c)", () => {
  it("sets aside 64 MiB below 4 GiB on first use, at PFN == MFN above a P==M domain's RAM, not counted in its memory", () => {
    // swiotlb_init(): "default to 64MB"; alloc_bootmem_low_pages: low memory.
    const m = createMachine({ arch: "x86_64", memory: "4 GiB" });
    const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "256 MiB" });
    const disk = m.attachDevice({ name: "sda", domain: dom0 });
    expect(m.snapshot().swiotlb).toEqual([]);
    const dma = dom0.dmaApi(disk, "swiotlb");
    const [pool] = m.snapshot().swiotlb;
    expect(pool).toMatchObject({
      domain: "dom0",
      kind: "swiotlb",
      totalSlots: 32768,
      usedSlots: 0,
      address: 256 * MiB,
      bytes: 64 * MiB,
      overflowBuffer: null,
    });
    expect(pool!.frames).toEqual([{ pfn: 65536, mfn: 65536, count: 16384 }]);
    expect(dom0.memory).toBe(256 * MiB);
    expect(eventsOf(m.trace, "setup").some((e) => e.message.includes("software IO TLB: mapped [mem 0x10000000-0x13ffffff] (64MB)"))).toBe(
      true,
    );
    // A second DMA-API of the same domain shares the pool.
    dom0.dmaApi(m.attachDevice({ name: "eth0", domain: dom0 }), "swiotlb");
    expect(m.snapshot().swiotlb).toHaveLength(1);
    expect(dma.isPhys).toBe(false); // era modern keeps the per-backend PCI_DMA_BUS_IS_PHYS: 0 with swiotlb
    expect(dma.maxMappingSize()).toBe(256 * KiB); // swiotlb_max_mapping_size: IO_TLB_SIZE * IO_TLB_SEGSIZE
  });

  it("is smaller on a small machine, and says so in the trace", () => {
    const m = smallMachine(); // 64 MiB
    const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "16 MiB" });
    dom0.dmaApi(m.attachDevice({ name: "sda", domain: dom0 }), "swiotlb");
    expect(poolOf(m).bytes).toBe(4 * MiB);
    expect(eventsOf(m.trace, "setup").some((e) => /64 MiB default pool is reduced to 4 MiB on this 64 MiB machine/.test(e.message))).toBe(
      true,
    );
  });

  it("halves the default size until it fits, with swiotlb_late_init's warning", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "61 MiB" });
    dom0.dmaApi(m.attachDevice({ name: "sda", domain: dom0 }), "swiotlb");
    expect(poolOf(m).bytes).toBe(2 * MiB);
    expect(eventsOf(m.trace, "setup").some((e) => e.message.startsWith("Warning: only able to allocate 2 MB for software IO TLB"))).toBe(
      true,
    );
  });

  it("refuses an explicit size that does not fit with SWIOTLB_NO_ROOM, taking no frames", () => {
    const m = smallMachine({ swiotlb: { size: "64 MiB" } });
    const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "16 MiB" });
    const disk = m.attachDevice({ name: "sda", domain: dom0 });
    const before = m.snapshot().frames;
    const error = simError(() => dom0.dmaApi(disk, "swiotlb"));
    expect(error.code).toBe("SWIOTLB_NO_ROOM");
    expect(error.field).toBe("swiotlb.size");
    expect(error.message).toMatch(
      /^Cannot allocate SWIOTLB buffer: the swiotlb pool of dom0 needs 64 MiB of one machine-contiguous run below 4 GiB/,
    );
    expect(m.snapshot().frames).toEqual(before);
    expect(m.snapshot().swiotlb).toEqual([]);
  });

  it("never disturbs explicit layouts made before it", () => {
    const m = smallMachine();
    const domU = m.createDomain({ name: "domU1", mode: "P2M", layout: [0, 1, 2, 3, 9, 10] });
    const dom0 = m.createDomain({
      name: "dom0",
      mode: "P2M",
      privileged: true,
      memory: "1 MiB",
      layout: Array.from({ length: 64 }, (_, i) => 1000 + i),
    });
    dom0.dmaApi(m.attachDevice({ name: "sda", domain: dom0 }), "swiotlb");
    const poolMfns = m.snapshot().swiotlb[0]!.frames.flatMap((r) => Array.from({ length: r.count }, (_, i) => r.mfn + i));
    expect(poolMfns.some((mfn) => [0, 1, 2, 3, 9, 10].includes(mfn) || (mfn >= 1000 && mfn < 1064))).toBe(false);
    expect([...domU.p2m]).toEqual([0, 1, 2, 3, 9, 10]);
    // The lowest free frames, wherever they are: generic swiotlb never asks (4, 5, 6, 7, 8, 11, ...).
    expect(poolMfns.slice(0, 6)).toEqual([4, 5, 6, 7, 8, 11]);
  });
});

describe("when swiotlb bounces (2006 swiotlb_map_single / modern dma_direct_map_page)", () => {
  it("maps a buffer the device can reach directly: bus address = guest-physical, no copy", () => {
    const { m, dom0, dma } = identityDom0({ first: 0x1000 });
    const buf = dom0.alloc("8 KiB");
    const bus = dma.mapSingle(buf, 8192, "TO_DEVICE");
    expect(bus).toBe(buf);
    expect(eventsOf(m.trace, "bounce")).toHaveLength(0);
    expect(eventsOf(m.trace, "bounce-copy")).toHaveLength(0);
  });

  it("bounces a buffer beyond a 32-bit mask through the pool below 4 GiB, byte-identical both ways", () => {
    const { m, dom0, disk, dma } = identityDom0();
    const buf = dom0.alloc("12 KiB", { align: 2048 });
    const payload = pattern(12 * KiB);
    dom0.write(buf, payload);
    const bus = dma.mapSingle(buf, payload.length, "BIDIRECTIONAL");
    expect(dma.mappingError(bus)).toBe(false);
    expect(buf).toBeGreaterThanOrEqual(4 * 1024 * MiB);
    expect(bus).toBe(poolOf(m).address); // first slot of the pool, below 4 GiB
    expect(eventsOf(m.trace, "bounce")[0]!.message).toMatch(/address_needs_mapping: 0x100000000\+12288 is beyond sda's 32-bit mask/);
    expect(disk.read(bus, payload.length)).toEqual(payload);
    const reply = pattern(12 * KiB, 9);
    disk.write(bus, reply);
    dma.unmapSingle(bus, payload.length, "BIDIRECTIONAL");
    expect(dom0.read(buf, reply.length)).toEqual(reply);
    expect(eventsOf(m.trace, "stray-dma")).toHaveLength(0);
    expect(eventsOf(m.trace, "unmapped-dma")).toHaveLength(0);
  });

  it("bounces for a 24-bit device when the pool sits below 16 MiB, and refuses the mask when it does not", () => {
    // swiotlb_dma_supported: virt_to_bus(io_tlb_end - 1) <= mask.
    const low = identityDom0({ memory: "64 MiB", first: 8192, pages: 4096, dmaMask: 24 });
    expect(low.dma.setMask(24)).toBe(0);
    const buf = low.dom0.alloc("8 KiB");
    const payload = pattern(8192, 3);
    low.dom0.write(buf, payload);
    const bus = low.dma.mapSingle(buf, 8192, "TO_DEVICE");
    expect(bus + 8192).toBeLessThanOrEqual(16 * MiB);
    expect(low.disk.read(bus, 8192)).toEqual(payload);
    const high = identityDom0({ memory: "64 MiB", first: 0, pages: 8192 });
    expect(poolOf(high.m).address).toBe(32 * MiB);
    expect(high.dma.setMask(24)).toBe(EIO);
    expect(high.dma.setMask(32)).toBe(0);
  });

  it("bounces everything with swiotlb=force", () => {
    const { m, dom0, dma } = identityDom0({ first: 0x1000, force: true });
    const buf = dom0.alloc("4 KiB");
    const bus = dma.mapSingle(buf, 4096, "TO_DEVICE");
    expect(bus).not.toBe(buf);
    expect(eventsOf(m.trace, "bounce")[0]!.message).toMatch(/swiotlb=force/);
  });

  it("charges each bounce copy bounceBase + memcpyPerByte × bytes", () => {
    const { m, dom0, dma } = identityDom0();
    const buf = dom0.alloc("8 KiB");
    dma.mapSingle(buf, 8192, "TO_DEVICE");
    const [copy] = eventsOf(m.trace, "bounce-copy");
    expect(copy!.cost).toBe(Math.round(m.costs.bounceBase + m.costs.memcpyPerByte * 8192)); // the trace keeps whole cycles
    expect(copy!.bytes).toBe(8192);
  });
});

describe("what is copied, by direction and era (2006 map_single vs modern swiotlb_tbl_map_single)", () => {
  for (const era of ["2006", "modern"] as const) {
    it(`${era}: a FROM_DEVICE map ${era === "2006" ? "does not copy" : "copies the original into the bounce buffer"}, so a partial device write ${era === "2006" ? "clobbers the rest at unmap" : "leaves the rest intact"}`, () => {
      // 2006: `if (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL) memcpy(dma_addr, buffer, size);`
      // modern: "swiotlb_tbl_map_single() always does a 'sync' operation ... to initialize the
      // bounce buffer to match the contents of the original buffer".
      const { m, dom0, disk, dma } = identityDom0({ era });
      const buf = dom0.alloc("4 KiB");
      dom0.write(buf, "original contents of the whole buffer");
      const bus = dma.mapSingle(buf, 4096, "FROM_DEVICE");
      expect(text(disk.read(bus, 8))).toBe(era === "2006" ? "\0".repeat(8) : "original");
      disk.write(bus, bytes("DATA"));
      dma.unmapSingle(bus, 4096, "FROM_DEVICE");
      expect(text(dom0.read(buf, 16))).toBe(era === "2006" ? `DATA${"\0".repeat(12)}` : "DATAinal content");
      expect(eventsOf(m.trace, "bounce-copy")).toHaveLength(era === "2006" ? 1 : 2);
    });
  }

  it("does not copy back a TO_DEVICE mapping at unmap or sync-for-cpu, nor a FROM_DEVICE one at sync-for-device", () => {
    // unmap: copy back only `if (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL)`;
    // sync_single: SYNC_FOR_CPU copies for FROM/BIDI, SYNC_FOR_DEVICE for TO/BIDI.
    const { m, dom0, disk, dma } = identityDom0();
    const out = dom0.alloc("4 KiB");
    dom0.write(out, "cpu data");
    const outBus = dma.mapSingle(out, 4096, "TO_DEVICE");
    disk.write(outBus, bytes("misbehaving device"));
    dma.syncSingleForCpu(outBus, 4096, "TO_DEVICE");
    dma.unmapSingle(outBus, 4096, "TO_DEVICE");
    expect(text(dom0.read(out, 8))).toBe("cpu data");
    const inBuf = dom0.alloc("4 KiB");
    const inBus = dma.mapSingle(inBuf, 4096, "FROM_DEVICE");
    const copies = eventsOf(m.trace, "bounce-copy").length;
    dom0.write(inBuf, "cpu scribble");
    dma.syncSingleForDevice(inBus, 4096, "FROM_DEVICE");
    expect(eventsOf(m.trace, "bounce-copy")).toHaveLength(copies);
    expect(text(disk.read(inBus, 12))).not.toBe("cpu scribble");
  });

  it("syncs a sub-range through io_tlb_orig_addr of the slot it falls in (partial sync)", () => {
    // sync_single: `buffer = io_tlb_orig_addr[index] + (dma_addr & ((1 << IO_TLB_SHIFT) - 1))`.
    const { m, dom0, disk, dma } = identityDom0();
    const buf = dom0.alloc("8 KiB");
    dom0.write(buf, new Uint8Array(8192).fill(0x2e));
    const bus = dma.mapSingle(buf, 8192, "BIDIRECTIONAL");
    disk.write(bus + 100, bytes("ABC"));
    disk.write(bus + 5000, bytes("XYZ"));
    dma.syncSingleForCpu(bus + 4096, 2048, "BIDIRECTIONAL");
    expect(text(dom0.read(buf + 5000, 3))).toBe("XYZ");
    expect(text(dom0.read(buf + 100, 3))).toBe("...");
    const last = eventsOf(m.trace, "bounce-copy").at(-1)!;
    expect(last).toMatchObject({ address: buf + 4096, bytes: 2048, busAddress: bus + 4096 });
    dom0.write(buf + 6000, "CPU");
    dma.syncSingleForDevice(bus + 6000, 3, "BIDIRECTIONAL");
    expect(text(disk.read(bus + 6000, 3))).toBe("CPU");
  });
});

describe("slot allocation as Linux does it (io_tlb_list, io_tlb_index, IO_TLB_SEGSIZE)", () => {
  it("keeps io_tlb_list as counts of free slots to the end of each 128-slot segment", () => {
    // io_tlb_list[i] = IO_TLB_SEGSIZE - OFFSET(i, IO_TLB_SEGSIZE); map marks used slots 0 and
    // recounts the free slots before them.
    const { m, dom0, dma } = identityDom0({ size: "512 KiB", force: true, first: 0x1000 });
    const pool = poolOf(m);
    expect([pool.list[0], pool.list[1], pool.list[127], pool.list[128]]).toEqual([128, 127, 1, 128]);
    const a = dom0.alloc("2 KiB", { align: 2048 });
    dma.mapSingle(a, 2048, "TO_DEVICE");
    const b = dom0.alloc("6 KiB", { align: 2048 });
    dma.mapSingle(b, 6144, "TO_DEVICE"); // 3 slots, page-aligned: slots 2-4
    expect(Array.from(pool.list.slice(0, 7))).toEqual([0, 1, 0, 0, 0, 123, 122]);
  });

  it("page-aligns a bounce of exactly one page in the modern era only (2006: size > PAGE_SIZE; modern: >= PAGE_SIZE)", () => {
    for (const era of ["2006", "modern"] as const) {
      const { m, dom0, dma } = identityDom0({ era, force: true, first: 0x1000 });
      const small = dom0.alloc("2 KiB", { align: 2048 });
      dma.mapSingle(small, 2048, "TO_DEVICE");
      const page = dom0.alloc("4 KiB");
      const bus = dma.mapSingle(page, 4096, "TO_DEVICE");
      expect(bus - poolOf(m).address).toBe(era === "2006" ? 2048 : 4096);
    }
  });

  it("never lets a bounce buffer cross a 128-slot segment, and wraps the next-fit index", () => {
    const { m, dom0, dma } = identityDom0({ size: "512 KiB", force: true, first: 0x1000 });
    const pool = poolOf(m);
    const big = dom0.alloc("240 KiB");
    const bigBus = dma.mapSingle(big, 240 * KiB, "TO_DEVICE"); // slots 0-119
    const next = dom0.alloc("32 KiB");
    const nextBus = dma.mapSingle(next, 32 * KiB, "TO_DEVICE"); // 120-135 would cross: 128-143
    expect(nextBus - pool.address).toBe(128 * 2048);
    const tail = dom0.alloc("224 KiB");
    dma.mapSingle(tail, 224 * KiB, "TO_DEVICE"); // 144-255, index wraps to 0
    expect(pool.index).toBe(0);
    dma.unmapSingle(bigBus, 240 * KiB, "TO_DEVICE");
    const again = dom0.alloc("8 KiB");
    expect(dma.mapSingle(again, 8192, "TO_DEVICE")).toBe(pool.address);
    expect(nextBus).toBeGreaterThan(bigBus);
  });

  it("leaves the pool exactly as free as before after every unmap (any sizes, any order)", () => {
    // do_unmap_single / swiotlb_release_slots merge the freed slots with their free neighbours,
    // restoring io_tlb_list.
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            size: fc.integer({ min: 1, max: 64 * KiB }),
            dir: fc.constantFrom<Direction>("TO_DEVICE", "FROM_DEVICE", "BIDIRECTIONAL"),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        fc.constantFrom<Era>("2006", "modern"),
        (maps, era) => {
          // 2 MiB holds any 12 mappings of up to 64 KiB (alignment and segment waste included), so
          // the pool never fills: a full pool panics in era 2006, which is another test's subject.
          const { m, dom0, dma } = identityDom0({ era, force: true, first: 0x1000, size: "2 MiB" });
          const pool = poolOf(m);
          const initial = Array.from(pool.list);
          const live: { bus: number; size: number; dir: Direction; before: number[] }[] = [];
          for (const { size, dir } of maps) {
            const before = Array.from(pool.list);
            const bus = dma.mapSingle(dom0.alloc(size), size, dir);
            if (dma.mappingError(bus)) continue;
            live.push({ bus, size, dir, before });
          }
          // Last mapped, first unmapped: each unmap restores the list as it was before its map.
          for (const { bus, size, dir, before } of live.reverse()) {
            dma.unmapSingle(bus, size, dir);
            expect(Array.from(pool.list)).toEqual(before);
          }
          expect(Array.from(pool.list)).toEqual(initial);
          expect(pool.usedSlots).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("restores the free list whatever order the mappings are unmapped in", () => {
    const { m, dom0, dma } = identityDom0({ force: true, first: 0x1000, size: "512 KiB" });
    const pool = poolOf(m);
    const initial = Array.from(pool.list);
    const sizes = [2048, 4096, 30000, 6000, 100, 65536, 12288];
    const maps = sizes.map((size) => ({ size, bus: dma.mapSingle(dom0.alloc(size), size, "FROM_DEVICE") }));
    for (const i of [3, 0, 6, 1, 5, 2, 4]) {
      const used = pool.usedSlots;
      dma.unmapSingle(maps[i]!.bus, maps[i]!.size, "FROM_DEVICE");
      expect(pool.usedSlots).toBe(used - Math.ceil(maps[i]!.size / 2048));
    }
    expect(Array.from(pool.list)).toEqual(initial);
  });

  it("2006 trusts the unmap size and leaks the rest of the slots; modern frees what was mapped", () => {
    // 2006 do_unmap_single: nslots = ALIGN(size, 1 << IO_TLB_SHIFT) >> IO_TLB_SHIFT (from the caller);
    // modern swiotlb_release_slots: nr_slots(mem->slots[index].alloc_size).
    for (const era of ["2006", "modern"] as const) {
      const { m, dom0, dma } = identityDom0({ era, force: true, first: 0x1000 });
      const buf = dom0.alloc("8 KiB");
      const bus = dma.mapSingle(buf, 8192, "TO_DEVICE");
      dma.unmapSingle(bus, 2048, "TO_DEVICE");
      expect(poolOf(m).usedSlots).toBe(era === "2006" ? 3 : 0);
      expect(eventsOf(m.trace, "dma-debug").some((e) => e.code === "D3")).toBe(true);
    }
  });
});

describe("a full pool (modern swiotlb_tbl_map_single vs 2006 swiotlb_full)", () => {
  function fill(era: Era) {
    const { m, dom0, disk, dma } = identityDom0({ era, size: "256 KiB", force: true, first: 0x1000 });
    for (let i = 0; i < 8; i++) expect(dma.mappingError(dma.mapSingle(dom0.alloc("32 KiB"), 32 * KiB, "TO_DEVICE"))).toBe(false);
    return { m, dom0, disk, dma };
  }

  it("modern: DMA_MAPPING_ERROR with the kernel's dev_warn", () => {
    const { m, dom0, dma } = fill("modern");
    const bus = dma.mapSingle(dom0.alloc("4 KiB"), 4096, "TO_DEVICE");
    expect(bus).toBe(DMA_MAPPING_ERROR);
    expect(dma.mappingError(bus)).toBe(true);
    expect(eventsOf(m.trace, "mapping-error")[0]!.message).toMatch(
      /swiotlb buffer is full \(sz: 4096 bytes\), total 128 \(slots\), used 128 \(slots\)$/,
    );
  });

  it("2006: the 32 KiB io_tlb_overflow_buffer, which mappingError() recognises, and the device's DMA lands in it", () => {
    const { m, dom0, disk, dma } = fill("2006");
    const overflow = m.snapshot().swiotlb[0]!.overflowBuffer!;
    expect(overflow.bytes).toBe(32 * KiB);
    const bus = dma.mapSingle(dom0.alloc("4 KiB"), 4096, "FROM_DEVICE");
    expect(bus).toBe(overflow.busAddress);
    expect(bus).not.toBe(DMA_MAPPING_ERROR);
    expect(eventsOf(m.trace, "mapping-error")[0]!.message).toMatch(
      /DMA: Out of SW-IOMMU space for 4096 bytes at device sda; map_single returns the 32 KiB io_tlb_overflow_buffer$/,
    );
    expect(dma.mappingError(bus)).toBe(true);
    disk.write(bus, bytes("limits the damage"));
    expect(eventsOf(m.trace, "stray-dma")).toHaveLength(0);
    expect(text(dom0.read(overflow.address, 17))).toBe("limits the damage");
  });

  for (const [dir, message] of [
    ["FROM_DEVICE", "DMA: Memory would be corrupted"],
    ["BIDIRECTIONAL", "DMA: Memory would be corrupted"],
    ["TO_DEVICE", "DMA: Random memory would be DMAed"],
  ] as const) {
    it(`2006: above 32 KiB a ${dir} map panics "${message}"`, () => {
      const { m, dom0, dma } = fill("2006");
      const error = simError(() => dma.mapSingle(dom0.alloc("64 KiB"), 64 * KiB, dir));
      expect(error.code).toBe("KERNEL_PANIC");
      expect(error.message).toBe(message);
      expect(eventsOf(m.trace, "mapping-error")[0]!.message).toBe("DMA: Out of SW-IOMMU space for 65536 bytes at device sda");
      expect(m.halted).toBe(message);
    });
  }

  it("2006: map_sg does not panic — it unmaps what it mapped and returns 0", () => {
    // swiotlb_map_sg: "Don't panic here, we expect map_sg users to do proper error handling."
    const { m, dom0, dma } = identityDom0({ era: "2006", size: "256 KiB", force: true, first: 0x1000 });
    const entries = [0, 1, 2].map(() => ({ address: dom0.alloc("96 KiB"), length: 96 * KiB }));
    const result = dma.mapSg(entries, "TO_DEVICE");
    expect(result).toEqual({ count: 0, segments: [] });
    expect(m.halted).toBeUndefined();
    expect(poolOf(m).usedSlots).toBe(0);
    expect(eventsOf(m.trace, "mapping-error")[0]!.message).toMatch(/DMA: Out of SW-IOMMU space for 98304 bytes at device sda/);
  });

  it("cannot bounce more than 256 KiB: modern reports a full pool, 2006 panics", () => {
    const modern = identityDom0({ force: true, first: 0x1000 });
    const bus = modern.dma.mapSingle(modern.dom0.alloc("512 KiB"), 512 * KiB, "TO_DEVICE");
    expect(bus).toBe(DMA_MAPPING_ERROR);
    expect(eventsOf(modern.m.trace, "mapping-error")[0]!.message).toMatch(
      /swiotlb buffer is full \(sz: 524288 bytes\), total 512 \(slots\), used 0 \(slots\) \(no bounce buffer can exceed 256 KiB/,
    );
    const old = identityDom0({ era: "2006", force: true, first: 0x1000 });
    expect(simError(() => old.dma.mapSingle(old.dom0.alloc("512 KiB"), 512 * KiB, "TO_DEVICE")).message).toBe(
      "DMA: Random memory would be DMAed",
    );
  });
});

describe("a bounce buffer the device cannot reach either", () => {
  it('2006 panics "map_single: bounce buffer is not DMA\'ble"; modern releases the slots and fails', () => {
    for (const era of ["2006", "modern"] as const) {
      // 24-bit device, pool above 16 MiB (dom0 fills the first 32 MiB), swiotlb=force.
      const { m, dom0, dma } = identityDom0({ era, memory: "64 MiB", first: 0, pages: 8192, force: true, dmaMask: 24 });
      const buf = dom0.alloc("4 KiB");
      if (era === "2006") {
        expect(simError(() => dma.mapSingle(buf, 4096, "TO_DEVICE")).message).toBe("map_single: bounce buffer is not DMA'ble");
      } else {
        expect(dma.mapSingle(buf, 4096, "TO_DEVICE")).toBe(DMA_MAPPING_ERROR);
        expect(eventsOf(m.trace, "mapping-error")[0]!.message).toMatch(
          /swiotlb addr 0x2000000\+4096 overflow \(mask 0xffffff, bus limit 0\)$/,
        );
        expect(poolOf(m).usedSlots).toBe(0);
      }
    }
  });
});

describe("scatterlists and coherent memory", () => {
  it("maps each entry on its own and never merges, even adjacent entries", () => {
    // swiotlb_map_sg / dma_direct_map_sg: per entry, returns nelems.
    const { dom0, disk, dma } = identityDom0();
    const buf = dom0.alloc("16 KiB");
    const payload = pattern(16 * KiB, 5);
    dom0.write(buf, payload);
    const entries = [0, 1, 2, 3].map((i) => ({ address: buf + i * 4096, length: 4096 }));
    const mapped = dma.mapSg(entries, "TO_DEVICE");
    expect(mapped.count).toBe(4);
    const seen = new Uint8Array(16 * KiB);
    mapped.segments.forEach((s, i) => seen.set(disk.read(s.busAddress, s.length), i * 4096));
    expect(seen).toEqual(payload);
    dma.unmapSg(entries, "TO_DEVICE");
  });

  it("2006 falls back to pool slots for coherent memory the device cannot reach; modern returns NULL", () => {
    // 2006 swiotlb_alloc_coherent: `ret = map_single(hwdev, NULL, size, DMA_FROM_DEVICE)`, memset 0.
    for (const era of ["2006", "modern"] as const) {
      const { m, dma } = identityDom0({ era, memory: "64 MiB", first: 8192, pages: 4096, dmaMask: 24 });
      const coherent = dma.allocCoherent(8192);
      if (era === "modern") {
        expect(coherent).toBeNull();
        expect(eventsOf(m.trace, "mapping-error")[0]!.message).toMatch(
          /dma_direct_alloc: the free pages at 0x2000000 are beyond sda's 24-bit coherent mask/,
        );
        continue;
      }
      const pool = poolOf(m);
      expect(coherent!.cpuAddress).toBe(pool.address);
      expect(coherent!.busAddress).toBe(pool.address);
      expect(pool.usedSlots).toBe(4);
      dma.freeCoherent(8192, coherent!.cpuAddress, coherent!.busAddress);
      expect(pool.usedSlots).toBe(0);
    }
  });
});

describe("generic swiotlb outside P==M: pseudo-physical addresses handed to the device", () => {
  for (const mode of ["P2M", "VP"] as const) {
    it(`${mode}: the device is given guest-physical addresses, and its DMA lands in another domain's frames`, () => {
      const m = smallMachine({ swiotlb: { size: "256 KiB", force: true } });
      m.createDomain({ name: "domU1", mode: "P2M", layout: Array.from({ length: 32 }, (_, i) => i) });
      const dom0 = m.createDomain({ name: "dom0", mode, privileged: true, layout: [100, 101, 102, 103, 104, 105, 106, 107] });
      const disk = m.attachDevice({ name: "sda", domain: dom0 });
      const dma = dom0.dmaApi(disk, "swiotlb");
      const pool = m.snapshot().swiotlb[0]!;
      expect(pool.address).toBe(8 * 16 * KiB); // pfn 8, just above dom0's RAM
      expect(pool.frames[0]!.mfn).toBe(32); // but machine frame 32
      const buf = dom0.alloc("4 KiB");
      dom0.write(buf, "for the disk");
      const bus = dma.mapSingle(buf, 4096, "TO_DEVICE");
      expect(bus).toBe(pool.address); // phys_to_dma of the bounce slot: pseudo-physical
      expect(text(disk.read(bus, 12))).not.toBe("for the disk");
      const stray = eventsOf(m.trace, "stray-dma");
      expect(stray[0]!.victim).toBe("domU1");
      expect(stray[0]!.message).toMatch(/belongs to domU1 \(pfn 0x8\), not to dom0/);
      expect(eventsOf(m.trace, "hypercall")).toHaveLength(0); // generic swiotlb never asks Xen
      expect(eventsOf(m.trace, "translate")).toHaveLength(0);
    });
  }
});
