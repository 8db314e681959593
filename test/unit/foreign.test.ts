// Foreign pages: the two ways a backend domain gets a struct page for a frame a guest granted it.
// Behaviour pinned to:
// - the thread: Gerd Hoffmann (2006-01-25): "Right now the backend driver maps the foreign pages
//   into it's own address space just to have a valid 'struct page' it can pass down ... One
//   suggestion from the summit was to allocate some 'struct page' for foreign pages and tag them
//   somehow (new page flag + grant table handle in page->private maybe). The xenified kernel's DMA
//   mapping implementation can check the flag then and do the 'right thing'." — and Muli
//   Ben-Yehuda's objection: "struct page has a very specific meaning in Linux ... This requires
//   however that the struct page point to an actual physical page";
// - torvalds/linux include/xen/grant_table.h (xen_page_foreign: PageForeign + {domid, gref} in
//   page->private) and drivers/xen/grant-table.c gnttab_map_refs (SetPageForeign, then
//   set_foreign_p2m_mapping; pages must be ballooned out);
// - xen-project/xen xen/include/asm-ia64/grant_table.h: without CONFIG_XEN_IA64_DOM0_VP,
//   create_grant_host_mapping() evaluates to 0 (P==M: nothing is mapped).
import { describe, expect, it } from "vitest";
import { DMA_MAPPING_ERROR } from "../../src/sim/index.js";
import type { DomainMode } from "../../src/sim/index.js";
import { bytes, eventsOf, simError, smallMachine, text } from "./helpers.js";

function setup(mode: DomainMode, foreignPages: "map" | "tag", domULayout?: number[]) {
  const m = smallMachine();
  const dom0 = m.createDomain({ name: "dom0", mode, memory: "1 MiB", foreignPages });
  const domU = domULayout
    ? m.createDomain({ name: "domU1", mode: "P2M", layout: domULayout })
    : m.createDomain({ name: "domU1", mode: "P2M", memory: "256 KiB" });
  return { m, dom0, domU };
}

describe('foreignPages: "map"', () => {
  it("P2M: the frame enters dom0's p2m at a ballooned PFN (set_foreign_p2m_mapping) and the p2m backend DMAs to it", () => {
    const { m, dom0, domU } = setup("P2M", "map");
    domU.write(3 * m.pageSize, bytes("domU1 block data"));
    const mapping = dom0.mapGrant(domU, domU.grantAccess(3, dom0));
    const page = mapping.page!;
    expect(dom0.isRam(page.pfn)).toBe(false);
    expect(page.flags).toEqual(["foreign"]);
    expect(page.private).toBe(mapping.handle);
    expect(mapping.address).toBe(page.pfn * m.pageSize);
    expect(dom0.pfnToMfn(page.pfn)).toBe(domU.pfnToMfn(3));
    const update = eventsOf(m.trace, "p2m-update")[0]!;
    expect(update.message).toMatch(/set_foreign_p2m_mapping/);
    expect(update.cost).toBe(m.costs.p2mRead);

    const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 64 });
    const dma = dom0.dmaApi(disk, "p2m");
    const bus = dma.mapPage(page, 0, 16, "TO_DEVICE");
    expect(bus).toBe(domU.pfnToMfn(3)! * m.pageSize);
    expect(eventsOf(m.trace, "translate").at(-1)!.message).toMatch(/p2m read: dom0 pfn/);
    expect(text(disk.read(bus, 16))).toBe("domU1 block data");
    dma.unmapPage(bus, 16, "TO_DEVICE");
    expect(eventsOf(m.trace, "stray-dma")).toHaveLength(0);
  });

  it("P2M: unmapping clears the p2m entry and the struct page; the ballooned PFN is reused", () => {
    const { m, dom0, domU } = setup("P2M", "map");
    const first = dom0.mapGrant(domU, domU.grantAccess(0, dom0));
    dom0.unmapGrant(first.handle);
    expect(dom0.pfnToMfn(first.page!.pfn)).toBeUndefined();
    expect(simError(() => dom0.page(first.page!.pfn)).code).toBe("INVALID_ARGUMENT");
    expect(eventsOf(m.trace, "p2m-update").at(-1)!.message).toMatch(/clear_foreign_p2m_mapping/);
    expect(m.snapshot().domains[0]!.extra).toEqual([]);
    const second = dom0.mapGrant(domU, domU.grantAccess(1, dom0));
    expect(second.page!.pfn).toBe(first.page!.pfn);
  });

  it("VP: Xen installs the frame during the hypercall (no p2m write by dom0), and the DMA-API needs a hypercall to learn the machine address", () => {
    const { m, dom0, domU } = setup("VP", "map");
    domU.write(2 * m.pageSize, bytes("vp"));
    const mapping = dom0.mapGrant(domU, domU.grantAccess(2, dom0));
    expect(eventsOf(m.trace, "p2m-update")).toHaveLength(0);
    const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 64 });
    const dma = dom0.dmaApi(disk, "hypercall");
    const before = eventsOf(m.trace, "hypercall").length;
    const bus = dma.mapSingle(mapping.address!, 2, "TO_DEVICE");
    expect(eventsOf(m.trace, "hypercall").length - before).toBe(1);
    expect(text(disk.read(bus, 2))).toBe("vp");
  });

  it("P==M: create_grant_host_mapping is a stub; dom0's address of the frame IS its machine address, and direct DMA uses it", () => {
    const { m, dom0, domU } = setup("P==M", "map");
    domU.write(5 * m.pageSize, bytes("identity"));
    const mfn = domU.pfnToMfn(5)!;
    const mapping = dom0.mapGrant(domU, domU.grantAccess(5, dom0));
    expect(mapping.address).toBe(mfn * m.pageSize);
    expect(mapping.page!.pfn).toBe(mfn);
    expect(eventsOf(m.trace, "p2m-update")).toHaveLength(0);
    expect(eventsOf(m.trace, "grant").at(-1)!.message).toMatch(/stub that evaluates to 0 .* nothing isolates/);
    const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 64 });
    const bus = dom0.dmaApi(disk, "direct").mapPage(mapping.page!, 0, 8, "TO_DEVICE");
    expect(bus).toBe(mfn * m.pageSize);
    expect(text(disk.read(bus, 8))).toBe("identity");
    expect(eventsOf(m.trace, "stray-dma")).toHaveLength(0);
  });

  it("P==M: two mappings of one frame share its identity page until the last is unmapped", () => {
    const { m, dom0, domU } = setup("P==M", "map");
    const gref = domU.grantAccess(5, dom0);
    const a = dom0.mapGrant(domU, gref);
    const b = dom0.mapGrant(domU, gref);
    expect(b.page!.pfn).toBe(a.page!.pfn);
    dom0.unmapGrant(b.handle);
    expect(dom0.page(a.page!.pfn).private).toBe(a.handle);
    expect(dom0.read(a.address!, 1)).toHaveLength(1);
    dom0.unmapGrant(a.handle);
    expect(simError(() => dom0.read(a.address!, 1)).code).toBe("INVALID_ADDRESS");
    expect(m.snapshot().foreignPages).toEqual([]);
  });

  it("with the iommu backend, a read-only grant can be mapped for the device to read but not to write (Xen maps it IOMMUF_readable)", () => {
    const { m, dom0, domU } = setup("P2M", "map");
    const disk = m.attachDevice({ name: "sda", domain: dom0, iommu: true });
    const mapping = dom0.mapGrant(domU, domU.grantAccess(4, dom0, { readonly: true }), { readonly: true, device: false });
    const dma = dom0.dmaApi(disk, "iommu");
    expect(dma.mapPage(mapping.page!, 0, 512, "FROM_DEVICE")).toBe(DMA_MAPPING_ERROR);
    expect(eventsOf(m.trace, "mapping-error").at(-1)!.message).toMatch(
      /granted read-only: Xen will not install a device-writable IOMMU entry/,
    );
    expect(dma.mappingError(dma.mapPage(mapping.page!, 0, 512, "TO_DEVICE"))).toBe(false);
  });

  it("P==M: the shared identity page is writable while any of its mappings is", () => {
    const { m, dom0, domU } = setup("P==M", "map");
    const gref = domU.grantAccess(5, dom0);
    const rw = dom0.mapGrant(domU, gref);
    const ro = dom0.mapGrant(domU, gref, { readonly: true });
    dom0.write(ro.address!, bytes("ok"));
    dom0.unmapGrant(rw.handle);
    expect(simError(() => dom0.write(ro.address!, bytes("no"))).code).toBe("PAGE_FAULT");
    expect(text(domU.read(5 * m.pageSize, 2))).toBe("ok");
  });

  it("a read-only host mapping can be read but a CPU write faults (GNTMAP_readonly PTE)", () => {
    const { m, dom0, domU } = setup("P2M", "map");
    domU.write(4 * m.pageSize, bytes("ro"));
    const mapping = dom0.mapGrant(domU, domU.grantAccess(4, dom0, { readonly: true }), { readonly: true });
    expect(mapping.page!.flags).toEqual(["foreign", "grant-readonly"]);
    expect(text(dom0.read(mapping.address!, 2))).toBe("ro");
    const error = simError(() => dom0.write(mapping.address!, bytes("rw")));
    expect(error.code).toBe("PAGE_FAULT");
    expect(error.message).toMatch(/granted read-only/);
    expect(text(domU.read(4 * m.pageSize, 2))).toBe("ro");
  });
});

describe('foreignPages: "tag" (the summit\'s suggestion, relayed by Gerd)', () => {
  it("gives a struct page flagged foreign with the grant handle in page->private and no mapping at all", () => {
    const { m, dom0, domU } = setup("P2M", "tag");
    const mapping = dom0.mapGrant(domU, domU.grantAccess(3, dom0));
    expect(mapping.strategy).toBe("tag");
    expect(mapping.address).toBeNull();
    expect(mapping.page!.flags).toEqual(["foreign", "foreign-tagged"]);
    expect(mapping.page!.private).toBe(mapping.handle);
    expect(dom0.pfnToMfn(mapping.page!.pfn)).toBeUndefined();
    expect(eventsOf(m.trace, "p2m-update")).toHaveLength(0);
    // Muli: "Linux is never going to look at the page (kmap it)" — but a CPU access would need to.
    expect(simError(() => dom0.read(mapping.page!.pfn * m.pageSize, 1)).code).toBe("KMAP_FAILED");
  });

  it("refuses a host mapping: the strategy never maps foreign frames", () => {
    const { dom0, domU } = setup("P2M", "tag");
    expect(simError(() => dom0.mapGrant(domU, domU.grantAccess(0, dom0), { host: true })).message).toMatch(/never maps foreign frames/);
  });

  it("VP without an IOMMU: the DMA-API takes the bus address from the grant — no hypercall per page, unlike the map strategy", () => {
    const perStrategy = (["map", "tag"] as const).map((strategy) => {
      const { m, dom0, domU } = setup("VP", strategy);
      domU.write(6 * m.pageSize, bytes("payload"));
      const mapping = dom0.mapGrant(domU, domU.grantAccess(6, dom0));
      const dma = dom0.dmaApi(m.attachDevice({ name: "sda", domain: dom0, dmaMask: 64 }), "hypercall");
      const before = eventsOf(m.trace, "hypercall").length;
      const bus = dma.mapPage(mapping.page!, 0, 7, "TO_DEVICE");
      const hypercalls = eventsOf(m.trace, "hypercall").length - before;
      expect(bus).toBe(domU.pfnToMfn(6)! * m.pageSize);
      expect(text(dom0.machine.devices[0]!.read(bus, 7))).toBe("payload");
      return hypercalls;
    });
    expect(perStrategy).toEqual([1, 0]);
  });

  it("behind an IOMMU the DMA-API uses the IOVA Xen installed for the grant's device mapping", () => {
    const { m, dom0, domU } = setup("P2M", "tag");
    const disk = m.attachDevice({ name: "sda", domain: dom0, iommu: true });
    const mapping = dom0.mapGrant(domU, domU.grantAccess(2, dom0), { device: disk });
    const dma = dom0.dmaApi(disk, "iommu");
    const bus = dma.mapPage(mapping.page!, 100, 5, "FROM_DEVICE");
    expect(bus).toBe(mapping.devBusAddress! + 100);
    disk.write(bus, bytes("hello"));
    dma.unmapPage(bus, 5, "FROM_DEVICE");
    expect(text(domU.read(2 * m.pageSize + 100, 5))).toBe("hello");
    // The DMA-API did not program the IOMMU again: the only PTE is the grant's.
    expect(eventsOf(m.trace, "iommu-map")).toHaveLength(1);
  });

  it("a device behind another IOMMU domain gets a mapping error, not someone else's IOVA", () => {
    const { m, dom0, domU } = setup("P2M", "tag");
    const disk = m.attachDevice({ name: "sda", domain: dom0, iommu: true });
    const nic = m.attachDevice({ name: "eth0", domain: dom0, iommu: true });
    const mapping = dom0.mapGrant(domU, domU.grantAccess(2, dom0), { device: disk });
    const dma = dom0.dmaApi(nic, "iommu");
    expect(dma.mapPage(mapping.page!, 0, 64, "TO_DEVICE")).toBe(DMA_MAPPING_ERROR);
    expect(eventsOf(m.trace, "mapping-error").at(-1)!.message).toMatch(/pass device: eth0 to mapGrant/);
  });

  it("cannot be bounced: a frame beyond the device's mask is a mapping error, since a bounce is a CPU copy through kmap()", () => {
    // domU1's frames sit at 32 MiB, beyond a 24-bit (16 MiB) device.
    const { m, dom0, domU } = setup("P2M", "tag", [2048, 2049]);
    const mapping = dom0.mapGrant(domU, domU.grantAccess(0, dom0));
    const dma = dom0.dmaApi(m.attachDevice({ name: "hd", domain: dom0, dmaMask: 24 }), "p2m");
    expect(dma.mapPage(mapping.page!, 0, 512, "FROM_DEVICE")).toBe(DMA_MAPPING_ERROR);
    expect(eventsOf(m.trace, "mapping-error").at(-1)!.message).toMatch(/beyond hd's 24-bit mask, and it cannot be bounced: .*kmap\(\)/);
  });

  it("a scatterlist mixing tagged and ordinary pages maps each entry to its own segment, and unmaps cleanly", () => {
    const { m, dom0, domU } = setup("P2M", "tag");
    const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 64 });
    const dma = dom0.dmaApi(disk, "p2m");
    domU.write(1 * m.pageSize, bytes("guest"));
    const own = dom0.alloc(m.pageSize);
    dom0.write(own, bytes("dom0!"));
    const tagged = dom0.mapGrant(domU, domU.grantAccess(1, dom0));
    const entries = [
      { page: tagged.page!, offset: 0, length: 5 },
      { address: own, length: 5 },
    ];
    const mapped = dma.mapSg(entries, "TO_DEVICE");
    expect(mapped.count).toBe(2);
    expect(mapped.segments[0]!.busAddress).toBe(domU.pfnToMfn(1)! * m.pageSize);
    expect(text(disk.read(mapped.segments[0]!.busAddress, 5))).toBe("guest");
    expect(text(disk.read(mapped.segments[1]!.busAddress, 5))).toBe("dom0!");
    dma.unmapSg(entries, "TO_DEVICE");
    m.finish();
    expect(eventsOf(m.trace, "dma-debug")).toHaveLength(0);
    expect(eventsOf(m.trace, "stray-dma")).toHaveLength(0);
  });

  it('is selected per backend domain, and only "map" or "tag" are accepted', () => {
    const m = smallMachine();
    expect(simError(() => m.createDomain({ name: "dom0", mode: "P2M", memory: "1 MiB", foreignPages: "copy" as never })).message).toBe(
      'domain dom0: foreignPages must be "map" or "tag", got "copy"',
    );
    expect(m.createDomain({ name: "dom0", mode: "P2M", memory: "1 MiB" }).foreignPages).toBe("map");
    expect(m.createDomain({ name: "drv", mode: "VP", memory: "1 MiB", foreignPages: "tag" }).foreignPages).toBe("tag");
  });
});
