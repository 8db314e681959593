// Grant tables: the granter's v1 entries, Xen's map/unmap with maptrack handles, and the
// GNTST_* failures. Behaviour pinned to:
// - xen-project/xen xen/include/public/grant_table.h: entry { flags, domid, frame }, GTF_* and
//   GNTMAP_* bits, GNTST_* codes, "Invalidating an in-use GTF_permit_access entry: This cannot be
//   done directly", "After executing a batch of unmaps, it is guaranteed that no stale mappings
//   will remain in the device or host TLBs";
// - xen-project/xen xen/common/grant_table.c: map_grant_ref() and its log lines ("Bad ref %#x for
//   d%d", "Bad flags (%x) or dom (%d); expected d%d", "Attempt to write-pin a r/o grant entry",
//   "Could not find domain %d", "Bad flags in grant map op"), unmap_common() ("Zero flags for d%d
//   handle %#x", "Bus address doesn't match gntref" → GNTST_bad_dev_addr);
// - torvalds/linux drivers/xen/grant-table.c: gnttab_grant_foreign_access,
//   gnttab_end_foreign_access_ref ("WARNING: g.e. %#x still in use!").
import { describe, expect, it } from "vitest";
import { GNTST, GrantError, SimError } from "../../src/sim/index.js";
import type { Domain } from "../../src/sim/index.js";
import { bytes, eventsOf, simError, smallMachine, text } from "./helpers.js";

/** dom0 (P2M backend domain) and a guest with a known layout, on a 16 KiB-page ia64 machine. */
function setup(options: { domUMode?: "P2M" | "VP" | "P==M"; foreignPages?: "map" | "tag" } = {}) {
  const m = smallMachine();
  const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "1 MiB", foreignPages: options.foreignPages });
  const domU = m.createDomain({ name: "domU1", mode: options.domUMode ?? "P2M", memory: "256 KiB" });
  return { m, dom0, domU };
}

function grantError(fn: () => unknown): GrantError {
  const error = simError(fn);
  if (!(error instanceof GrantError)) throw new Error(`expected a GrantError, got ${error.code}: ${error.message}`);
  return error;
}

function entry(m: ReturnType<typeof smallMachine>, granter: Domain, gref: number) {
  return m.snapshot().grants.find((g) => g.domain === granter.name && g.gref === gref);
}

describe("grantAccess: the granter's v1 entry", () => {
  it("hands out gref 8 first (GNTTAB_NR_RESERVED_ENTRIES) and names the frame by MFN for a P2M guest", () => {
    const { m, dom0, domU } = setup();
    const gref = domU.grantAccess(3, dom0);
    expect(gref).toBe(8);
    const e = entry(m, domU, gref)!;
    expect(e.frame).toBe(domU.pfnToMfn(3));
    expect(e.flagNames).toEqual(["GTF_permit_access"]);
    expect(e.grantee).toBe("dom0");
    expect(eventsOf(m.trace, "grant").at(-1)!.message).toMatch(
      /gnttab_grant_foreign_access\(dom0 \(d0\), frame 0x[0-9a-f]+, read\/write\) = gref 0x8/,
    );
  });

  it("names the frame by PFN (gfn) for a VP guest, whose machine frames are hidden", () => {
    const { m, dom0, domU } = setup({ domUMode: "VP" });
    const gref = domU.grantAccess(5, dom0, { readonly: true });
    const e = entry(m, domU, gref)!;
    expect(e.frame).toBe(5);
    expect(e.flagNames).toEqual(["GTF_permit_access", "GTF_readonly"]);
  });

  it("rejects a pfn outside the guest's RAM, a self-grant and a grantee from nowhere", () => {
    const { dom0, domU } = setup();
    expect(simError(() => domU.grantAccess(999, dom0)).message).toMatch(/pfn must be a page of domU1's RAM \(pfn 0x0-0xf\), got 999/);
    expect(simError(() => domU.grantAccess(0, domU)).message).toMatch(/cannot grant to itself/);
    expect(simError(() => domU.grantAccess(0, {} as Domain)).code).toBe("INVALID_ARGUMENT");
    expect(simError(() => domU.grantAccess(0, dom0, { readonly: "yes" } as never)).message).toMatch(/readonly must be true or false/);
    expect(simError(() => domU.grantAccess(0, dom0, { ro: true } as never)).message).toMatch(/unknown option "ro"/);
  });
});

describe("mapGrant / unmapGrant: pins and the granter's status flags", () => {
  it("sets GTF_reading|GTF_writing while mapped writable and clears them at unmap (_set_status_v1, unmap_common_complete)", () => {
    const { m, dom0, domU } = setup();
    const gref = domU.grantAccess(2, dom0);
    const mapping = dom0.mapGrant(domU, gref);
    expect(entry(m, domU, gref)!.flagNames).toEqual(["GTF_permit_access", "GTF_reading", "GTF_writing"]);
    dom0.unmapGrant(mapping.handle);
    expect(entry(m, domU, gref)!.flagNames).toEqual(["GTF_permit_access"]);
  });

  it("a read-only mapping sets only GTF_reading", () => {
    const { m, dom0, domU } = setup();
    const gref = domU.grantAccess(2, dom0, { readonly: true });
    dom0.mapGrant(domU, gref, { readonly: true });
    expect(entry(m, domU, gref)!.flagNames).toEqual(["GTF_permit_access", "GTF_readonly", "GTF_reading"]);
  });

  it("lets the backend read and write the granted page through its host mapping", () => {
    const { dom0, domU } = setup();
    const pageSize = dom0.machine.pageSize;
    domU.write(4 * pageSize, bytes("sector 0 of domU1"));
    const mapping = dom0.mapGrant(domU, domU.grantAccess(4, dom0));
    expect(text(dom0.read(mapping.address!, 17))).toBe("sector 0 of domU1");
    dom0.write(mapping.address! + 100, bytes("from blkback"));
    expect(text(domU.read(4 * pageSize + 100, 12))).toBe("from blkback");
  });

  it("charges one grant hypercall per map and per unmap (costs.grantMap / grantUnmap)", () => {
    const { m, dom0, domU } = setup();
    const mapping = dom0.mapGrant(domU, domU.grantAccess(1, dom0));
    dom0.unmapGrant(mapping.handle);
    const [map] = eventsOf(m.trace, "grant-map");
    const [unmap] = eventsOf(m.trace, "grant-unmap");
    expect(map!.cost).toBe(m.costs.grantMap);
    expect(map!.code).toBe("GNTST_okay");
    expect(unmap!.cost).toBe(m.costs.grantUnmap);
    expect(m.stats().cost.byKind["grant-map"]).toBe(m.costs.grantMap);
  });

  it("allows the same domain to map one grant twice: two maptrack handles, pinned until both are unmapped", () => {
    const { m, dom0, domU } = setup();
    const gref = domU.grantAccess(0, dom0);
    const a = dom0.mapGrant(domU, gref);
    const b = dom0.mapGrant(domU, gref);
    expect(b.handle).not.toBe(a.handle);
    expect(b.address).not.toBe(a.address);
    dom0.unmapGrant(a.handle);
    expect(entry(m, domU, gref)!.flagNames).toContain("GTF_writing");
    expect(domU.endAccess(gref)).toBe(false);
    dom0.unmapGrant(b.handle);
    expect(domU.endAccess(gref)).toBe(true);
  });
});

describe("endAccess", () => {
  it("is refused while mapped, with Linux's warning, and works after the unmap", () => {
    const { m, dom0, domU } = setup();
    const gref = domU.grantAccess(7, dom0);
    const mapping = dom0.mapGrant(domU, gref);
    expect(domU.endAccess(gref)).toBe(false);
    const warning = eventsOf(m.trace, "grant").at(-1)!;
    expect(warning.message).toMatch(/^WARNING: g\.e\. 0x8 still in use!/);
    expect(warning.severity).toBe("warning");
    dom0.unmapGrant(mapping.handle);
    expect(domU.endAccess(gref)).toBe(true);
    expect(entry(m, domU, gref)).toBeUndefined();
    // gnttab's free list hands the freed reference out again.
    expect(domU.grantAccess(1, dom0)).toBe(gref);
  });

  it("rejects a reference that is not in use", () => {
    const { domU } = setup();
    expect(simError(() => domU.endAccess(8)).message).toMatch(/gref must be a grant reference domU1 handed out/);
  });

  it("after endAccess the grant can no longer be mapped", () => {
    const { dom0, domU } = setup();
    const gref = domU.grantAccess(7, dom0);
    domU.endAccess(gref);
    expect(grantError(() => dom0.mapGrant(domU, gref)).statusName).toBe("GNTST_general_error");
  });
});

describe("map failures carry Xen's GNTST_* status", () => {
  it('GNTST_bad_gntref for a ref beyond the table (map_grant_ref: "Bad ref %#x for d%d")', () => {
    const { m, dom0, domU } = setup();
    domU.grantAccess(0, dom0);
    const error = grantError(() => dom0.mapGrant(domU, 100000));
    expect(error).toBeInstanceOf(SimError);
    expect(error.code).toBe("GRANT_ERROR");
    expect(error.status).toBe(GNTST.bad_gntref);
    expect(error.status).toBe(-3);
    expect(error.message).toMatch(/GNTST_bad_gntref \(-3\): Bad ref 0x186a0 for d1/);
    const failed = eventsOf(m.trace, "grant-map").at(-1)!;
    expect(failed.severity).toBe("error");
    expect(failed.code).toBe("GNTST_bad_gntref");
    expect(failed.cost).toBe(m.costs.grantMap);
  });

  it('GNTST_general_error for an unused ref inside the table (_set_status_v1: "Bad flags ... or dom")', () => {
    const { dom0, domU } = setup();
    domU.grantAccess(0, dom0);
    expect(grantError(() => dom0.mapGrant(domU, 20)).message).toMatch(/Bad flags \(0x0\) or dom \(0\); expected d0/);
  });

  it("a grant made for another domain fails with GNTST_general_error, as Xen answers it (not permission_denied, which only XSM policy returns)", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "1 MiB" });
    const domU = m.createDomain({ name: "domU1", mode: "P2M", memory: "256 KiB" });
    const driver = m.createDomain({ name: "netdom", mode: "P2M", memory: "256 KiB", privileged: true });
    const gref = domU.grantAccess(0, dom0);
    const error = grantError(() => driver.mapGrant(domU, gref));
    expect(error.status).toBe(GNTST.general_error);
    expect(error.message).toMatch(/Bad flags \(0x1\) or dom \(0\); expected d2/);
    // Once dom0 has it pinned, Xen's first check is the active entry's domain.
    dom0.mapGrant(domU, gref);
    expect(grantError(() => driver.mapGrant(domU, gref)).message).toMatch(/Bad domain \(0 != 2\)/);
  });

  it('a writable map of a read-only grant fails ("Attempt to write-pin a r/o grant entry"); a read-only map works', () => {
    const { m, dom0, domU } = setup();
    const gref = domU.grantAccess(0, dom0, { readonly: true });
    const error = grantError(() => dom0.mapGrant(domU, gref));
    expect(error.status).toBe(GNTST.general_error);
    expect(error.message).toMatch(/Attempt to write-pin a r\/o grant entry/);
    // The failed attempt left no pin behind.
    expect(entry(m, domU, gref)!.flagNames).toEqual(["GTF_permit_access", "GTF_readonly"]);
    expect(dom0.mapGrant(domU, gref, { readonly: true }).readonly).toBe(true);
  });

  it('GNTST_bad_domain for a domid no domain has ("Could not find domain %d")', () => {
    const { dom0, domU } = setup();
    const gref = domU.grantAccess(0, dom0);
    const error = grantError(() => dom0.mapGrant(9, gref));
    expect(error.status).toBe(GNTST.bad_domain);
    expect(error.message).toMatch(/Could not find domain 9/);
    // A domid that exists works like the domain object.
    expect(dom0.mapGrant(domU.domid, gref).handle).toBe(0);
  });

  it('GNTST_bad_gntref for a map op with neither GNTMAP_host_map nor GNTMAP_device_map ("Bad flags in grant map op")', () => {
    const { dom0, domU } = setup();
    const gref = domU.grantAccess(0, dom0);
    const error = grantError(() => dom0.mapGrant(domU, gref, { host: false, device: false }));
    expect(error.status).toBe(GNTST.bad_gntref);
    expect(error.message).toMatch(/Bad flags in grant map op: 0x0/);
  });

  it("rejects arguments that are not a grant map op at all", () => {
    const { dom0, domU } = setup();
    expect(simError(() => dom0.mapGrant(domU, -1)).code).toBe("INVALID_ARGUMENT");
    expect(simError(() => dom0.mapGrant(1.5, 8)).message).toMatch(/granter must be a domain or a domid/);
    expect(simError(() => dom0.mapGrant(domU, 8, { hostmap: true } as never)).message).toMatch(/unknown option "hostmap"/);
    expect(simError(() => dom0.mapGrant(domU, 8, { device: "sda" } as never)).message).toMatch(/device must be true, false or a device/);
  });

  it("a device map through another domain's device is refused", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "1 MiB" });
    const domU = m.createDomain({ name: "domU1", mode: "P2M", memory: "256 KiB" });
    const drv = m.createDomain({ name: "drv", mode: "P2M", memory: "256 KiB", privileged: true });
    const nic = m.attachDevice({ name: "eth0", domain: drv });
    expect(simError(() => dom0.mapGrant(domU, domU.grantAccess(0, dom0), { device: nic })).message).toMatch(
      /eth0 belongs to drv, not dom0/,
    );
  });
});

describe("unmap failures", () => {
  it('GNTST_bad_handle for a handle never handed out, and for a second unmap ("Zero flags for d%d handle %#x")', () => {
    const { dom0, domU } = setup();
    const error = grantError(() => dom0.unmapGrant(5));
    expect(error.status).toBe(GNTST.bad_handle);
    expect(error.message).toMatch(/Zero flags for d0 handle 0x5/);
    const mapping = dom0.mapGrant(domU, domU.grantAccess(0, dom0));
    dom0.unmapGrant(mapping.handle);
    expect(grantError(() => dom0.unmapGrant(mapping.handle)).statusName).toBe("GNTST_bad_handle");
  });

  it("GNTST_bad_dev_addr when dev_bus_addr is not the mapping's (\"Bus address doesn't match gntref\"), leaving the mapping in place", () => {
    const { dom0, domU } = setup();
    const mapping = dom0.mapGrant(domU, domU.grantAccess(0, dom0));
    const error = grantError(() => dom0.unmapGrant(mapping.handle, { devBusAddress: mapping.devBusAddress! + 4096 }));
    expect(error.status).toBe(GNTST.bad_dev_addr);
    expect(error.message).toMatch(/Bus address doesn't match gntref/);
    dom0.unmapGrant(mapping.handle, { devBusAddress: mapping.devBusAddress! });
  });
});

describe("GNTMAP_device_map", () => {
  it("without an IOMMU, dev_bus_addr is the frame's machine address and the device may DMA there (mfn_to_maddr)", () => {
    const { m, dom0, domU } = setup();
    const disk = m.attachDevice({ name: "sda", domain: dom0 });
    const mapping = dom0.mapGrant(domU, domU.grantAccess(6, dom0));
    expect(mapping.devBusAddress).toBe(domU.pfnToMfn(6)! * m.pageSize);
    disk.write(mapping.devBusAddress!, bytes("block"));
    expect(text(domU.read(6 * m.pageSize, 5))).toBe("block");
    expect(eventsOf(m.trace, "stray-dma")).toHaveLength(0);
    // Once unmapped, the same DMA is a stray write into domU1's memory.
    dom0.unmapGrant(mapping.handle);
    disk.write(mapping.devBusAddress!, bytes("again"));
    expect(eventsOf(m.trace, "stray-dma")[0]!.victim).toBe("domU1");
  });

  it("without an IOMMU nothing stops a device writing a read-only granted frame: the write lands and is reported", () => {
    const { m, dom0, domU } = setup();
    const disk = m.attachDevice({ name: "sda", domain: dom0 });
    const mapping = dom0.mapGrant(domU, domU.grantAccess(6, dom0, { readonly: true }), { readonly: true });
    disk.write(mapping.devBusAddress!, bytes("oops"));
    expect(text(domU.read(6 * m.pageSize, 4))).toBe("oops");
    const report = eventsOf(m.trace, "stray-dma")[0]!;
    expect(report.code).toBe("GTF_readonly");
    expect(report.message).toMatch(/granted dom0 read-only \(GTF_readonly\): without an IOMMU nothing stops the device/);
    // Reading it is what the grant allows.
    disk.read(mapping.devBusAddress!, 4);
    expect(eventsOf(m.trace, "stray-dma")).toHaveLength(1);
  });

  it("behind an IOMMU, the device map installs an IOVA entry in the device's protection domain; a read-only one faults on write", () => {
    const { m, dom0, domU } = setup();
    const disk = m.attachDevice({ name: "sda", domain: dom0, iommu: true });
    const rw = dom0.mapGrant(domU, domU.grantAccess(1, dom0), { device: disk });
    expect(rw.devBusAddress).not.toBe(domU.pfnToMfn(1)! * m.pageSize);
    expect(eventsOf(m.trace, "iommu-map")).toHaveLength(1);
    disk.write(rw.devBusAddress!, bytes("through the IOMMU"));
    expect(text(domU.read(1 * m.pageSize, 17))).toBe("through the IOMMU");
    const ro = dom0.mapGrant(domU, domU.grantAccess(2, dom0, { readonly: true }), { device: disk, readonly: true });
    disk.write(ro.devBusAddress!, bytes("no"));
    expect(eventsOf(m.trace, "iommu-fault")[0]!.message).toMatch(/PTE Write access is not set/);
    expect(domU.read(2 * m.pageSize, 2)).toEqual(new Uint8Array(2));
  });

  it("behind a lazily invalidated IOMMU, a grant unmap still leaves no stale IOTLB entry (grant_table.h's guarantee)", () => {
    const { m, dom0, domU } = setup();
    const disk = m.attachDevice({ name: "sda", domain: dom0, iommu: { invalidation: "lazy" } });
    const mapping = dom0.mapGrant(domU, domU.grantAccess(3, dom0), { device: disk });
    disk.read(mapping.devBusAddress!, 8); // warms the IOTLB
    dom0.unmapGrant(mapping.handle);
    expect(eventsOf(m.trace, "iotlb-flush")).toHaveLength(1);
    disk.write(mapping.devBusAddress!, bytes("stale?"));
    expect(eventsOf(m.trace, "iotlb-stale")).toHaveLength(0);
    expect(eventsOf(m.trace, "iommu-fault")).toHaveLength(1);
    expect(domU.read(3 * m.pageSize, 6)).toEqual(new Uint8Array(6));
  });

  it("a grant unmap also flushes stale IOTLB entries a lazily unmapped DMA-API mapping of the frame left behind", () => {
    const { m, dom0, domU } = setup();
    const disk = m.attachDevice({ name: "sda", domain: dom0, iommu: { invalidation: "lazy" } });
    const mapping = dom0.mapGrant(domU, domU.grantAccess(3, dom0), { device: false });
    const dma = dom0.dmaApi(disk, "iommu");
    const bus = dma.mapPage(mapping.page!, 0, 8, "FROM_DEVICE");
    disk.write(bus, bytes("mapped!!"));
    dma.unmapPage(bus, 8, "FROM_DEVICE");
    // Lazy invalidation: the stale IOTLB entry still lets the device in (the frame is still granted).
    disk.write(bus, bytes("stale..."));
    expect(eventsOf(m.trace, "iotlb-stale")).toHaveLength(1);
    dom0.unmapGrant(mapping.handle);
    disk.write(bus, bytes("revoked?"));
    expect(eventsOf(m.trace, "iotlb-stale")).toHaveLength(1);
    expect(eventsOf(m.trace, "iommu-fault")).toHaveLength(1);
    expect(text(domU.read(3 * m.pageSize, 8))).toBe("stale...");
  });

  it('GNTST_no_device_space when the device\'s IOVA space is full ("no spare translation slot in the I/O MMU")', () => {
    const m = smallMachine({ arch: "x86_64", memory: "16 MiB" });
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "1 MiB" });
    const domU = m.createDomain({ name: "domU1", mode: "P2M", memory: "64 KiB" });
    // A 14-bit mask reaches 16 KiB: IOVA pages 1-3 (page 0 is never handed out).
    const disk = m.attachDevice({ name: "fd0", domain: dom0, dmaMask: 14, iommu: true });
    for (const pfn of [0, 1, 2]) dom0.mapGrant(domU, domU.grantAccess(pfn, dom0), { device: disk });
    const gref = domU.grantAccess(3, dom0);
    const error = grantError(() => dom0.mapGrant(domU, gref, { device: disk }));
    expect(error.status).toBe(GNTST.no_device_space);
    expect(error.status).toBe(-7);
    // Nothing stays pinned after the failure.
    expect(domU.endAccess(gref)).toBe(true);
  });
});

describe("snapshots", () => {
  it("list grant entries and live mappings as plain, structured-cloneable data", () => {
    const { m, dom0, domU } = setup();
    const disk = m.attachDevice({ name: "sda", domain: dom0, iommu: true });
    const gref = domU.grantAccess(2, dom0, { readonly: true });
    const mapping = dom0.mapGrant(domU, gref, { device: disk, readonly: true });
    const snap = structuredClone(m.snapshot());
    expect(snap.grants).toEqual([
      {
        domain: "domU1",
        gref,
        flags: 1 | 4 | 8,
        flagNames: ["GTF_permit_access", "GTF_readonly", "GTF_reading"],
        grantee: "dom0",
        frame: domU.pfnToMfn(2),
        pfn: 2,
        mfn: domU.pfnToMfn(2),
        hostPins: 1,
        devicePins: 1,
      },
    ]);
    expect(snap.foreignPages).toEqual([
      {
        domain: "dom0",
        handle: mapping.handle,
        granter: "domU1",
        gref,
        strategy: "map",
        pfn: mapping.page!.pfn,
        address: mapping.address,
        mfn: domU.pfnToMfn(2),
        readonly: true,
        host: true,
        devBusAddress: mapping.devBusAddress,
        device: "sda",
      },
    ]);
  });
});
