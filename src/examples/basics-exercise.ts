import { createMachine } from "dma-lab";
// dom0 is a P2M domain: its pseudo-physical addresses are not machine addresses.
// Its NIC driver maps the receive buffer with the "direct" backend. Where does the packet land?
const m = createMachine({ arch: "ia64", memory: "1 GiB" });
m.createDomain({ name: "domU1", mode: "VP", memory: "256 MiB", layout: "contiguous" });
const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "256 MiB", privileged: true });
const nic = m.attachDevice({ name: "eth0", domain: dom0, dmaMask: 32 });
const dma = dom0.dmaApi(nic, "direct");

const rx = dom0.alloc("16 KiB");
const bus = dma.mapSingle(rx, 16384, "FROM_DEVICE");
if (dma.mappingError(bus)) throw new Error("could not map the rx buffer");
nic.write(bus, new TextEncoder().encode("incoming packet"));
dma.unmapSingle(bus, 16384, "FROM_DEVICE");
console.log(`dom0 reads "${new TextDecoder().decode(dom0.read(rx, 15)).replace(/\0/g, ".")}"`);
