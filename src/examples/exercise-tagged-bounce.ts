import { blkbackRoundTrip } from "dma-lab";
// Exercise: Gerd's corner case. blkback in a 2006 dom0 writes 8 sectors from a domU to a disk that
// reaches only 16 MiB (a 24-bit DMA mask), with foreign pages tagged instead of mapped. The block
// layer must bounce the domU's page and cannot kmap() it. Keep the 24-bit disk; make the write work.
const r = blkbackRoundTrip({
  machine: { arch: "ia64", memory: "512 MiB", era: "2006" },
  dom0Memory: "64 MiB",
  domUMemory: "64 MiB",
  backend: "p2m",
  foreignPages: "tag",
  dmaMask: 24,
  sectors: 8,
});
console.log(r.ok ? "the data reached the disk" : `FAILED: ${r.errors.map((e) => e.code).join(", ")}`);
for (const e of r.trace.filter((e) => e.kind === "kmap" || e.kind === "bounce-copy")) console.log(`[${e.kind}] ${e.message}`);
