import { blkbackRoundTrip } from "dma-lab";
// Solution: map the foreign page into dom0 (what backends do, and what mainline Linux still
// does): the block layer's bounce can then kmap() it. A VP dom0 with an IOMMU ("iommu" backend,
// dom0Mode "VP") also works: PCI_DMA_BUS_IS_PHYS is 0 and the block layer never bounces.
const r = blkbackRoundTrip({
  machine: { arch: "ia64", memory: "512 MiB", era: "2006" },
  dom0Memory: "64 MiB",
  domUMemory: "64 MiB",
  backend: "p2m",
  foreignPages: "map",
  dmaMask: 24,
  sectors: 8,
});
console.log(r.ok ? "the data reached the disk" : `FAILED: ${r.errors.map((e) => e.code).join(", ")}`);
for (const e of r.trace.filter((e) => e.kind === "kmap" || e.kind === "bounce-copy")) console.log(`[${e.kind}] ${e.message}`);
