import { createMachine } from "dma-lab";
// Blkback's job in a VP dom0, which never sees machine addresses: a disk read for domU1.
// domU1 grants its I/O page, dom0 maps the grant, and the DMA-API asks Xen to program the IOMMU.
const m = createMachine({ arch: "ia64", memory: "2 GiB" });
const dom0 = m.createDomain({ name: "dom0", mode: "VP", memory: "512 MiB", privileged: true });
const domU = m.createDomain({ name: "domU1", mode: "VP", memory: "256 MiB" });
const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 64, iommu: true });
const dma = dom0.dmaApi(disk, "iommu");

const buf = domU.alloc("16 KiB"); // blkfront's I/O buffer
const gref = domU.grantAccess(domU.pfnOf(buf), dom0); // "dom0 may use this page"
const grant = dom0.mapGrant(domU, gref); // blkback maps the grant
const bus = dma.mapPage(grant.page!, 0, 4096, "FROM_DEVICE");
if (dma.mappingError(bus)) throw new Error("mapping failed");
console.log(`sda's bus address for domU1's page: 0x${bus.toString(16)}`);

disk.write(bus, new TextEncoder().encode("sector 42")); // the disk DMAs the data in
disk.write(bus + m.pageSize, new Uint8Array(64)); // a buggy driver: one page too far
dma.unmapPage(bus, 4096, "FROM_DEVICE");
dom0.unmapGrant(grant.handle);
domU.endAccess(gref);
console.log(`domU1 reads "${new TextDecoder().decode(domU.read(buf, 9))}"`);

// What did it cost, and what went wrong? See Trace, Stats and Picture below, or press
// Compare: "hypercall vs iommu" runs this without the IOMMU, where the bug is a stray DMA.
const { events, cost } = m.finish();
const count = (n = 0, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
console.log(
  `${count(events.hypercall, "hypercall")}, ${count(events["iommu-fault"], "IOMMU fault")}, ${events["stray-dma"] ?? 0} stray DMA, ${cost.total} cycles`,
);
