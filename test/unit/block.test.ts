// The block layer between blkback and the DMA-API (src/sim/block.ts). Behaviour pinned to:
// - xenified include/asm-i386/mach-xen/asm/io.h (2006): BIOVEC_PHYS_MERGEABLE requires the
//   machine AND pseudo-physical addresses to be contiguous; mainline drivers/xen/biomerge.c:
//   xen_biovec_phys_mergeable = __BIOVEC_PHYS_MERGEABLE && (mfn1 == mfn2 || mfn1 + 1 == mfn2);
// - 2.6.16 block/ll_rw_blk.c blk_rq_map_sg (max segment size, segment boundary) and
//   blk_queue_bounce_limit ("Assume anything <= 4GB can be handled by IOMMU" on 64-bit);
// - drivers/scsi/scsi_lib.c scsi_calculate_bounce_limit: `if (!PCI_DMA_BUS_IS_PHYS) return
//   BLK_BOUNCE_ANY;` else the host's dma_mask; mm/highmem.c blk_queue_bounce (kmap + memcpy);
// - 2.6.18 arch/x86_64/kernel/pci-nommu.c nommu_map_sg: dma_address = virt_to_bus(first byte),
//   dma_length = length (the first-frame mapping a Xen-unaware DMA layer does);
// - Gerd Hoffmann in the thread: "If the block layer needs bounce buffers it will attempt to
//   kmap() the page to copy the data."
import { describe, expect, it } from "vitest";
import { createMachine, SimError } from "../../src/sim/index.js";
import { createRequestQueue, SECTOR_SIZE } from "../../src/sim/block.js";
import { Disk } from "../../src/sim/scenarios/disk.js";
import { eventsOf, simError } from "./helpers.js";

const PAGE = 16384; // ia64

/** dom0 (P2M) whose pfns 0-1 are machine-contiguous (mfn 40, 41) and pfn 2 is not (mfn 90); domU1 owns mfn 42. */
function p2mSetup(options: { era?: "2006" | "modern"; backend?: "p2m" | "xen-swiotlb" | "iommu"; dom0Mode?: "P2M" | "VP" } = {}) {
  const m = createMachine({ arch: "ia64", memory: "64 MiB", era: options.era ?? "modern" });
  const layout = [40, 41, 90, ...Array.from({ length: 61 }, (_, i) => 100 + i)];
  const dom0 = m.createDomain({ name: "dom0", mode: options.dom0Mode ?? "P2M", layout, privileged: true });
  const domU = m.createDomain({ name: "domU1", mode: "VP", layout: [42, 43] });
  const backend = options.backend ?? (options.dom0Mode === "VP" ? "iommu" : "p2m");
  const sda = m.attachDevice({ name: "sda", domain: dom0, iommu: backend === "iommu" });
  const dma = dom0.dmaApi(sda, backend);
  return { m, dom0, domU, sda, dma };
}

const threePages = [{ address: 0, length: 3 * PAGE }];

describe("merging bio_vecs into segments", () => {
  it("merges pseudo-physically contiguous pages only while they are also machine-contiguous (Xen check on)", () => {
    const { m, dma } = p2mSetup();
    const q = createRequestQueue(dma);
    const rq = q.submit("write", 0, threePages);
    expect(rq.bvecs).toHaveLength(3);
    // pfn 0 → mfn 40 and pfn 1 → mfn 41 merge; pfn 2 → mfn 90 starts a new segment.
    expect(rq.segments).toEqual([
      { address: 0, length: 2 * PAGE },
      { address: 2 * PAGE, length: PAGE },
    ]);
    const verdicts = eventsOf(m.trace, "block")
      .filter((e) => e.code !== undefined)
      .map((e) => e.code);
    expect(verdicts).toEqual(["merged", "not-merged"]);
    expect(eventsOf(m.trace, "block").some((e) => /xen_biovec_phys_mergeable fails/.test(e.message))).toBe(true);
  });

  it("merges all three into one segment when the Xen check is off", () => {
    const { dma } = p2mSetup();
    const q = createRequestQueue(dma, { xenMergeCheck: false });
    expect(q.submit("write", 0, threePages).segments).toEqual([{ address: 0, length: 3 * PAGE }]);
  });

  it("never merges pages that are not pseudo-physically contiguous, check or no check", () => {
    const { dma } = p2mSetup();
    const q = createRequestQueue(dma, { xenMergeCheck: false });
    const rq = q.submit("write", 0, [
      { address: 0, length: PAGE },
      { address: 5 * PAGE, length: PAGE },
    ]);
    expect(rq.segments).toHaveLength(2);
  });

  it("pays for the machine-frame lookups the way the domain does: a p2m read in P2M, a hypercall in VP", () => {
    const p2m = p2mSetup();
    createRequestQueue(p2m.dma).submit("write", 0, threePages);
    const reads = eventsOf(p2m.m.trace, "translate").filter((e) => /xen_biovec_phys_mergeable/.test(e.message));
    expect(reads).toHaveLength(3);
    expect(reads.every((e) => e.cost === p2m.m.costs.p2mRead)).toBe(true);

    const vp = p2mSetup({ dom0Mode: "VP" });
    createRequestQueue(vp.dma).submit("write", 0, threePages);
    const calls = eventsOf(vp.m.trace, "hypercall").filter((e) => /xen_biovec_phys_mergeable/.test(e.message));
    expect(calls).toHaveLength(3);
    expect(calls[0]!.cost).toBe(vp.m.costs.hypercall);
  });

  it("costs nothing extra with the check off, and nothing in a P==M domain (pfn_to_mfn is the identity)", () => {
    const off = p2mSetup();
    createRequestQueue(off.dma, { xenMergeCheck: false }).submit("write", 0, threePages);
    expect(eventsOf(off.m.trace, "translate")).toHaveLength(0);

    const m = createMachine({ arch: "ia64", memory: "64 MiB" });
    const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "16 MiB" });
    const sda = m.attachDevice({ name: "sda", domain: dom0 });
    const rq = createRequestQueue(dom0.dmaApi(sda, "direct")).submit("write", 0, [{ address: dom0.pfnBase * PAGE, length: 4 * PAGE }]);
    expect(rq.segments).toHaveLength(1);
    expect(eventsOf(m.trace, "translate")).toHaveLength(0);
  });

  it("stops a segment at the device's max segment size (64 KiB by default)", () => {
    const m = createMachine({ arch: "ia64", memory: "64 MiB" });
    const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "16 MiB" });
    const sda = m.attachDevice({ name: "sda", domain: dom0 });
    const rq = createRequestQueue(dom0.dmaApi(sda, "direct")).submit("write", 0, [{ address: dom0.pfnBase * PAGE, length: 8 * PAGE }]);
    expect(rq.segments.map((s) => s.length)).toEqual([4 * PAGE, 4 * PAGE]);
  });

  it("splits a guest-physical range into per-page bio_vecs and keeps sub-page segments sector-granular", () => {
    const { dma } = p2mSetup();
    const q = createRequestQueue(dma);
    const rq = q.submit("write", 0, [{ address: PAGE - 1024, length: 2048 }]);
    expect(rq.bvecs.map((v) => [v.pfn, v.offset, v.length])).toEqual([
      [0, PAGE - 1024, 1024],
      [1, 0, 1024],
    ]);
    expect(rq.segments).toEqual([{ address: PAGE - 1024, length: 2048 }]);
  });
});

describe("the merged request on its way to the device", () => {
  it("reaches the right frames through dma_map_sg with the check on", () => {
    const { dom0, dma, sda } = p2mSetup();
    const q = createRequestQueue(dma);
    const data = Uint8Array.from({ length: 3 * PAGE }, (_, i) => (i * 13) & 0xff);
    dom0.write(0, data);
    const rq = q.submit("write", 0, threePages);
    const mapping = q.map(rq);
    expect(mapping.count).toBe(2);
    const disk = new Disk(sda);
    disk.transfer("write", 0, mapping.segments);
    q.complete(rq);
    expect(disk.readSectors(0, (3 * PAGE) / SECTOR_SIZE)).toEqual(data);
  });

  it("without the check, a Xen-unaware first-frame mapping DMAs into the wrong frame: the victim's", () => {
    // READ from disk: the device writes 3 pages starting at mfn 40, so its third page lands in mfn 42,
    // which is domU1's, instead of dom0's mfn 90.
    const { m, dom0, domU, dma, sda } = p2mSetup();
    domU.write(0, new Uint8Array(PAGE).fill(0x11));
    dom0.write(2 * PAGE, new Uint8Array(PAGE).fill(0x22));
    const q = createRequestQueue(dma, { xenMergeCheck: false, sgMapping: "first-frame" });
    const rq = q.submit("read", 0, threePages);
    const mapping = q.map(rq);
    expect(mapping.segments).toEqual([{ busAddress: 40 * PAGE, length: 3 * PAGE }]);
    const disk = new Disk(sda);
    disk.writeSectors(0, new Uint8Array(3 * PAGE).fill(0xd5));
    disk.transfer("read", 0, mapping.segments);
    q.complete(rq);
    const stray = eventsOf(m.trace, "stray-dma");
    expect(stray).toHaveLength(1);
    expect(stray[0]!.victim).toBe("domU1");
    expect(stray[0]!.machineAddress).toBe(42 * PAGE);
    expect(domU.read(0, 4)).toEqual(new Uint8Array(4).fill(0xd5)); // the victim's page was overwritten
    expect(dom0.read(2 * PAGE, 4)).toEqual(new Uint8Array(4).fill(0x22)); // the intended page never got the data
    // The second page, mfn 41, is dom0's own but no live mapping covers it: flagged too.
    expect(eventsOf(m.trace, "unmapped-dma").map((e) => e.machineAddress)).toEqual([41 * PAGE]);
  });

  it("without the check, dma_map_sg on the p2m backend refuses the segment (modern) or maps its first frame only (2006)", () => {
    const modern = p2mSetup();
    const q = createRequestQueue(modern.dma, { xenMergeCheck: false });
    const rq = q.submit("write", 0, threePages);
    expect(q.map(rq).count).toBe(0);
    expect(eventsOf(modern.m.trace, "mapping-error")[0]!.message).toMatch(/range_straddles_page_boundary/);
    q.complete(rq);
    expect(eventsOf(modern.m.trace, "block").at(-1)!.message).toMatch(/ended with an I\/O error/);

    // January 2006 pci-dma.c dma_map_sg (no swiotlb): dma_address = page_to_phys(page) + offset and
    // IOMMU_BUG_ON(address_needs_mapping) only, no straddling test (Sources: DMA that spans pages).
    // A READ of 3 pages from mfn 40 puts its third page in mfn 42, domU1's, not dom0's mfn 90.
    const old = p2mSetup({ era: "2006" });
    old.domU.write(0, new Uint8Array(PAGE).fill(0x11));
    const q2 = createRequestQueue(old.dma, { xenMergeCheck: false });
    const read = q2.submit("read", 0, threePages);
    const mapping = q2.map(read);
    expect(mapping.segments).toEqual([{ busAddress: 40 * PAGE, length: 3 * PAGE }]);
    expect(old.m.halted).toBeUndefined();
    const disk = new Disk(old.sda);
    disk.writeSectors(0, new Uint8Array(3 * PAGE).fill(0xd5));
    disk.transfer("read", 0, mapping.segments);
    q2.complete(read);
    expect(eventsOf(old.m.trace, "stray-dma").map((e) => e.victim)).toEqual(["domU1"]);
    expect(old.domU.read(0, 4)).toEqual(new Uint8Array(4).fill(0xd5));
  });

  it("in 2006, dma_map_sg on the p2m backend still BUGs on an entry beyond the mask, testing its first byte", () => {
    const m = createMachine({ arch: "ia64", memory: "64 MiB", era: "2006" });
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", layout: [100, 101, 102, 103], privileged: true });
    const sda = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 20 });
    const err = simError(() => dom0.dmaApi(sda, "p2m").mapSg([{ address: 0, length: PAGE }], "TO_DEVICE"));
    expect(err.code).toBe("KERNEL_PANIC");
    expect(err.message).toMatch(/Fatal DMA error! Please use 'swiotlb=force'/);
    expect(err.message).toMatch(/address_needs_mapping: dma_address 0x190000 is beyond sda's 20-bit mask/);
  });

  it("without the check, xen-swiotlb bounces the straddling segment and the data still arrives", () => {
    const { m, dom0, dma, sda } = p2mSetup({ backend: "xen-swiotlb" });
    const data = Uint8Array.from({ length: 3 * PAGE }, (_, i) => (i * 7) & 0xff);
    dom0.write(0, data);
    const q = createRequestQueue(dma, { xenMergeCheck: false });
    const rq = q.submit("write", 0, threePages);
    const mapping = q.map(rq);
    const disk = new Disk(sda);
    disk.transfer("write", 0, mapping.segments);
    q.complete(rq);
    expect(disk.readSectors(0, (3 * PAGE) / SECTOR_SIZE)).toEqual(data);
    expect(eventsOf(m.trace, "bounce-copy").length).toBeGreaterThan(0);
  });
});

describe("PCI_DMA_BUS_IS_PHYS and the block layer's own bounce", () => {
  /** era 2006, P==M dom0 of 64 MiB from machine frame 0, a 24-bit (16 MiB) disk. */
  function bounceSetup(backend: "direct" | "swiotlb" | "xen-swiotlb" | "iommu", dmaMask = 24, arch: "ia64" | "x86_64" = "ia64") {
    const m = createMachine({ arch, memory: "256 MiB", era: "2006" });
    const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "64 MiB" });
    const sda = m.attachDevice({ name: "sda", domain: dom0, dmaMask, iommu: backend === "iommu" });
    return { m, dom0, sda, dma: dom0.dmaApi(sda, backend) };
  }
  const high = 48 * 1024 * 1024; // above the 16 MiB a 24-bit device reaches

  it("bounces a page above the mask through a low page when the DMA-API is physical, copying a WRITE at once", () => {
    const { m, dom0, dma, sda } = bounceSetup("direct");
    const q = createRequestQueue(dma);
    expect(q.bounceLimit).toBe(2 ** 24 - 1);
    const data = Uint8Array.from({ length: PAGE }, (_, i) => (i * 3) & 0xff);
    dom0.write(high, data);
    const rq = q.submit("write", 0, [{ address: high, length: PAGE }]);
    expect(rq.bvecs[0]!.bouncedFrom).toBe(high);
    expect(rq.bvecs[0]!.address).toBeLessThan(2 ** 24);
    expect(eventsOf(m.trace, "bounce-copy")).toHaveLength(1);
    expect(eventsOf(m.trace, "kmap")).toHaveLength(1);
    const disk = new Disk(sda);
    disk.transfer("write", 0, q.map(rq).segments);
    q.complete(rq);
    expect(disk.readSectors(0, PAGE / SECTOR_SIZE)).toEqual(data);
  });

  it("copies a bounced READ back to the original page at completion (bounce_end_io_read)", () => {
    const { m, dom0, dma, sda } = bounceSetup("direct");
    const q = createRequestQueue(dma);
    const disk = new Disk(sda);
    const data = new Uint8Array(PAGE).fill(0x5a);
    disk.writeSectors(0, data);
    const rq = q.submit("read", 0, [{ address: high, length: PAGE }]);
    expect(eventsOf(m.trace, "bounce-copy")).toHaveLength(0); // nothing to copy before a read
    disk.transfer("read", 0, q.map(rq).segments);
    expect(dom0.read(high, 4)).toEqual(new Uint8Array(4)); // not yet: the data sits in the bounce page
    q.complete(rq);
    expect(dom0.read(high, PAGE)).toEqual(data);
  });

  it("never bounces on its own when PCI_DMA_BUS_IS_PHYS is 0 (Xen x86 with swiotlb, ia64 with an IOMMU): BLK_BOUNCE_ANY", () => {
    for (const [backend, arch] of [
      ["xen-swiotlb", "x86_64"],
      ["iommu", "ia64"],
    ] as const) {
      const { m, dma } = bounceSetup(backend, 24, arch);
      const q = createRequestQueue(dma);
      expect(q.bounceLimit).toBe(Infinity);
      const rq = q.submit("write", 0, [{ address: high, length: PAGE }]);
      expect(rq.bvecs[0]!.bouncedFrom).toBeUndefined();
      expect(eventsOf(m.trace, "block")[0]!.message).toMatch(/PCI_DMA_BUS_IS_PHYS is 0.*BLK_BOUNCE_ANY/);
    }
  });

  it("bounces in the block layer under ia64 swiotlb, whose PCI_DMA_BUS_IS_PHYS is still 1 (no merging IOMMU)", () => {
    const { m, dma } = bounceSetup("swiotlb");
    const q = createRequestQueue(dma);
    expect(q.bounceLimit).toBe(2 ** 24 - 1);
    const rq = q.submit("write", 0, [{ address: high, length: PAGE }]);
    expect(rq.bvecs[0]!.bouncedFrom).toBe(high);
    expect(eventsOf(m.trace, "kmap")).toHaveLength(1);
  });

  it("does not bounce for a mask of 32 bits or more on a 64-bit kernel, nor at all in the modern era", () => {
    const wide = bounceSetup("direct", 32);
    expect(createRequestQueue(wide.dma).bounceLimit).toBe(Infinity);
    const m = createMachine({ arch: "ia64", memory: "256 MiB" });
    const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "64 MiB" });
    const sda = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 24 });
    const q = createRequestQueue(dom0.dmaApi(sda, "direct"));
    expect(q.bounce).toBe("none");
    expect(q.bounceLimit).toBe(Infinity);
  });

  it("tests the pseudo-physical frame, so under P2M a low pfn on a high machine frame is not bounced and the DMA-API refuses it", () => {
    const m = createMachine({ arch: "ia64", memory: "256 MiB", era: "2006" });
    // pfn 0 sits on machine frame 8000 (125 MiB), beyond a 24-bit device.
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", layout: [8000, ...Array.from({ length: 63 }, (_, i) => 10 + i)] });
    const sda = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 24 });
    const q = createRequestQueue(dom0.dmaApi(sda, "p2m"));
    const rq = q.submit("write", 0, [{ address: 0, length: PAGE }]);
    expect(rq.bvecs[0]!.bouncedFrom).toBeUndefined();
    const err = simError(() => q.map(rq));
    expect(err.message).toMatch(/address_needs_mapping/);
  });

  it("cannot bounce a tagged foreign page: kmap() fails (WRITE at submit, READ at completion)", () => {
    const m = createMachine({ arch: "ia64", memory: "256 MiB", era: "2006" });
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "64 MiB", foreignPages: "tag" });
    const domU = m.createDomain({ name: "domU1", mode: "VP", memory: "16 MiB" });
    const sda = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 24 });
    const q = createRequestQueue(dom0.dmaApi(sda, "p2m"));
    const gref = domU.grantAccess(3, dom0);
    const g = dom0.mapGrant(domU, gref, { device: true });
    expect(g.page!.flags).toContain("foreign-tagged");
    // The tagged page's PFN is above dom0's 64 MiB of RAM, so above the 16 MiB bounce limit.
    const write = simError(() => q.submit("write", 0, [{ page: g.page!, offset: 0, length: PAGE }]));
    expect(write.code).toBe("KMAP_FAILED");
    expect(q.pending()).toHaveLength(0);

    const rq = q.submit("read", 0, [{ page: g.page!, offset: 0, length: PAGE }]);
    const disk = new Disk(sda);
    disk.transfer("read", 0, q.map(rq).segments);
    expect(simError(() => q.complete(rq)).code).toBe("KMAP_FAILED");
    expect(eventsOf(m.trace, "kmap").filter((e) => e.code === "KMAP_FAILED")).toHaveLength(2);
  });

  it("maps a tagged foreign page from its grant when no bounce is needed (the 99% case)", () => {
    const m = createMachine({ arch: "ia64", memory: "256 MiB", era: "2006" });
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "64 MiB", foreignPages: "tag" });
    const domU = m.createDomain({ name: "domU1", mode: "VP", memory: "16 MiB" });
    const sda = m.attachDevice({ name: "sda", domain: dom0 });
    const q = createRequestQueue(dom0.dmaApi(sda, "p2m"));
    const data = new Uint8Array(PAGE).fill(0x77);
    domU.write(3 * PAGE, data);
    const g = dom0.mapGrant(domU, domU.grantAccess(3, dom0, { readonly: true }), { device: true, readonly: true });
    const rq = q.submit("write", 0, [{ page: g.page!, offset: 0, length: PAGE }]);
    const disk = new Disk(sda);
    disk.transfer("write", 0, q.map(rq).segments);
    q.complete(rq);
    expect(disk.readSectors(0, PAGE / SECTOR_SIZE)).toEqual(data);
  });
});

describe("argument checks", () => {
  it("rejects bad segments, ops and options with SimErrors that name the field", () => {
    const { dma } = p2mSetup();
    const q = createRequestQueue(dma);
    expect(simError(() => q.submit("write", 0, [{ address: 0, length: 100 }])).field).toBe("segments[0].length");
    expect(simError(() => q.submit("write", 0, [{ address: 256, length: 512 }])).message).toMatch(/sector boundary/);
    expect(simError(() => q.submit("erase" as "read", 0, threePages)).field).toBe("op");
    expect(simError(() => q.submit("write", -1, threePages)).field).toBe("sector");
    expect(simError(() => q.submit("write", 0, [])).field).toBe("segments");
    expect(simError(() => createRequestQueue(dma, { xenMergeCheck: "yes" as unknown as boolean })).field).toBe("xenMergeCheck");
    expect(simError(() => createRequestQueue(dma, { bouncee: 1 } as never)).code).toBe("INVALID_CONFIG");
    const rq = q.submit("write", 0, threePages);
    q.map(rq);
    expect(simError(() => q.map(rq)).field).toBe("request");
    q.complete(rq);
    expect(simError(() => q.complete(rq))).toBeInstanceOf(SimError);
  });
});
