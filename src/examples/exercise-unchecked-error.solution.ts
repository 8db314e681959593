import { createMachine } from "dma-lab";
// Solution: check every mapping with dma_mapping_error() before the device sees it ("Using the
// returned address without checking for errors could result in failures ranging from panics to
// silent data corruption", dma-api-howto). A full pool is an ordinary failure: post fewer buffers.
const m = createMachine({ arch: "ia64", memory: "1 GiB", swiotlb: { size: "256 KiB" } });
const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "256 MiB" });
const nic = m.attachDevice({ name: "eth0", domain: dom0, dmaMask: 32 });
const dma = dom0.dmaApi(nic, "xen-swiotlb");
const RING = 8,
  SIZE = 64 * 1024;

const ring: { buffer: number; bus: number }[] = [];
for (let i = 0; i < RING; i++) {
  const buffer = dom0.alloc(SIZE);
  const bus = dma.mapSingle(buffer, SIZE, "FROM_DEVICE");
  if (dma.mappingError(bus)) {
    dom0.free(buffer);
    break; // the pool is full: run with a shorter ring
  }
  ring.push({ buffer, bus });
}
console.log(`posted ${ring.length} rx buffers`);

for (const [i, slot] of ring.entries()) nic.write(slot.bus, new TextEncoder().encode(`packet ${i}`)); // traffic arrives
for (const slot of ring) dma.unmapSingle(slot.bus, SIZE, "FROM_DEVICE");
console.log(`first packet: "${new TextDecoder().decode(dom0.read(ring[0].buffer, 8))}"`);
m.finish();
