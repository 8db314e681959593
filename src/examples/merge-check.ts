import { blkbackRoundTrip } from "dma-lab";
// A domU reads 3 pages (96 sectors) from disk through dom0. dom0 maps the three grants at
// consecutive pseudo-physical frames, but the domU's frames are scattered in machine memory.
// Each merged segment is mapped as the xenified dma_map_sg of January 2006 did: first page
// translated, then the device runs the whole length from there ("first-frame").
for (const xenMergeCheck of [true, false]) {
  const r = blkbackRoundTrip({
    machine: { arch: "ia64", memory: "256 MiB" },
    dom0Memory: "32 MiB",
    domUMemory: "16 MiB",
    backend: "p2m",
    op: "read",
    sectors: 96,
    xenMergeCheck,
    sgMapping: "first-frame",
  });
  console.log(
    `Xen merge check ${xenMergeCheck ? "on" : "off"}: ${r.bioVecs} bio_vecs -> ${r.dmaSegments} DMA segment(s); domU got its data: ${r.bytesIdentical}`,
  );
  for (const e of r.trace.filter((e) => e.kind === "block" && e.message.startsWith("merge"))) {
    console.log(`  ${e.message.replace(/^merge bio_vec at (\S+) with (\S+): /, "$1 + $2: ")}`);
  }
  for (const e of r.trace.filter((e) => e.kind === "stray-dma" || e.kind === "unmapped-dma")) {
    console.log(`  [${e.kind}] ${e.message}`);
  }
  for (const e of r.errors) console.log(`  error ${e.code}: ${e.message}`);
}
