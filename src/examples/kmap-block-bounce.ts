import { blkbackRoundTrip } from "dma-lab";
// Gerd: "If the block layer needs bounce buffers it will attempt to kmap() the page".
// A 2006 kernel: dom0 (P2M, p2m DMA-API) writes 32 sectors from a domU to its disk.
const cases = [
  { foreignPages: "map", dmaMask: 24 }, // a disk that reaches only 16 MiB: the block layer bounces
  { foreignPages: "tag", dmaMask: 24 }, // ... and must kmap() the tagged page to copy it
  { foreignPages: "tag", dmaMask: 32 }, // a 32-bit disk: no bounce, so no kmap()
] as const;
for (const c of cases) {
  const r = blkbackRoundTrip({
    machine: { arch: "ia64", memory: "512 MiB", era: "2006" },
    dom0Memory: "64 MiB",
    domUMemory: "64 MiB",
    backend: "p2m",
    foreignPages: c.foreignPages,
    dmaMask: c.dmaMask,
    sectors: 32,
  });
  const queue = r.machine.trace.find((e) => e.kind === "block")!.message;
  console.log(`${c.foreignPages}, ${c.dmaMask}-bit disk: ${r.ok ? "data arrived" : "FAILED"}`);
  console.log(`  ${queue.slice(queue.indexOf("PCI_DMA_BUS_IS_PHYS"))}`);
  for (const e of r.trace.filter((e) => e.kind === "kmap" || e.kind === "bounce-copy")) console.log(`  [${e.kind}] ${e.message}`);
}
