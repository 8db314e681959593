import { createMachine } from "dma-lab";
import type { BackendName, DmaApi, DomainMode } from "dma-lab";
// Muli (2006-01-20): the DMA-API implementation "would need to know to read the P2M table (P2M)
// or do nothing (P=M) or call into Xen to get the tanslation (VP without IOMMU) or call into
// Xen to establish an IOMMU mapping (VP w/ IOMMU)". The driver code stays the same.
const SIZE = 16 * 1024; // one ia64 page; try 32 * 1024
function driver(dma: DmaApi, buffer: number): number | null {
  const bus = dma.mapSingle(buffer, SIZE, "TO_DEVICE");
  if (dma.mappingError(bus)) return null; // a real driver would fail the request
  dma.device.read(bus, SIZE); // the device fetches the data
  dma.unmapSingle(bus, SIZE, "TO_DEVICE");
  return bus;
}

const answers: [DomainMode, BackendName][] = [
  ["P2M", "p2m"],
  ["P==M", "direct"],
  ["VP", "hypercall"],
  ["VP", "iommu"],
];
for (const [mode, backend] of answers) {
  const m = createMachine({ arch: "ia64", memory: "1 GiB" });
  const dom0 = m.createDomain({ name: "dom0", mode, memory: "256 MiB" });
  const disk = m.attachDevice({ name: "sda", domain: dom0, iommu: backend === "iommu" });
  dom0.alloc("1 MiB"); // memory the kernel already uses
  const buffer = dom0.alloc(SIZE);
  const bus = driver(dom0.dmaApi(disk, backend), buffer);
  const work = m.trace.filter((e) => ["translate", "hypercall", "iommu-map", "iotlb-flush"].includes(e.kind));
  console.log(
    `${mode.padEnd(4)} ${backend.padEnd(9)} buffer 0x${buffer.toString(16)} -> ${bus === null ? "mapping error" : `bus 0x${bus.toString(16)}`}` +
      ` (${work.map((e) => e.kind).join(", ") || "nothing to translate"}; ${m.stats().cost.total} cycles)`,
  );
}
