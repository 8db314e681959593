import { createMachine } from "dma-lab";
// The "direct" backend (bus address = guest-physical address) is right only when P==M.
// Here dom0 is P2M: its pseudo-physical addresses are not machine addresses.
const m = createMachine({ arch: "ia64", memory: "1 GiB" });
const domU = m.createDomain({ name: "domU1", mode: "VP", memory: "256 MiB", privileged: false, layout: "contiguous" });
const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "256 MiB", privileged: true });
const nic = m.attachDevice({ name: "eth0", domain: dom0, dmaMask: 32 });

const dma = dom0.dmaApi(nic, "direct"); // try "p2m" instead
dom0.alloc("1 MiB"); // memory the kernel already uses
const rx = dom0.alloc("16 KiB");
const bus = dma.mapSingle(rx, 16384, "FROM_DEVICE");
console.log(`rx buffer at guest-physical 0x${rx.toString(16)}, bus 0x${bus.toString(16)}`);

nic.write(bus, new TextEncoder().encode("incoming packet")); // the NIC receives a packet
dma.unmapSingle(bus, 16384, "FROM_DEVICE");
console.log(`dom0 reads: "${new TextDecoder().decode(dom0.read(rx, 15)).replace(/\0/g, ".")}"`);

for (const e of m.trace.filter((e) => e.kind === "stray-dma" || e.kind === "unmapped-dma")) {
  console.log(`[${e.kind}] ${e.message}`);
}
