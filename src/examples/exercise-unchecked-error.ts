import { createMachine } from "dma-lab";
// Exercise: a NIC driver fills its receive ring with 8 buffers of 64 KiB. Each buffer spans four
// pages that are not machine-contiguous, so xen-swiotlb bounces it, and the bounce pool is small.
// The run dies with DMA_MAPPING_ERROR_USED. Keep the ring at 8 and the pool at 256 KiB: make the
// driver notice a failed mapping and post only the buffers it could map.
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
  ring.push({ buffer, bus });
}
console.log(`posted ${ring.length} rx buffers`);

for (const [i, slot] of ring.entries()) nic.write(slot.bus, new TextEncoder().encode(`packet ${i}`)); // traffic arrives
for (const slot of ring) dma.unmapSingle(slot.bus, SIZE, "FROM_DEVICE");
console.log(`first packet: "${new TextDecoder().decode(dom0.read(ring[0].buffer, 8))}"`);
m.finish();
