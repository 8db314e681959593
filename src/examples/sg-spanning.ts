import { createMachine } from "dma-lab";
// Dan (2006-01-25): "a simple DMA may need to be translated into a scatter-gather".
// Muli: "You can use a HW IOMMU to map a scatter-gather list of machine pages into a contigous
// range in the IO space". A 3-page buffer of a VP dom0, handed over as one entry per page.
for (const backend of ["hypercall", "xen-swiotlb", "iommu"] as const) {
  const m = createMachine({ arch: "ia64", memory: "1 GiB" });
  const dom0 = m.createDomain({ name: "dom0", mode: "VP", memory: "128 MiB" });
  const nic = m.attachDevice({ name: "eth0", domain: dom0, iommu: backend === "iommu" });
  const dma = dom0.dmaApi(nic, backend);
  const buf = dom0.alloc("48 KiB");
  const sg = [0, 1, 2].map((i) => ({ address: buf + i * 16384, length: 16384 }));

  const single = dma.mapSingle(buf, 3 * 16384, "TO_DEVICE"); // one linear mapping first
  if (!dma.mappingError(single)) dma.unmapSingle(single, 3 * 16384, "TO_DEVICE");
  const { count, segments } = dma.mapSg(sg, "TO_DEVICE");
  const list = segments.map((s) => `0x${s.busAddress.toString(16)}+${s.length / 1024}K`).join(" ");
  console.log(`${backend}: mapSingle ${dma.mappingError(single) ? "fails" : "works"}; mapSg: 3 entries -> ${count} segment(s): ${list}`);
  dma.unmapSg(sg, "TO_DEVICE"); // with the ORIGINAL entries, as Linux requires
  const s = m.stats().events;
  console.log(`  ${s.hypercall ?? 0} hypercalls, ${s["bounce-copy"] ?? 0} bounce copies, ${s["iommu-map"] ?? 0} IOMMU PTEs written`);
}
