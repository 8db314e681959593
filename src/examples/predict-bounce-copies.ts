import { createMachine } from "dma-lab";
// A 32 KiB receive buffer of a P2M dom0 spans two pages that are not machine-contiguous, so
// xen-swiotlb bounces it. The NIC writes a packet into it; the driver unmaps it and reads it.
const m = createMachine({ arch: "ia64", memory: "1 GiB", era: "modern" }); // try era: "2006"
const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "256 MiB" });
const nic = m.attachDevice({ name: "eth0", domain: dom0, dmaMask: 32 });
const dma = dom0.dmaApi(nic, "xen-swiotlb");
dom0.alloc("1 MiB"); // memory the kernel already uses
const rx = dom0.alloc("32 KiB");

const bus = dma.mapSingle(rx, 32768, "FROM_DEVICE");
if (dma.mappingError(bus)) throw new Error("could not map the rx buffer");
nic.write(bus, new TextEncoder().encode("incoming packet"));
dma.unmapSingle(bus, 32768, "FROM_DEVICE");
console.log(`dom0 reads "${new TextDecoder().decode(dom0.read(rx, 15))}"`);
for (const e of m.trace.filter((e) => e.kind === "bounce-copy")) console.log(`[bounce-copy] ${e.message}`);
m.finish();
