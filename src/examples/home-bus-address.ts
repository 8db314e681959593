import { createMachine } from "dma-lab";
// A VP dom0 writes one 16 KiB page to its disk, once per DMA-API implementation.
// Which ones get the disk to the right bytes? Then try mode: "P2M" or "P==M".
const m = createMachine({ arch: "ia64", memory: "1 GiB" });
const dom0 = m.createDomain({ name: "dom0", mode: "VP", memory: "64 MiB" });
for (const backend of ["p2m", "direct", "hypercall", "iommu"] as const) {
  const disk = m.attachDevice({ name: `sda-${backend}`, domain: dom0, iommu: backend === "iommu" });
  const page = dom0.alloc("16 KiB");
  dom0.write(page, "hello, disk");
  try {
    const dma = dom0.dmaApi(disk, backend);
    const bus = dma.mapSingle(page, 16384, "TO_DEVICE");
    const seen = new TextDecoder().decode(disk.read(bus, 11));
    const verdict = seen === "hello, disk" ? `reads "${seen}"` : "reads another frame's bytes";
    console.log(`${backend}: bus address 0x${bus.toString(16)}, the disk ${verdict}`);
  } catch (e) {
    console.log(`${backend}: ${(e as Error).message}`);
  }
}
