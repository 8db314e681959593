import { createMachine, SimError } from "dma-lab";
// Every option of createMachine, createDomain, attachDevice and dmaApi in use, then the
// SimError a few wrong ones throw: a stable code, the field at fault, and what is allowed.
const m = createMachine({
  arch: "x86_64", // 4 KiB pages
  memory: "2 GiB",
  era: "2006",
  hypervisor: "xen",
  swiotlb: { size: "4 MiB", force: false },
  xenMemory: "64 MiB",
  debug: true,
  costs: { hypercall: 3000 },
  seed: 7,
  limits: { storage: "64 MiB", traceEvents: 10_000, transfer: "16 MiB" },
});
const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "256 MiB", foreignPages: "map" });
const domU = m.createDomain({ name: "domU1", mode: "VP", memory: "128 MiB", layout: "reverse" });
const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 32, driver: "ata_piix", maxSegmentSize: "64 KiB" });
const nic = m.attachDevice({ name: "eth0", domain: dom0, dmaMask: 64, iommu: { invalidation: "lazy", group: "bridge0" } });
const dma = dom0.dmaApi(disk, "xen-swiotlb");
console.log(`pages of ${m.pageSize} bytes; dom0 privileged: ${dom0.privileged}, domU1 privileged: ${domU.privileged}`);
console.log(`largest xen-swiotlb mapping: ${dma.maxMappingSize()} bytes; eth0 behind the IOMMU: ${nic.dmaMask}-bit`);

const mistakes = [
  () => createMachine({ memory: "4 GB" }),
  () => createMachine({ memory: "1 GiB", pageSize: 3000 }),
  () => m.createDomain({ name: "domU2", mode: "P==M", memory: "64 MiB", layout: "fragmented" }),
  () => m.attachDevice({ name: "hdb", domain: domU }),
  () => dom0.dmaApi(disk, "swiotlb-xen" as never),
  () => dom0.dmaApi(disk, "iommu"),
];
for (const mistake of mistakes) {
  try {
    mistake();
  } catch (e) {
    if (!(e instanceof SimError)) throw e;
    console.log(`${e.code} (${e.field}): ${e.message}`);
  }
}
