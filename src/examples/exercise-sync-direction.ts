import { createMachine } from "dma-lab";
// Exercise: this kernel was booted with swiotlb=force, so every DMA goes through a bounce buffer.
// A packet arrives; the driver syncs the start of the rx buffer so that the CPU can peek at the
// header, but reads only zeros, and dma-debug complains. Fix the sync.
const m = createMachine({ arch: "x86_64", memory: "1 GiB", hypervisor: "none", swiotlb: { force: true } });
const linux = m.createDomain({ name: "linux", mode: "P==M", memory: "512 MiB" });
const nic = m.attachDevice({ name: "eth0", domain: linux, dmaMask: 32 });
const dma = linux.dmaApi(nic, "swiotlb");
const rx = linux.alloc("2 KiB");

const bus = dma.mapSingle(rx, 2048, "FROM_DEVICE");
if (dma.mappingError(bus)) throw new Error("could not map the rx buffer");
nic.write(bus, new TextEncoder().encode("GET /index.html")); // the NIC receives a packet
dma.syncSingleForCpu(bus, 64, "TO_DEVICE"); // give the first 64 bytes to the CPU
console.log(`header: "${new TextDecoder().decode(linux.read(rx, 15)).replace(/\0/g, ".")}"`);
dma.unmapSingle(bus, 2048, "FROM_DEVICE");
m.finish();
for (const e of m.trace.filter((e) => e.kind === "dma-debug")) console.log(e.message);
