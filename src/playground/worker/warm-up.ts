// A run the prepared worker makes before the reader's, so the reader's Run meets an engine that
// has already compiled the simulator's hot paths (machine and domain set-up, every backend's map
// and unmap, grants, the recorder's history and the final report). Measured with
// `npm run bench:site` on a 2-core machine: a later Run on /playground/ went from 139 to 66 ms
// median, the first Run from 172 to 78 ms. The page asks for it only while no Run waits.
// It prints nothing, starts none of the reader's timers, and leaves nothing behind: the
// simulator keeps no state between machines, and the recorders it makes are dropped.
import { runRequest } from "./runner-core.js";

// Taken before the worker wraps the global timers: the warm-up's pauses are not reader work.
const realSetTimeout = globalThis.setTimeout.bind(globalThis);

const warmUpCode = (backend: string, memory: number): string => `
import { createMachine } from "dma-lab";
const modeFor = { direct: "P==M", swiotlb: "P==M", p2m: "P2M", hypercall: "VP", "xen-swiotlb": "VP", iommu: "VP" } as const;
const MEMORY = ${memory};
for (const backend of ["${backend}"] as const) {
  const m = createMachine({ arch: "ia64", memory: MEMORY * 4 });
  const dom0 = m.createDomain({ name: "dom0", mode: modeFor[backend], memory: MEMORY, privileged: true });
  const domU = m.createDomain({ name: "domU1", mode: modeFor[backend], memory: MEMORY / 2 });
  const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 32, iommu: backend === "iommu" });
  const dma = dom0.dmaApi(disk, backend);
  const buf = domU.alloc("16 KiB");
  const gref = domU.grantAccess(domU.pfnOf(buf), dom0);
  const grant = dom0.mapGrant(domU, gref);
  const bus = dma.mapPage(grant.page!, 0, 4096, "FROM_DEVICE");
  if (!dma.mappingError(bus)) {
    disk.write(bus, new TextEncoder().encode("warm"));
    dma.unmapPage(bus, 4096, "FROM_DEVICE");
  }
  const own = dom0.alloc(32768);
  const single = dma.mapSingle(own, 32768, "BIDIRECTIONAL");
  if (!dma.mappingError(single)) dma.unmapSingle(single, 32768, "BIDIRECTIONAL");
  dom0.unmapGrant(grant.handle);
  domU.endAccess(gref);
  new TextDecoder().decode(domU.read(buf, 4));
  m.finish();
}
`;

/**
 * One step a backend, small ones first (10–30 ms each, cold): a Run pressed meanwhile waits for
 * one of those at most. The last step's machine is as large as the playground's starter (~120 ms
 * cold): its frame and p2m scans are what a run spends most on, and V8 optimises a loop only
 * after many turns.
 */
const STEPS = [
  ...["p2m", "xen-swiotlb", "hypercall", "swiotlb", "direct"].map((backend) => ({ backend, memory: 64 << 20 })),
  { backend: "iommu", memory: 512 << 20 },
];

/**
 * Runs the warm-up program once per backend, one macrotask each, until `stop()` says a reader's
 * run is waiting: that run then waits for one step at most. Resolves when the warm-up ends.
 * Whatever the steps post is dropped; `onError` hears an error a step threw (a bug here).
 */
export async function warmUp(stop: () => boolean, onError: (message: string) => void = () => undefined): Promise<void> {
  for (const { backend, memory } of STEPS) {
    // A macrotask between steps: a Run that arrived meanwhile is seen before the next step starts.
    await new Promise((resolve) => realSetTimeout(resolve, 0));
    if (stop()) return;
    await runRequest({ code: warmUpCode(backend, memory) }, (msg) => msg.type === "error" && onError(msg.message));
  }
}
