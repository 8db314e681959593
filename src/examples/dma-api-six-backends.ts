import { createMachine, BACKEND_NAMES } from "dma-lab";
import type { EventKind } from "dma-lab";
// One 2-page buffer, mapped by each of the six DMA-API backends in the domain mode it is for.
const modeFor = { direct: "P==M", swiotlb: "P==M", p2m: "P2M", hypercall: "VP", "xen-swiotlb": "VP", iommu: "VP" } as const;
const SIZE = 32 * 1024; // two 16 KiB ia64 pages
const WORK: EventKind[] = ["translate", "hypercall", "bounce-copy", "iommu-map", "iotlb-flush"];

for (const backend of BACKEND_NAMES) {
  const m = createMachine({ arch: "ia64", memory: "1 GiB" });
  const dom0 = m.createDomain({ name: "dom0", mode: modeFor[backend], memory: "128 MiB" });
  const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 32, iommu: backend === "iommu" });
  const dma = dom0.dmaApi(disk, backend); // (xen-)swiotlb sets its bounce pool aside here
  dom0.alloc("1 MiB"); // memory the kernel already uses
  const buf = dom0.alloc(SIZE);
  dom0.write(buf, "two pages of data");
  const before = m.stats();
  const bus = dma.mapSingle(buf, SIZE, "TO_DEVICE");
  if (dma.mappingError(bus)) {
    const why = m.trace.find((e) => e.kind === "mapping-error")!.message;
    console.log(`${backend} (${dom0.mode}): mapping error: ${why.split("failed: ")[1].split(";")[0]}`);
    continue;
  }
  const got = new TextDecoder().decode(disk.read(bus, 17));
  dma.unmapSingle(bus, SIZE, "TO_DEVICE");
  const after = m.stats();
  const n = (k: EventKind) => (after.events[k] ?? 0) - (before.events[k] ?? 0);
  const work =
    WORK.filter((k) => n(k) > 0)
      .map((k) => `${n(k)} ${k}`)
      .join(", ") || "no translation";
  console.log(
    `${backend} (${dom0.mode}): bus 0x${bus.toString(16)}, disk read "${got}"; ${work}; ${after.cost.total - before.cost.total} cycles`,
  );
}
