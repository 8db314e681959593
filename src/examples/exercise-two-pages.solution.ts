import { createMachine } from "dma-lab";
// Solution: split the block into one scatterlist entry per page (Dan: "a simple DMA may need to
// be translated into a scatter-gather"), so each piece is machine-contiguous, and let the disk
// walk the segments. Switching the backend to "xen-swiotlb" (a bounce) or an IOMMU also works.
const m = createMachine({ arch: "ia64", memory: "1 GiB" });
const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "256 MiB" });
const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 32 });
const dma = dom0.dmaApi(disk, "p2m");
const SIZE = 32 * 1024,
  PAGE = m.pageSize;
const block = dom0.alloc(SIZE);
dom0.write(block, new Uint8Array(SIZE).fill(0x5a)); // the data to write

const sg = Array.from({ length: SIZE / PAGE }, (_, i) => ({ address: block + i * PAGE, length: PAGE }));
const { count, segments } = dma.mapSg(sg, "TO_DEVICE");
if (count === 0) {
  console.log("dma_map_sg failed: the write is lost");
} else {
  let correct = 0;
  for (const s of segments) correct += disk.read(s.busAddress, s.length).filter((b) => b === 0x5a).length;
  dma.unmapSg(sg, "TO_DEVICE"); // the original entries, not count
  console.log(`${count} segments; the disk read ${correct} of ${SIZE} bytes correctly`);
}
m.finish();
