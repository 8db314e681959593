import { createMachine } from "dma-lab";
// Solution: the early return skipped dma_unmap_single. Every successful map needs its unmap
// ("you could render the machine unusable by consuming all DMA addresses", dma-api-howto);
// better still, check the queue before mapping at all.
const m = createMachine({ arch: "ia64", memory: "1 GiB" });
const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "256 MiB" });
const nic = m.attachDevice({ name: "eth0", domain: dom0, dmaMask: 32 });
const dma = dom0.dmaApi(nic, "xen-swiotlb");
const QUEUE_SLOTS = 2;
let queued = 0;

function transmit(packet: number, length: number): boolean {
  if (queued === QUEUE_SLOTS) return false; // queue full: nothing mapped yet, nothing to undo
  const bus = dma.mapSingle(packet, length, "TO_DEVICE");
  if (dma.mappingError(bus)) return false;
  queued++;
  nic.read(bus, length); // the NIC fetches the packet
  dma.unmapSingle(bus, length, "TO_DEVICE");
  return true;
}

for (let i = 0; i < 4; i++) {
  const packet = dom0.alloc("2 KiB");
  dom0.write(packet, new TextEncoder().encode(`packet ${i}`));
  console.log(`packet ${i}: ${transmit(packet, 1514) ? "sent" : "queue full, dropped"}`);
}
m.finish();
for (const e of m.trace.filter((e) => e.kind === "dma-debug")) console.log(e.message);
