import { createMachine } from "dma-lab";
// Exercise: dom0's NIC receives a packet, yet dom0 reads nothing and the trace shows stray DMA.
// dom0 is a P2M domain. Fix the driver so that the packet lands in dom0's rx buffer.
const m = createMachine({ arch: "ia64", memory: "1 GiB" });
m.createDomain({ name: "domU1", mode: "VP", memory: "256 MiB", privileged: false, layout: "contiguous" });
const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "256 MiB", privileged: true });
const nic = m.attachDevice({ name: "eth0", domain: dom0, dmaMask: 32 });
const dma = dom0.dmaApi(nic, "direct");

dom0.alloc("1 MiB"); // memory the kernel already uses
const rx = dom0.alloc("16 KiB");
const bus = dma.mapSingle(rx, 16384, "FROM_DEVICE");
if (dma.mappingError(bus)) throw new Error("could not map the rx buffer");
nic.write(bus, new TextEncoder().encode("incoming packet")); // the NIC receives a packet
dma.unmapSingle(bus, 16384, "FROM_DEVICE");
console.log(`dom0 reads: "${new TextDecoder().decode(dom0.read(rx, 15)).replace(/\0/g, ".")}"`);
m.finish();
