import { netbackPacket } from "dma-lab";
// A 1514-byte packet from a domU, sent by dom0's NIC. "straddling": the skb data crosses a
// page boundary (two pseudo-physically adjacent pages, scattered in machine memory).
// "xen-skb": Xen's skb cache, whose objects never cross a page boundary.
for (const allocation of ["straddling", "xen-skb"] as const) {
  console.log(`${allocation}:`);
  for (const backend of ["p2m", "hypercall", "xen-swiotlb", "iommu"] as const) {
    const r = netbackPacket({ machine: { arch: "ia64", memory: "256 MiB" }, backend, allocation });
    const s = r.stats;
    console.log(`  ${backend.padEnd(11)} ${r.handling.padEnd(11)} ${r.segments} segment(s), ${r.bounceBytes} bytes bounced, ` +
      `${s.events.hypercall ?? 0} hypercalls, ${s.cost.total} cycles, bytes identical: ${r.bytesIdentical}`);
  }
}
