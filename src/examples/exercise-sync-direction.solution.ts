import { createMachine } from "dma-lab";
// Solution: a sync takes the direction the buffer was MAPPED with; whether it goes to the CPU or
// to the device is the function's name. swiotlb copies the bounce buffer back for the CPU only
// for DMA_FROM_DEVICE (or BIDIRECTIONAL) mappings.
const m = createMachine({ arch: "x86_64", memory: "1 GiB", hypervisor: "none", swiotlb: { force: true } });
const linux = m.createDomain({ name: "linux", mode: "P==M", memory: "512 MiB" });
const nic = m.attachDevice({ name: "eth0", domain: linux, dmaMask: 32 });
const dma = linux.dmaApi(nic, "swiotlb");
const rx = linux.alloc("2 KiB");

const bus = dma.mapSingle(rx, 2048, "FROM_DEVICE");
if (dma.mappingError(bus)) throw new Error("could not map the rx buffer");
nic.write(bus, new TextEncoder().encode("GET /index.html")); // the NIC receives a packet
dma.syncSingleForCpu(bus, 64, "FROM_DEVICE"); // give the first 64 bytes to the CPU
console.log(`header: "${new TextDecoder().decode(linux.read(rx, 15)).replace(/\0/g, ".")}"`);
dma.unmapSingle(bus, 2048, "FROM_DEVICE");
m.finish();
for (const e of m.trace.filter((e) => e.kind === "dma-debug")) console.log(e.message);
