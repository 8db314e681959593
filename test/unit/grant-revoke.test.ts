// Unmapping a grant revokes the device's way to the frame even while a DMA-API mapping of it is
// still live: Xen's unmap_common removes the frame from the mapper's IOMMU (iommu_legacy_unmap)
// once no mapping of it is left, and grant_table.h promises "no stale mappings will remain in the
// device or host TLBs" after an unmap batch.
import { describe, expect, it } from "vitest";
import { bytes, eventsOf, smallMachine } from "./helpers.js";

describe("grant unmap with a DMA mapping still live (iommu backend)", () => {
  for (const invalidation of ["strict", "lazy"] as const) {
    it(`the device faults afterwards instead of writing the domU's frame (${invalidation})`, () => {
      const m = smallMachine();
      const dom0 = m.createDomain({ name: "dom0", mode: "VP", memory: "1 MiB" });
      const domU = m.createDomain({ name: "domU1", mode: "P2M", memory: "256 KiB" });
      const disk = m.attachDevice({ name: "sda", domain: dom0, iommu: { invalidation } });
      const dma = dom0.dmaApi(disk, "iommu");
      domU.write(2 * m.pageSize, bytes("guest data"));
      const grant = dom0.mapGrant(domU, domU.grantAccess(2, dom0), { device: false });
      const bus = dma.mapPage(grant.page!, 0, 64, "BIDIRECTIONAL");
      disk.read(bus, 8); // warm the IOTLB: a stale entry is what the revoke must also kill
      dom0.unmapGrant(grant.handle);
      disk.write(bus, bytes("evil"));
      expect(eventsOf(m.trace, "iommu-fault")).toHaveLength(1);
      expect(eventsOf(m.trace, "iotlb-stale")).toHaveLength(0);
      expect(new TextDecoder().decode(domU.read(2 * m.pageSize, 10))).toBe("guest data");
    });
  }
});

describe("grant mappings left at the end of the run", () => {
  it("finish() names the backend domain that still holds them", () => {
    const m = smallMachine();
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "1 MiB" });
    const domU = m.createDomain({ name: "domU1", mode: "P2M", memory: "256 KiB" });
    const kept = dom0.mapGrant(domU, domU.grantAccess(1, dom0));
    dom0.unmapGrant(dom0.mapGrant(domU, domU.grantAccess(2, dom0)).handle);
    m.finish();
    const leaks = eventsOf(m.trace, "grant").filter((e) => e.code === "GRANT_LEAK");
    expect(leaks).toHaveLength(1);
    expect(leaks[0]!.message).toMatch(new RegExp(`dom0 still holds 1 grant mapping .*handle ${kept.handle}: domU1 gref`));
  });
});
