// A reader's program that maps a 32 KiB buffer through xen-swiotlb in a P2M dom0: it straddles
// machine frames, so the map takes bounce slots and the unmap gives them back (the stepper tests).
export const STRADDLE_CODE = `import { createMachine } from "dma-lab";
const m = createMachine({ arch: "ia64", memory: "1 GiB", era: "modern" });
const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "256 MiB" });
const nic = m.attachDevice({ name: "eth0", domain: dom0, dmaMask: 32 });
const dma = dom0.dmaApi(nic, "xen-swiotlb");
dom0.alloc("1 MiB");
const buf = dom0.alloc(32 * 1024);
const bus = dma.mapSingle(buf, 32 * 1024, "TO_DEVICE");
nic.read(bus, 15);
dma.unmapSingle(bus, 32 * 1024, "TO_DEVICE");
`;
