import { createMachine, createRequestQueue } from "dma-lab";
// Muli: the block layer should never bounce on its own, "unless doing it there is more efficient?"
// A 2006 kernel moves 64 KiB (four 16 KiB pages) that a disk with a 28-bit mask cannot reach.
// ia64's PCI_DMA_BUS_IS_PHYS is 1 without a merging hardware IOMMU: the block layer bounces, page by page.
// Muli's proposal, the block layer never bouncing (bounce: "none"; Xen's x86 pci.h got there with
// PCI_DMA_BUS_IS_PHYS = 0): swiotlb, in the DMA layer, bounces what the disk is handed.
// dom0 as in Xen/ia64's P==M: one contiguous block from 128 MiB, PFN == MFN (16 KiB frames).
const pem = Array.from({ length: 32768 }, (_, i) => 8192 + i);
function run(mode: "P==M" | "P2M", backend: "direct" | "swiotlb" | "p2m", op: "write" | "read") {
  const m = createMachine({ arch: "ia64", memory: "4 GiB", era: "2006", seed: 1 });
  const dom0 = m.createDomain({
    name: "dom0",
    mode,
    ...(mode === "P==M" ? { layout: pem } : { memory: "512 MiB", layout: "fragmented" as const }),
  });
  const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 28 });
  const queue = createRequestQueue(dom0.dmaApi(disk, backend), { bounce: backend === "swiotlb" ? "none" : "pci-dma-bus-is-phys" });
  const low = dom0.alloc("256 MiB"); // taken, so that the buffer lies above the disk's reach
  const buf = dom0.alloc("64 KiB");
  dom0.free(low);
  dom0.write(buf, new Uint8Array(65536).fill(op === "write" ? 1 : 0));
  const start = m.trace.length;
  let outcome = "";
  try {
    const rq = queue.submit(op, 0, [{ address: buf, length: 65536 }]);
    let seen = 0; // bytes of the right value the disk read (write) or dom0 got back (read)
    for (const s of queue.map(rq).segments) {
      if (op === "write") seen += disk.read(s.busAddress, s.length).filter((b) => b === 1).length;
      else disk.write(s.busAddress, new Uint8Array(s.length).fill(7));
    }
    queue.complete(rq);
    if (op === "read") seen = dom0.read(buf, 65536).filter((b) => b === 7).length;
    outcome = seen === 65536 ? "all 64 KiB arrived" : `only ${seen} bytes arrived`;
  } catch (e) {
    outcome = `FAILED: ${(e as Error).message.split("\n").pop()}`;
  }
  const events = m.trace.slice(start);
  const copies = events.filter((e) => e.kind === "bounce-copy");
  const copyCycles = copies.reduce((n, e) => n + (e.cost ?? 0), 0);
  const kmaps = events.filter((e) => e.kind === "kmap").length;
  const who = backend === "swiotlb" ? "DMA layer" : "block layer";
  console.log(
    `${mode} ${op}, ${who} bounces: ${copies.length} cop${copies.length === 1 ? "y" : "ies"}, ${copyCycles} cycles copying, ${kmaps} kmap() calls; ${outcome}`,
  );
}
for (const op of ["write", "read"] as const) {
  run("P==M", "direct", op);
  run("P==M", "swiotlb", op);
}
run("P2M", "p2m", "write"); // the block layer judges pseudo-physical frames; the disk needs machine ones
