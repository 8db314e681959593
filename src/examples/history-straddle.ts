import { createMachine, SimError } from "dma-lab";
import type { BackendName, Era } from "dma-lab";
// One 32 KiB buffer (two ia64 pages) in a P2M dom0: contiguous to dom0, scattered in machine memory.
// What happens when a driver maps it, in a 2006 xenified kernel and in a modern one?
const SIZE = 32 * 1024; // try 16 * 1024: one page never straddles
const runs: [Era, BackendName, string][] = [
  ["2006", "p2m", "xenified pci-dma.c, dom0 booted with swiotlb=off"],
  ["2006", "xen-swiotlb", "the same kernel with Xen's swiotlb, a dom0's default"],
  ["modern", "p2m", "reading the p2m, no bounce buffer"],
  ["modern", "xen-swiotlb", "drivers/xen/swiotlb-xen.c, mainline since 2.6.36"],
];
for (const [era, backend, what] of runs) {
  const m = createMachine({ arch: "ia64", memory: "1 GiB", era });
  const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "256 MiB" });
  const nic = m.attachDevice({ name: "eth0", domain: dom0, dmaMask: 32 });
  const dma = dom0.dmaApi(nic, backend);
  dom0.alloc("1 MiB"); // memory the kernel already uses
  const buf = dom0.alloc(SIZE);
  dom0.write(buf, new TextEncoder().encode("outgoing packet"));
  console.log(`${era} ${backend} (${what}):`);
  try {
    const bus = dma.mapSingle(buf, SIZE, "TO_DEVICE");
    if (dma.mappingError(bus)) {
      console.log("  dma_map_single failed; the driver must split the buffer or drop it");
    } else {
      const sent = new TextDecoder().decode(nic.read(bus, 15)); // the NIC fetches the packet
      dma.unmapSingle(bus, SIZE, "TO_DEVICE");
      const copies = m.stats().events["bounce-copy"] ?? 0;
      console.log(`  the NIC sent "${sent}" from bus 0x${bus.toString(16)} (${copies} bounce cop${copies === 1 ? "y" : "ies"})`);
    }
  } catch (e) {
    if (!(e instanceof SimError) || e.code !== "KERNEL_PANIC") throw e;
    console.log(`  ${e.message.replace(/\n/g, "\n  ")}`);
  }
}
