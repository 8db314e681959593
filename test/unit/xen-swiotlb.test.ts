// xen-swiotlb, pinned to:
// - drivers/xen/swiotlb-xen.c (modern): xen_phys_to_bus, range_straddles_page_boundary,
//   xen_swiotlb_map_page, xen_swiotlb_unmap_page / is_xen_swiotlb_buffer, xen_swiotlb_map_sg,
//   xen_swiotlb_fixup, xen_swiotlb_alloc_coherent, xen_swiotlb_dma_supported;
// - the 2006 xenified copy arch/i386/kernel/swiotlb.c ("PCI-DMA:" messages, swiotlb=force that
//   "doesn't force its use for every DMA like it does on native Linux") and pci-dma-xen.c
//   (dma_alloc_coherent always calling xen_create_contiguous_region); in the Jan 2006 tree
//   (xen.git a365040987) they are linux-2.6-xen-sparse/arch/xen/i386/kernel/swiotlb.c and pci-dma.c;
// - arch/x86/xen/mmu_pv.c xen_create_contiguous_region (XENMEM_exchange).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createMachine, DMA_MAPPING_ERROR, EIO } from "../../src/sim/index.js";
import type { DomainMode, Era, Layout, MachineConfig } from "../../src/sim/index.js";
import { bytes, eventsOf, simError, text } from "./helpers.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const PAGE = 4096;
const pattern = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 17) % 253);
/** Byte equality without toEqual's per-element diffing (slow on 200 KiB buffers). */
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

/** x86_64 (4 KiB pages), dom0 with the given layout, one device, a xen-swiotlb DMA-API. */
function xenDom0(
  opts: {
    mode?: DomainMode;
    layout?: Layout;
    memory?: string;
    machine?: Partial<MachineConfig>;
    dmaMask?: number;
    domMemory?: string;
  } = {},
) {
  const m = createMachine({ arch: "x86_64", memory: opts.memory ?? "64 MiB", swiotlb: { size: "1 MiB" }, ...opts.machine });
  const dom0 = m.createDomain({ name: "dom0", mode: opts.mode ?? "P2M", layout: opts.layout, memory: opts.domMemory });
  const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: opts.dmaMask ?? 32 });
  const dma = dom0.dmaApi(disk, "xen-swiotlb");
  return { m, dom0, disk, dma, pool: m.swiotlbPools[0]! };
}

// pfn 0-2 → mfn 200-202 (contiguous), pfn 3-4 → mfn 300-301, pfn 5-15 → mfn 400-410.
const SPLIT_LAYOUT = [200, 201, 202, 300, 301, ...Array.from({ length: 11 }, (_, i) => 400 + i)];

describe("the pool, made machine-contiguous per 256 KiB segment by xen_swiotlb_fixup", () => {
  it("exchanges each 128-slot segment for a machine-contiguous run below 4 GiB, one XENMEM_exchange each", () => {
    // xen_swiotlb_fixup: for each IO_TLB_SEGSIZE slots, xen_create_contiguous_region(..., dma_bits)
    // with dma_bits from order + PAGE_SHIFT up to MAX_DMA_BITS 32.
    const m = createMachine({ arch: "x86_64", memory: "8 GiB", swiotlb: { size: "1 MiB" } });
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", layout: [0x180000, 5, 0x100000, 64, 65] });
    dom0.dmaApi(m.attachDevice({ name: "sda", domain: dom0 }), "xen-swiotlb");
    const pool = m.swiotlbPools[0]!;
    expect(pool.kind).toBe("xen-swiotlb");
    const exchanges = eventsOf(m.trace, "exchange");
    expect(exchanges).toHaveLength(4);
    expect(exchanges.every((e) => e.cost === m.costs.memoryExchange && e.bytes === 256 * KiB)).toBe(true);
    expect(exchanges[0]!.message).toMatch(
      /^xen_swiotlb_fixup: XENMEM_exchange \(xen_create_contiguous_region\) made dom0 pfn 0x5-0x44 \(swiotlb segment 0, 128 slots\) machine-contiguous at mfn 0x80-0xbf, below 2\^20$/,
    );
    const firstPfn = pool.address / PAGE;
    for (let s = 0; s < 4; s++) {
      const mfns = Array.from({ length: 64 }, (_, i) => dom0.pfnToMfn(firstPfn + s * 64 + i)!);
      expect(mfns.every((mfn, i) => mfn === mfns[0]! + i)).toBe(true);
      expect((mfns[63]! + 1) * PAGE).toBeLessThanOrEqual(4 * 1024 * MiB);
      expect(pool.segmentBus[s]).toBe(mfns[0]! * PAGE);
    }
    // Frames 5, 64 and 65 are dom0's RAM: 0-4 and 6-63 are too short. The free run from 66 holds
    // the segments, each at a multiple of 256 KiB (64 frames): xen_create_contiguous_region asks
    // XENMEM_exchange for one extent of the segment's order (linux.git arch/x86/xen/mmu_pv.c:
    // `xen_exchange_memory(1UL << order, 0, in_frames, 1, order, &out_frame, address_bits)`), and a
    // buddy allocator's extent of order n is aligned to 2^n frames.
    expect(pool.segmentBus).toEqual([0x80 * PAGE, 0xc0 * PAGE, 0x100 * PAGE, 0x140 * PAGE]);
    expect(pool.segmentBus.every((bus) => bus % (256 * KiB) === 0)).toBe(true);
    expect(dom0.memory).toBe(5 * PAGE);
  });

  it("keeps PFN == MFN in a P==M domain, with nothing to exchange, and maps directly at the identity address", () => {
    const { m, dom0, disk, dma, pool } = xenDom0({ mode: "P==M", domMemory: "16 MiB" });
    expect(eventsOf(m.trace, "exchange")).toHaveLength(0);
    expect(dom0.pfnToMfn(pool.address / PAGE)).toBe(pool.address / PAGE);
    expect(pool.address).toBe(16 * MiB);
    const buf = dom0.alloc("12 KiB");
    dom0.write(buf, "identity");
    const bus = dma.mapSingle(buf, 12 * KiB, "TO_DEVICE");
    expect(bus).toBe(buf);
    expect(text(disk.read(bus, 8))).toBe("identity");
    expect(eventsOf(m.trace, "bounce")).toHaveLength(0);
  });

  it("refuses with SWIOTLB_NO_ROOM when no 256 KiB machine-contiguous run is free, where generic swiotlb still fits", () => {
    const m = createMachine({ arch: "x86_64", memory: "32 MiB" });
    m.createDomain({ name: "domU1", mode: "P2M", layout: Array.from({ length: 4096 }, (_, i) => 2 * i) }); // every even frame
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", privileged: true, layout: Array.from({ length: 64 }, (_, i) => 2 * i + 1) });
    const disk = m.attachDevice({ name: "sda", domain: dom0 });
    const error = simError(() => dom0.dmaApi(disk, "xen-swiotlb"));
    expect(error.code).toBe("SWIOTLB_NO_ROOM");
    expect(error.message).toMatch(/the xen-swiotlb pool of dom0 needs 256 KiB of machine-contiguous 256 KiB segments below 4 GiB/);
    expect(eventsOf(m.trace, "exchange")).toHaveLength(0);
    expect(dom0.dmaApi(disk, "swiotlb").backend).toBe("swiotlb");
  });
});

describe("xen_swiotlb_map_page: direct when reachable and machine-contiguous, else bounce", () => {
  it("maps a machine-contiguous buffer directly at its machine address, one p2m read per page", () => {
    const { m, dom0, disk, dma } = xenDom0({ layout: SPLIT_LAYOUT });
    dom0.write(100, "straight to the disk");
    const bus = dma.mapSingle(100, 2 * PAGE, "BIDIRECTIONAL"); // pfn 0-2
    expect(bus).toBe(200 * PAGE + 100);
    const reads = eventsOf(m.trace, "translate");
    expect(reads).toHaveLength(3);
    expect(reads.every((e) => e.cost === m.costs.p2mRead)).toBe(true);
    expect(text(disk.read(bus, 20))).toBe("straight to the disk");
    disk.write(bus, bytes("DEVICE"));
    dma.unmapSingle(bus, 2 * PAGE, "BIDIRECTIONAL");
    // xen_swiotlb_unmap_page: not is_xen_swiotlb_buffer, so nothing is copied.
    expect(eventsOf(m.trace, "bounce")).toHaveLength(0);
    expect(eventsOf(m.trace, "bounce-copy")).toHaveLength(0);
    expect(text(dom0.read(100, 6))).toBe("DEVICE");
  });

  for (const mode of ["P2M", "VP"] as const) {
    it(`${mode}: bounces a buffer that straddles non-contiguous machine frames, and the bytes arrive intact both ways`, () => {
      // range_straddles_page_boundary: pfn_to_bfn(++xen_pfn) != ++next_bfn.
      const { m, dom0, disk, dma, pool } = xenDom0({ mode, layout: SPLIT_LAYOUT });
      const gpa = 3 * PAGE - 1000; // pfn 2 (mfn 202) and pfn 3 (mfn 300)
      const payload = pattern(3000);
      dom0.write(gpa, payload);
      const bus = dma.mapSingle(gpa, 3000, "TO_DEVICE");
      expect(dma.mappingError(bus)).toBe(false);
      expect(bus).toBe(pool.segmentBus[0]);
      expect(eventsOf(m.trace, "bounce")[0]!.message).toMatch(
        /range_straddles_page_boundary: dom0 pfn 0x2 → mfn 0xca but pfn 0x3 → mfn 0x12c/,
      );
      expect(disk.read(bus, 3000)).toEqual(payload);
      dma.unmapSingle(bus, 3000, "TO_DEVICE");
      const inBus = dma.mapSingle(gpa, 3000, "FROM_DEVICE");
      const reply = pattern(3000, 4);
      disk.write(inBus, reply);
      dma.unmapSingle(inBus, 3000, "FROM_DEVICE");
      expect(dom0.read(gpa, 3000)).toEqual(reply);
      expect(eventsOf(m.trace, "stray-dma")).toHaveLength(0);
      expect(eventsOf(m.trace, "unmapped-dma")).toHaveLength(0);
      // VP: machine addresses are hidden, every page is a hypercall; P2M reads its table.
      const kind = mode === "VP" ? "hypercall" : "translate";
      expect(eventsOf(m.trace, kind)).toHaveLength(4);
      expect(eventsOf(m.trace, kind)[0]!.cost).toBe(mode === "VP" ? m.costs.hypercall : m.costs.p2mRead);
      expect(eventsOf(m.trace, mode === "VP" ? "translate" : "hypercall")).toHaveLength(0);
    });
  }

  it("bounces a machine-contiguous buffer above 4 GiB for a 32-bit device", () => {
    const { m, dom0, disk, dma, pool } = xenDom0({ memory: "8 GiB", layout: Array.from({ length: 16 }, (_, i) => 0x100000 + i) });
    const payload = pattern(20000, 2);
    dom0.write(PAGE, payload);
    const bus = dma.mapSingle(PAGE, 20000, "TO_DEVICE");
    expect(eventsOf(m.trace, "bounce")[0]!.message).toMatch(/dma_capable fails: bus 0x100001000\+20000 is beyond sda's 32-bit mask/);
    expect(bus).toBe(pool.segmentBus[0]);
    expect(disk.read(bus, 20000)).toEqual(payload);
  });

  it("serves a 24-bit device when the pool sits below 16 MiB, and refuses the mask when it does not", () => {
    // xen_swiotlb_dma_supported: xen_phys_to_dma(default_swiotlb_limit()) <= mask.
    const high = [8192, 8200, 8193, 8300, 8301, 8302, 9000, 9001];
    const { dom0, disk, dma } = xenDom0({ layout: high, dmaMask: 24 });
    expect(dma.setMask(24)).toBe(0);
    const payload = pattern(5 * PAGE, 6);
    dom0.write(PAGE, payload);
    const bus = dma.mapSingle(PAGE, payload.length, "TO_DEVICE");
    expect(bus + payload.length).toBeLessThanOrEqual(16 * MiB);
    expect(disk.read(bus, payload.length)).toEqual(payload);
    const low = xenDom0({ layout: Array.from({ length: 8192 }, (_, i) => i) });
    expect(low.pool.lastBusAddress).toBeGreaterThan(32 * MiB);
    expect(low.dma.setMask(24)).toBe(EIO);
    expect(low.dma.setMask(32)).toBe(0);
  });

  it("releases the slots and fails when even the bounce buffer is beyond the mask", () => {
    // xen_swiotlb_map_page: `if (unlikely(!dma_capable(...))) { swiotlb_tbl_unmap_single(...,
    // attrs | DMA_ATTR_SKIP_CPU_SYNC); return DMA_MAPPING_ERROR; }`
    for (const era of ["2006", "modern"] as const) {
      const { m, dom0, dma, pool } = xenDom0({
        layout: Array.from({ length: 8192 }, (_, i) => i),
        dmaMask: 24,
        machine: { era, swiotlb: { size: "1 MiB" } },
      });
      const bus = dma.mapSingle(20 * MiB, PAGE, "TO_DEVICE");
      expect(dma.mappingError(bus)).toBe(true);
      expect(eventsOf(m.trace, "mapping-error")[0]!.message).toMatch(
        /the bounce buffer at bus 0x2000000\+4096 is not dma_capable for sda's 24-bit mask either/,
      );
      expect(pool.usedSlots).toBe(0);
      expect(dom0.memory).toBe(32 * MiB);
    }
  });

  it("modern bounces everything with swiotlb=force; the 2006 Xen copy's force does not", () => {
    // 2006 setup_io_tlb_npages: "'force' enables the swiotlb, but doesn't force its use for every
    // DMA like it does on native Linux"; modern: !is_swiotlb_force_bounce(dev).
    for (const era of ["2006", "modern"] as const) {
      const { m, dma } = xenDom0({ layout: SPLIT_LAYOUT, machine: { era, swiotlb: { size: "1 MiB", force: true } } });
      const bus = dma.mapSingle(0, PAGE, "TO_DEVICE");
      expect(bus === 200 * PAGE).toBe(era === "2006");
      expect(eventsOf(m.trace, "bounce")).toHaveLength(era === "2006" ? 0 : 1);
    }
  });

  it("delivers any buffer byte-identical in fragmented P2M and VP domains, and leaves the pool as free as before", () => {
    fc.assert(
      fc.property(
        fc.record({
          mode: fc.constantFrom<DomainMode>("P2M", "VP"),
          seed: fc.integer({ min: 1, max: 1_000_000 }),
          offset: fc.integer({ min: 0, max: 64 * KiB }),
          length: fc.integer({ min: 1, max: 160 * KiB }),
          era: fc.constantFrom<Era>("2006", "modern"),
          toDevice: fc.boolean(),
        }),
        ({ mode, seed, offset, length, era, toDevice }) => {
          const { m, dom0, disk, dma, pool } = xenDom0({ mode, domMemory: "2 MiB", machine: { seed, era, swiotlb: { size: "1 MiB" } } });
          const free = Array.from(pool.list);
          const data = pattern(length, seed);
          if (toDevice) dom0.write(offset, data);
          const dir = toDevice ? "TO_DEVICE" : "FROM_DEVICE";
          const bus = dma.mapSingle(offset, length, dir);
          expect(dma.mappingError(bus)).toBe(false);
          if (toDevice) expect(same(disk.read(bus, length), data)).toBe(true);
          else disk.write(bus, data);
          dma.unmapSingle(bus, length, dir);
          if (!toDevice) expect(same(dom0.read(offset, length), data)).toBe(true);
          expect(Array.from(pool.list)).toEqual(free);
          expect(eventsOf(m.trace, "stray-dma")).toHaveLength(0);
        },
      ),
      { numRuns: 80 },
    );
  });
});

describe("scatterlists (xen_swiotlb_map_sg)", () => {
  it("maps entry by entry, never merging: direct where it can, bounced where it must", () => {
    const { dom0, disk, dma, pool } = xenDom0({ layout: SPLIT_LAYOUT });
    const payload = pattern(4 * PAGE, 8);
    dom0.write(0, payload);
    const entries = [
      { address: 0, length: PAGE }, // pfn 0: direct
      { address: PAGE, length: PAGE }, // pfn 1: direct (adjacent to entry 0, still not merged)
      { address: 2 * PAGE, length: 2 * PAGE }, // pfn 2-3: straddles, bounced
    ];
    const mapped = dma.mapSg(entries, "TO_DEVICE");
    expect(mapped.count).toBe(3);
    expect(mapped.segments.map((s) => s.busAddress)).toEqual([200 * PAGE, 201 * PAGE, pool.segmentBus[0]]);
    const seen = new Uint8Array(4 * PAGE);
    mapped.segments.forEach((s, i) => seen.set(disk.read(s.busAddress, s.length), entries[i]!.address));
    expect(seen).toEqual(payload);
    dma.unmapSg(entries, "TO_DEVICE");
    expect(pool.usedSlots).toBe(0);
  });

  for (const era of ["2006", "modern"] as const) {
    it(`${era}: a failed map_sg unmaps the entries already mapped ${era === "modern" ? "with DMA_ATTR_SKIP_CPU_SYNC" : "copying FROM_DEVICE bounces back over the originals"} and returns 0`, () => {
      // modern: xen_swiotlb_unmap_sg(dev, sgl, i, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC), return -EIO;
      // 2006: swiotlb_unmap_sg(hwdev, sg - i, i, dir), whose unmap_single copies FROM_DEVICE back.
      // A 24-bit device: dom0's frames (at the top of 64 MiB) need mapping in both eras (2006
      // map_sg tests only the mask).
      const { m, dom0, dma, pool } = xenDom0({
        layout: "reverse",
        domMemory: "1 MiB",
        dmaMask: 24,
        machine: { era, swiotlb: { size: "256 KiB" } },
      });
      const entries = [0, 1, 2].map((i) => ({ address: i * 100 * KiB, length: 100 * KiB }));
      dom0.write(0, "precious original");
      const result = dma.mapSg(entries, "FROM_DEVICE");
      expect(result).toEqual({ count: 0, segments: [] });
      expect(pool.usedSlots).toBe(0);
      expect(m.halted).toBeUndefined();
      expect(eventsOf(m.trace, "mapping-error")[0]!.message).toMatch(
        era === "modern"
          ? /swiotlb buffer is full \(sz: 102400 bytes\), total 128 \(slots\), used 100 \(slots\)/
          : /PCI-DMA: Out of SW-IOMMU space for 102400 bytes at device sda/,
      );
      expect(text(dom0.read(0, 17))).toBe(era === "modern" ? "precious original" : "\0".repeat(17));
    });
  }
});

describe("a full pool", () => {
  function fill(era: Era) {
    const setup = xenDom0({ layout: "reverse", domMemory: "1 MiB", machine: { era, swiotlb: { size: "256 KiB" } } });
    for (let i = 0; i < 8; i++) expect(setup.dma.mappingError(setup.dma.mapSingle(i * 32 * KiB, 32 * KiB, "TO_DEVICE"))).toBe(false);
    return setup;
  }

  it('modern: DMA_MAPPING_ERROR after "swiotlb buffer is full"', () => {
    const { m, dma } = fill("modern");
    expect(dma.mapSingle(300 * KiB, 2 * PAGE, "TO_DEVICE")).toBe(DMA_MAPPING_ERROR);
    expect(eventsOf(m.trace, "mapping-error")[0]!.message).toMatch(
      /swiotlb buffer is full \(sz: 8192 bytes\), total 128 \(slots\), used 128 \(slots\)$/,
    );
  });

  it('2006: the xenified "PCI-DMA:" message and the overflow buffer\'s machine address, which mappingError() recognises', () => {
    const { m, dom0, dma, pool } = fill("2006");
    const bus = dma.mapSingle(300 * KiB, 2 * PAGE, "TO_DEVICE");
    expect(bus).toBe(pool.overflow!.busAddress);
    expect(bus).toBe(dom0.pfnToMfn(pool.overflow!.address / PAGE)! * PAGE);
    expect(dma.mappingError(bus)).toBe(true);
    expect(eventsOf(m.trace, "mapping-error")[0]!.message).toMatch(
      /^dma_map_single\(sda, 0x4b000, 8192, TO_DEVICE\) failed: PCI-DMA: Out of SW-IOMMU space for 8192 bytes at device sda/,
    );
    expect(simError(() => dma.mapSingle(400 * KiB, 64 * KiB, "FROM_DEVICE")).message).toBe("PCI-DMA: Memory would be corrupted");
  });
});

describe("coherent memory (xen_swiotlb_alloc_coherent; 2006 pci-dma-xen.c dma_alloc_coherent)", () => {
  it("modern exchanges only pages that straddle machine frames or lie beyond the mask", () => {
    const { m, dom0, disk, dma } = xenDom0({ layout: "reverse", domMemory: "1 MiB" });
    const one = dma.allocCoherent(PAGE)!;
    expect(eventsOf(m.trace, "exchange")).toHaveLength(4); // the pool's four segments only
    expect(one.busAddress).toBe(dom0.pfnToMfn(one.cpuAddress / PAGE)! * PAGE);
    const two = dma.allocCoherent(2 * PAGE)!;
    const exchange = eventsOf(m.trace, "exchange").at(-1)!;
    expect(exchange.message).toMatch(/^XENMEM_exchange \(xen_create_contiguous_region\)/);
    const pfn = two.cpuAddress / PAGE;
    expect(dom0.pfnToMfn(pfn + 1)).toBe(dom0.pfnToMfn(pfn)! + 1);
    expect(two.busAddress).toBe(dom0.pfnToMfn(pfn)! * PAGE);
    dom0.write(two.cpuAddress, "shared ring");
    expect(text(disk.read(two.busAddress, 11))).toBe("shared ring");
    dma.freeCoherent(2 * PAGE, two.cpuAddress, two.busAddress);
  });

  it("2006 makes every coherent allocation contiguous below 2^31, even a single page", () => {
    // Jan 2006 pci-dma.c dma_alloc_coherent: xen_create_contiguous_region(vstart, order, 31),
    // "Hardcode 31 address bits for now: aacraid limitation".
    const { m, dma } = xenDom0({ layout: "reverse", domMemory: "1 MiB", machine: { era: "2006", swiotlb: { size: "1 MiB" } } });
    dma.allocCoherent(PAGE);
    const exchanges = eventsOf(m.trace, "exchange");
    expect(exchanges).toHaveLength(2); // the pool's one, then this allocation's
    expect(exchanges[1]!.message).toMatch(/below 2\^31$/);
  });

  // The DMA-API promises coherent memory "aligned to the smallest PAGE_SIZE order which is greater
  // than or equal to the requested size" (linux.git Documentation/core-api/dma-api-howto.rst), and
  // xen_create_contiguous_region gets exactly that: one XENMEM_exchange extent of the order
  // (arch/x86/xen/mmu_pv.c `xen_exchange_memory(1UL << order, 0, in_frames, 1, order, ...)`).
  for (const era of ["2006", "modern"] as const) {
    it(`${era}: an exchanged coherent region is aligned to its size in machine memory`, () => {
      const { dma } = xenDom0({ layout: "reverse", domMemory: "1 MiB", machine: { era, swiotlb: { size: "1 MiB" } } });
      for (const size of [3 * PAGE, 8 * PAGE, 16 * PAGE]) {
        const region = dma.allocCoherent(size)!;
        const order = 2 ** Math.ceil(Math.log2(size / PAGE)) * PAGE;
        expect(region.busAddress % order).toBe(0);
        expect(region.cpuAddress % order).toBe(0);
      }
    });
  }

  it("p2m: xen_alloc_coherent's exchanged region is aligned to its size too", () => {
    const m = createMachine({ arch: "x86_64", memory: "64 MiB" });
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", layout: "reverse", memory: "1 MiB" });
    const dma = dom0.dmaApi(m.attachDevice({ name: "sda", domain: dom0 }), "p2m");
    const region = dma.allocCoherent(8 * PAGE)!;
    expect(eventsOf(m.trace, "exchange")).toHaveLength(1);
    expect(region.busAddress % (8 * PAGE)).toBe(0);
  });
});

// The xenified swiotlb of the thread's month: Jan 2006 tree (xen.git a365040987),
// linux-2.6-xen-sparse/arch/xen/i386/kernel/swiotlb.c swiotlb_init / swiotlb_init_with_default_size.
describe("era 2006: the whole pool in one exchange below 2^31", () => {
  it("dom0 on a machine under 2 GiB gets 2 MiB, machine-contiguous in one extent aligned to its size", () => {
    // "2MB on <2GB on systems"; "Hardcode 31 address bits for now: aacraid limitation."
    const m = createMachine({ arch: "x86_64", memory: "64 MiB", era: "2006" });
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", layout: "reverse", memory: "1 MiB" });
    dom0.dmaApi(m.attachDevice({ name: "sda", domain: dom0 }), "xen-swiotlb");
    const pool = m.swiotlbPools[0]!;
    expect(pool.bytes).toBe(2 * MiB);
    const exchanges = eventsOf(m.trace, "exchange");
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]!.bytes).toBe(2 * MiB);
    expect(exchanges[0]!.message).toMatch(
      /^swiotlb_init: XENMEM_exchange \(xen_create_contiguous_region, order 9\) made dom0 .* \(the whole 2 MiB aperture\) machine-contiguous at mfn .*, below 2\^31$/,
    );
    const first = pool.segmentBus[0]!;
    expect(first % (2 * MiB)).toBe(0);
    expect(pool.segmentBus).toEqual(pool.segmentBus.map((_, s) => first + s * 256 * KiB));
    expect(first + pool.bytes).toBeLessThanOrEqual(2 ** 31);
    expect(
      eventsOf(m.trace, "setup")
        .map((e) => e.message)
        .join("\n"),
    ).toMatch(/Software IO TLB enabled: Aperture: 2 megabytes/);
  });

  it("a bigger machine gets swiotlb_init's 64 MiB; a given size is rounded up to a power of two", () => {
    const big = createMachine({ arch: "x86_64", memory: "4 GiB", era: "2006" });
    const dom0 = big.createDomain({ name: "dom0", mode: "P2M", memory: "64 MiB" });
    dom0.dmaApi(big.attachDevice({ name: "sda", domain: dom0 }), "xen-swiotlb");
    expect(big.swiotlbPools[0]!.bytes).toBe(64 * MiB);
    expect(big.swiotlbPools[0]!.segmentBus[0]! % (64 * MiB)).toBe(0);
    const m = createMachine({ arch: "x86_64", memory: "64 MiB", era: "2006", swiotlb: { size: "768 KiB" } });
    const d = m.createDomain({ name: "dom0", mode: "P2M", memory: "1 MiB" });
    d.dmaApi(m.attachDevice({ name: "sda", domain: d }), "xen-swiotlb");
    expect(m.swiotlbPools[0]!.bytes).toBe(MiB);
    expect(eventsOf(m.trace, "setup").some((e) => /768 KiB rounded up to 1 MiB, a power of two/.test(e.message))).toBe(true);
  });

  it("the 2 MiB rule is dom0's: a domU's swiotlb (booted with swiotlb=force) keeps the 64 MiB default", () => {
    // swiotlb_init: the "2MB on <2GB" branch runs only `if (... xen_start_info->flags & SIF_INITDOMAIN)`.
    const m = createMachine({ arch: "x86_64", memory: "1 GiB", era: "2006" });
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "64 MiB" });
    const domU = m.createDomain({ name: "domU", mode: "P2M", memory: "64 MiB", privileged: true });
    dom0.dmaApi(m.attachDevice({ name: "sda", domain: dom0 }), "xen-swiotlb");
    domU.dmaApi(m.attachDevice({ name: "nic", domain: domU }), "xen-swiotlb");
    expect(m.swiotlbPools.map((p) => p.bytes)).toEqual([2 * MiB, 64 * MiB]);
  });

  it("panics when a bounce larger than the 32 KiB overflow buffer finds the pool full: both messages", () => {
    // swiotlb_full: "PCI-DMA: Memory would be corrupted" (FROM_DEVICE, BIDIRECTIONAL),
    // "PCI-DMA: Random memory would be DMAed" (TO_DEVICE).
    for (const [dir, message] of [
      ["FROM_DEVICE", "PCI-DMA: Memory would be corrupted"],
      ["TO_DEVICE", "PCI-DMA: Random memory would be DMAed"],
    ] as const) {
      const { dma } = xenDom0({ layout: "reverse", domMemory: "1 MiB", machine: { era: "2006", swiotlb: { size: "256 KiB" } } });
      for (let i = 0; i < 8; i++) dma.mapSingle(i * 32 * KiB, 32 * KiB, "TO_DEVICE");
      const error = simError(() => dma.mapSingle(400 * KiB, 64 * KiB, dir));
      expect(error.code).toBe("KERNEL_PANIC");
      expect(error.message).toBe(message);
    }
  });

  it("copies a FROM_DEVICE bounce only at unmap (modern also copies at map)", () => {
    // 2006 map_single: `if ((dir == DMA_TO_DEVICE) || (dir == DMA_BIDIRECTIONAL)) __sync_single(...)`.
    for (const era of ["2006", "modern"] as const) {
      const { m, dom0, dma } = xenDom0({ layout: "reverse", domMemory: "1 MiB", machine: { era, swiotlb: { size: "1 MiB" } } });
      dom0.write(0, pattern(2 * PAGE));
      const before = eventsOf(m.trace, "bounce-copy").length;
      const bus = dma.mapSingle(0, 2 * PAGE, "FROM_DEVICE");
      expect(eventsOf(m.trace, "bounce-copy").length - before).toBe(era === "2006" ? 0 : 1);
      dma.unmapSingle(bus, 2 * PAGE, "FROM_DEVICE");
      expect(eventsOf(m.trace, "bounce-copy").length - before).toBe(era === "2006" ? 1 : 2);
    }
  });

  it("map_sg tests the mask only: a straddling entry goes to the device unbounced (modern bounces it)", () => {
    // 2006 swiotlb_map_sg: `if (address_needs_mapping(hwdev, dev_addr))` only.
    for (const era of ["2006", "modern"] as const) {
      const { m, dma } = xenDom0({ layout: SPLIT_LAYOUT, machine: { era, swiotlb: { size: "1 MiB" } } });
      const sg = dma.mapSg([{ address: 2 * PAGE, length: 2 * PAGE }], "TO_DEVICE");
      expect(sg.count).toBe(1);
      expect(sg.segments[0]!.busAddress === 202 * PAGE).toBe(era === "2006");
      expect(eventsOf(m.trace, "bounce")).toHaveLength(era === "2006" ? 0 : 1);
    }
  });

  it("a dom0 using the p2m backend is a dom0 booted with swiotlb=off, and the trace says so", () => {
    const m = createMachine({ arch: "x86_64", memory: "64 MiB", era: "2006" });
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "1 MiB" });
    dom0.dmaApi(m.attachDevice({ name: "sda", domain: dom0 }), "p2m");
    expect(
      eventsOf(m.trace, "setup").some((e) => e.message.includes('"Domain 0 always has a swiotlb" unless booted with swiotlb=off')),
    ).toBe(true);
  });
});
