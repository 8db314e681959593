// kmap() and the two I/O paths that need it, where the thread predicted tagged foreign pages
// would break. Gerd Hoffmann (2006-01-25), answering Muli Ben-Yehuda's "Linux is never going to
// look at the page (kmap it)": "Depends. If it's actually DMA'ing directly it doesn't, which
// should be true in 99% of all cases. But there are some corner cases: If the block layer needs
// bounce buffers it will attempt to kmap() the page to copy the data. The same is true for
// drivers which don't DMA (floppy.c for example)."
// Kernel code pinned: 2.6.16 mm/highmem.c — __blk_queue_bounce copies a WRITE's data with
// `vfrom = kmap(from->bv_page) + from->bv_offset; memcpy(vto, vfrom, to->bv_len)`, and a READ's
// completion (bounce_end_io_read → copy_to_high_bio_irq) kmaps the original page to copy back.
import { describe, expect, it } from "vitest";
import { bounceForBlockLayer, finishBlockBounce, kmap, pioTransfer } from "../../src/sim/index.js";
import { bytes, eventsOf, simError, smallMachine, text } from "./helpers.js";

function backend(foreignPages: "map" | "tag") {
  const m = smallMachine();
  const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "1 MiB", foreignPages });
  const domU = m.createDomain({ name: "domU1", mode: "P2M", memory: "256 KiB" });
  domU.write(3 * m.pageSize, bytes("guest sector"));
  const mapping = dom0.mapGrant(domU, domU.grantAccess(3, dom0));
  return { m, dom0, domU, page: mapping.page!, mapping };
}

describe("kmap", () => {
  it("returns the CPU address of an ordinary page (lowmem: page_address) and records it", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "1 MiB" });
    const buf = dom0.alloc(m.pageSize);
    expect(dom0.kmap(dom0.page(dom0.pfnOf(buf)))).toBe(buf);
    expect(eventsOf(m.trace, "kmap").at(-1)!.message).toMatch(/lowmem: page_address/);
  });

  it("returns the address of a grant-mapped foreign page (map strategy)", () => {
    const { dom0, page, mapping } = backend("map");
    expect(kmap(dom0, page)).toBe(mapping.address);
  });

  it("fails for a tagged foreign page: no mapping exists for it", () => {
    const { m, dom0, page, mapping } = backend("tag");
    const error = simError(() => dom0.kmap(page));
    expect(error.code).toBe("KMAP_FAILED");
    expect(error.message).toMatch(
      new RegExp(`page->private = grant handle ${mapping.handle}\\); the foreign frame was never mapped into dom0's address space`),
    );
    const event = eventsOf(m.trace, "kmap").at(-1)!;
    expect(event.severity).toBe("error");
    expect(event.code).toBe("KMAP_FAILED");
  });

  it("rejects another domain's page and a page that no longer exists", () => {
    const { dom0, domU, mapping } = backend("map");
    expect(simError(() => dom0.kmap(domU.page(0))).message).toMatch(/is a page of domU1/);
    dom0.unmapGrant(mapping.handle);
    expect(simError(() => dom0.kmap(mapping.page!)).message).toMatch(/no struct page at pfn/);
  });
});

describe("block-layer bounce (blk_queue_bounce)", () => {
  it("map strategy, WRITE: the guest's data is copied into a bounce page, which the device then reads", () => {
    const { m, dom0, page } = backend("map");
    const bounce = bounceForBlockLayer(dom0, { page, offset: 0, length: 12 }, "TO_DEVICE");
    expect(dom0.isRam(bounce.page.pfn)).toBe(true);
    expect(eventsOf(m.trace, "bounce-copy")).toHaveLength(1);
    const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 64 });
    const dma = dom0.dmaApi(disk, "p2m");
    const bus = dma.mapPage(bounce.page, bounce.offset, bounce.length, "TO_DEVICE");
    expect(text(disk.read(bus, 12))).toBe("guest sector");
    dma.unmapPage(bus, 12, "TO_DEVICE");
    finishBlockBounce(dom0, bounce);
    expect(simError(() => finishBlockBounce(dom0, bounce)).message).toMatch(/not finished yet/);
  });

  it("map strategy, READ: what the device put in the bounce page reaches the guest at completion", () => {
    const { m, dom0, domU, page } = backend("map");
    const bounce = bounceForBlockLayer(dom0, { page, offset: 100, length: 4 }, "FROM_DEVICE");
    const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 64 });
    const dma = dom0.dmaApi(disk, "p2m");
    const bus = dma.mapPage(bounce.page, bounce.offset, 4, "FROM_DEVICE");
    disk.write(bus, bytes("read"));
    dma.unmapPage(bus, 4, "FROM_DEVICE");
    expect(text(domU.read(3 * m.pageSize + 100, 4))).not.toBe("read");
    finishBlockBounce(dom0, bounce);
    expect(text(domU.read(3 * m.pageSize + 100, 4))).toBe("read");
  });

  it("tag strategy, WRITE: the bounce fails at the kmap() of the source page, and the bounce page is given back", () => {
    const { m, dom0, page } = backend("tag");
    const error = simError(() => bounceForBlockLayer(dom0, { page, length: 512 }, "TO_DEVICE"));
    expect(error.code).toBe("KMAP_FAILED");
    expect(error.message).toMatch(/blk_queue_bounce: kmap\(pfn/);
    expect(eventsOf(m.trace, "bounce-copy")).toHaveLength(0);
    // The page taken for the bounce was freed: the allocator hands the same page out again.
    const bouncePage = eventsOf(m.trace, "alloc").at(-1)!.address!;
    expect(dom0.alloc(m.pageSize)).toBe(bouncePage);
  });

  it("tag strategy, READ: the DMA into the bounce page works, the copy back at completion fails", () => {
    const { m, dom0, domU, page } = backend("tag");
    const bounce = bounceForBlockLayer(dom0, { page, length: 4 }, "FROM_DEVICE");
    const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 64 });
    const dma = dom0.dmaApi(disk, "p2m");
    const bus = dma.mapPage(bounce.page, 0, 4, "FROM_DEVICE");
    disk.write(bus, bytes("lost"));
    dma.unmapPage(bus, 4, "FROM_DEVICE");
    const error = simError(() => finishBlockBounce(dom0, bounce));
    expect(error.code).toBe("KMAP_FAILED");
    expect(error.message).toMatch(/bounce_end_io_read: kmap/);
    expect(text(domU.read(3 * m.pageSize, 4))).toBe("gues");
  });

  it("refuses segments that leave their page and directions a bio does not have", () => {
    const { m, dom0, page } = backend("map");
    expect(simError(() => bounceForBlockLayer(dom0, { page, offset: 100, length: m.pageSize }, "TO_DEVICE")).message).toMatch(
      /segment\.length must be 1 to 16284 bytes/,
    );
    expect(simError(() => bounceForBlockLayer(dom0, { page, length: 8 }, "BIDIRECTIONAL")).code).toBe("INVALID_DIRECTION");
  });
});

describe("PIO driver (floppy.c-style: the CPU copies, no DMA)", () => {
  it("map strategy: the CPU moves the guest's data to the controller and the controller's data into the guest", () => {
    const { m, dom0, domU, page } = backend("map");
    const fd = m.attachDevice({ name: "fd0", domain: dom0, dmaMask: 24 });
    expect(text(pioTransfer(dom0, { page, length: 12 }, "TO_DEVICE", { device: fd }))).toBe("guest sector");
    pioTransfer(dom0, { page, offset: 512, length: 6 }, "FROM_DEVICE", { data: "floppy", device: fd });
    expect(text(domU.read(3 * m.pageSize + 512, 6))).toBe("floppy");
    const copies = eventsOf(m.trace, "cpu-copy");
    expect(copies).toHaveLength(2);
    expect(copies[0]!.cost).toBe(Math.round(12 * m.costs.memcpyPerByte)); // the trace keeps whole cycles
  });

  it("tag strategy: both directions fail with KMAP_FAILED, and the guest's page is untouched", () => {
    const { m, dom0, domU, page } = backend("tag");
    expect(simError(() => pioTransfer(dom0, { page, length: 12 }, "TO_DEVICE")).code).toBe("KMAP_FAILED");
    expect(simError(() => pioTransfer(dom0, { page, length: 6 }, "FROM_DEVICE", { data: "floppy" })).code).toBe("KMAP_FAILED");
    expect(text(domU.read(3 * m.pageSize, 6))).toBe("guest ");
    expect(eventsOf(m.trace, "cpu-copy")).toHaveLength(0);
  });

  it("needs exactly the segment's bytes for FROM_DEVICE", () => {
    const { dom0, page } = backend("map");
    expect(simError(() => pioTransfer(dom0, { page, length: 6 }, "FROM_DEVICE")).message).toMatch(/needs options\.data/);
    expect(simError(() => pioTransfer(dom0, { page, length: 6 }, "FROM_DEVICE", { data: [1, 2, 3] })).message).toMatch(
      /has 3 bytes but the segment is 6/,
    );
    expect(simError(() => pioTransfer(dom0, { page, length: 2 }, "FROM_DEVICE", { data: [1, 300] })).message).toMatch(
      /got 300 at data\[1\]/,
    );
  });
});

describe("meanwhile, DMA of the same tagged page works", () => {
  it("the DMA-API maps it from the grant, and the device reads the guest's data (Gerd: 'If it's actually DMA'ing directly it doesn't [kmap]')", () => {
    const { m, dom0, domU, page } = backend("tag");
    const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 64 });
    const dma = dom0.dmaApi(disk, "p2m");
    const bus = dma.mapPage(page, 0, 12, "TO_DEVICE");
    expect(dma.mappingError(bus)).toBe(false);
    expect(bus).toBe(domU.pfnToMfn(3)! * m.pageSize);
    expect(text(disk.read(bus, 12))).toBe("guest sector");
    dma.unmapPage(bus, 12, "TO_DEVICE");
    expect(eventsOf(m.trace, "kmap")).toHaveLength(0);
  });
});
