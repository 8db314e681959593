import { createMachine } from "dma-lab";
// Exercise: Dan's point. A P2M dom0 writes a 32 KiB block (two ia64 pages) to disk with one
// dma_map_single, and the mapping fails: the two pages are not machine-contiguous. Make the
// write reach the disk, keeping the p2m backend or choosing another one.
const m = createMachine({ arch: "ia64", memory: "1 GiB" });
const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "256 MiB" });
const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 32 });
const dma = dom0.dmaApi(disk, "p2m");
const SIZE = 32 * 1024;
const block = dom0.alloc(SIZE);
dom0.write(block, new Uint8Array(SIZE).fill(0x5a)); // the data to write

const bus = dma.mapSingle(block, SIZE, "TO_DEVICE");
if (dma.mappingError(bus)) {
  console.log("dma_map_single failed: the write is lost");
} else {
  const data = disk.read(bus, SIZE); // the disk fetches the whole block
  dma.unmapSingle(bus, SIZE, "TO_DEVICE");
  console.log(`the disk read ${data.filter((b) => b === 0x5a).length} of ${SIZE} bytes correctly`);
}
m.finish();
