import { createMachine, createRequestQueue } from "dma-lab";
// Who bounces a page the disk cannot reach? 2006 kernels, a dom0 and a 28-bit (256 MiB) disk.
// PCI_DMA_BUS_IS_PHYS was the kernel's: ia64's is 1 unless a merging hardware IOMMU is present;
// Xen's x86 pci.h of January 2006 makes it 0 (every Xen x86 kernel with PCI had swiotlb built in).
// dom0's 512 MiB are one machine-contiguous block from 128 MiB: P==M on ia64 (PFN == MFN), a
// paravirtualised P2M dom0 on x86_64 (its PFNs start at 0).
const runs = [
  { arch: "ia64", backend: "direct" },
  { arch: "ia64", backend: "swiotlb" },
  { arch: "x86_64", backend: "xen-swiotlb" },
  { arch: "ia64", backend: "iommu" },
] as const;
for (const { arch, backend } of runs) {
  const m = createMachine({ arch, memory: "4 GiB", era: "2006" });
  const frames = (512 * 2 ** 20) / m.pageSize;
  const layout = Array.from({ length: frames }, (_, i) => frames / 4 + i);
  const dom0 = m.createDomain({ name: "dom0", mode: arch === "ia64" ? "P==M" : "P2M", layout });
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
    `${arch} ${backend}: PCI_DMA_BUS_IS_PHYS = ${dma.isPhys ? 1 : 0}; buffer at 0x${buf.toString(16)}; the disk reads "${seen}" at bus 0x${bus.toString(16)}`,
  );
  for (const e of m.trace.filter((e) => e.kind === "bounce-copy" || e.kind === "iommu-map")) console.log(`  [${e.kind}] ${e.message}`);
}
