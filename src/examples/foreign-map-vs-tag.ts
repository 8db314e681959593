import { createMachine, pioTransfer } from "dma-lab";
// blkback's job: let dom0's disk DMA into a page that domU granted. Two ways to get a struct page.
for (const strategy of ["map", "tag"] as const) {
  const m = createMachine({ arch: "ia64", memory: "1 GiB" });
  const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "256 MiB", foreignPages: strategy });
  const domU = m.createDomain({ name: "domU1", mode: "VP", memory: "128 MiB", privileged: false });
  const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 32 });
  const dma = dom0.dmaApi(disk, "p2m");

  const buf = domU.alloc("16 KiB"); // blkfront's I/O buffer
  const gref = domU.grantAccess(domU.pfnOf(buf), dom0);
  const g = dom0.mapGrant(domU, gref, { host: strategy === "map" }),
    page = g.page!; // "tag": no host map
  console.log(
    `${strategy}: struct page pfn 0x${page.pfn.toString(16)}, flags [${page.flags}], private ${page.private}, CPU address ${g.address === null ? "none" : `0x${g.address.toString(16)}`}`,
  );

  const bus = dma.mapPage(page, 0, 512, "FROM_DEVICE"); // a READ: disk -> domU's page
  disk.write(bus, new TextEncoder().encode("sector 0"));
  dma.unmapPage(bus, 512, "FROM_DEVICE");
  console.log(`  DMA to bus 0x${bus.toString(16)}; domU reads "${new TextDecoder().decode(domU.read(buf, 8))}"`);
  for (const e of m.trace.filter((e) => ["p2m-update", "translate", "hypercall"].includes(e.kind) || e.message.startsWith("PageForeign"))) {
    console.log(`  [${e.kind}] ${e.message}`);
  }
  try {
    const bytes = pioTransfer(dom0, { page, length: 8 }, "TO_DEVICE"); // floppy.c-style: the CPU copies
    console.log(`  PIO read "${new TextDecoder().decode(bytes)}" through kmap()`);
  } catch (e) {
    console.log(`  PIO: ${(e as Error).message}`);
  }
  dom0.unmapGrant(g.handle);
  domU.endAccess(gref);
}
