import { createMachine, createRequestQueue } from "dma-lab";
// Who bounces a page the disk cannot reach? A 2006 kernel, a P==M dom0 and a 28-bit (256 MiB) disk.
// dom0 is one contiguous block from 128 MiB (ia64 P==M: dom0_start, 16 KiB frames).
const layout = Array.from({ length: 32768 }, (_, i) => 8192 + i); // 512 MiB, PFN == MFN
for (const backend of ["direct", "swiotlb", "iommu"] as const) {
  const m = createMachine({ arch: "ia64", memory: "4 GiB", era: "2006" });
  const dom0 = m.createDomain({ name: "dom0", mode: "P==M", layout });
  const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 28, iommu: backend === "iommu" });
  const dma = dom0.dmaApi(disk, backend);
  const queue = createRequestQueue(dma); // era 2006: the block layer asks PCI_DMA_BUS_IS_PHYS
  const low = dom0.alloc("256 MiB"); // taken, so that the buffer lies above the disk's reach
  const buf = dom0.alloc("16 KiB");
  dom0.free(low);
  dom0.write(buf, "journal block");
  const rq = queue.submit("write", 0, [{ address: buf, length: 16384 }]);
  const bus = queue.map(rq).segments[0].busAddress;
  const seen = new TextDecoder().decode(disk.read(bus, 13));
  queue.complete(rq);
  console.log(
    `${backend}: PCI_DMA_BUS_IS_PHYS = ${dma.isPhys ? 1 : 0}; buffer at 0x${buf.toString(16)}; the disk reads "${seen}" at bus 0x${bus.toString(16)}`,
  );
  for (const e of m.trace.filter((e) => e.kind === "bounce-copy" || e.kind === "iommu-map")) console.log(`  [${e.kind}] ${e.message}`);
}
