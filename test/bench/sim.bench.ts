// `npm run bench`: the simulator's hot paths. Numbers go in the closing notes; no test
// asserts on time. Pairs/s come from vitest's table (hz); the derived figures are printed below it.
import { afterAll, bench, describe } from "vitest";
import { createMachine } from "../../src/sim/index.js";
import type { BackendName, DmaApi, Machine } from "../../src/sim/index.js";

/** A driver domain in the mode each backend is meant for, with one mapped-ready page. */
function rig(backend: BackendName, memory = "2 GiB"): { m: Machine; dma: DmaApi; buf: number } {
  const m = createMachine({ arch: "ia64", memory, swiotlb: { size: "16 MiB", force: backend === "swiotlb" }, limits: { traceEvents: 0 } });
  const mode = backend === "direct" || backend === "swiotlb" ? "P==M" : backend === "p2m" || backend === "xen-swiotlb" ? "P2M" : "VP";
  const dom0 = m.createDomain({ name: "dom0", mode, memory: "256 MiB" });
  const disk = m.attachDevice({ name: "sda", domain: dom0, iommu: backend === "iommu" });
  const dma = dom0.dmaApi(disk, backend);
  const buf = dom0.alloc("16 KiB");
  return { m, dma, buf };
}

const BACKENDS: BackendName[] = ["direct", "p2m", "hypercall", "swiotlb", "xen-swiotlb", "iommu"];

describe("mapSingle + unmapSingle, 1 page (pairs/s)", () => {
  for (const backend of BACKENDS) {
    let setup: ReturnType<typeof rig> | undefined;
    try {
      setup = rig(backend);
    } catch {
      setup = undefined; // backend not available in this build
    }
    if (!setup) continue;
    const { dma, buf } = setup;
    bench(backend, () => {
      const bus = dma.mapSingle(buf, 16384, "TO_DEVICE");
      dma.mappingError(bus);
      dma.unmapSingle(bus, 16384, "TO_DEVICE");
    });
  }
});

describe("mapSg + unmapSg, 256 entries of one page", () => {
  for (const backend of ["p2m", "xen-swiotlb", "iommu"] as BackendName[]) {
    let setup: ReturnType<typeof rig> | undefined;
    try {
      setup = rig(backend);
    } catch {
      setup = undefined;
    }
    if (!setup) continue;
    const { m, dma } = setup;
    const dom0 = m.domains[0]!;
    const base = dom0.alloc("4 MiB");
    const entries = Array.from({ length: 256 }, (_, i) => ({ address: base + i * 16384, length: 16384 }));
    bench(backend, () => {
      dma.mapSg(entries, "TO_DEVICE");
      dma.unmapSg(entries, "TO_DEVICE");
    });
  }
});

const BOUNCE_BYTES = 256 * 1024;

describe("bounce copy vs Uint8Array.set (256 KiB)", () => {
  let setup: ReturnType<typeof rig> | undefined;
  try {
    setup = rig("swiotlb");
  } catch {
    setup = undefined;
  }
  if (setup) {
    const { dma, m } = setup;
    const big = m.domains[0]!.alloc(BOUNCE_BYTES);
    // Written memory: frames never written read as zeros and would make the copy a cheap fill.
    m.domains[0]!.write(big, new Uint8Array(BOUNCE_BYTES).fill(1));
    bench("swiotlb map+unmap BIDIRECTIONAL (2 copies)", () => {
      const bus = dma.mapSingle(big, BOUNCE_BYTES, "BIDIRECTIONAL");
      dma.mappingError(bus);
      dma.unmapSingle(bus, BOUNCE_BYTES, "BIDIRECTIONAL");
    });
  }
  const from = new Uint8Array(BOUNCE_BYTES).fill(1);
  const to = new Uint8Array(BOUNCE_BYTES);
  bench("Uint8Array.set x2 (same bytes)", () => {
    to.set(from);
    from.set(to);
  });
});

/**
 * Milliseconds per call of `fn`: the median of 7 batches' means, each batch `rounds` / 7 calls,
 * after a warm-up. The median keeps the figure steady on a machine shared with other work.
 */
function timePerCall(fn: () => void, rounds: number): number {
  for (let i = 0; i < rounds / 10; i++) fn();
  const batch = Math.max(1, Math.round(rounds / 7));
  const means: number[] = [];
  for (let b = 0; b < 7; b++) {
    const start = performance.now();
    for (let i = 0; i < batch; i++) fn();
    means.push((performance.now() - start) / batch);
  }
  return means.sort((x, y) => x - y)[3]!;
}

/** Microseconds per map+unmap pair of one 16 KiB page. */
function pairMicroseconds(backend: BackendName): number {
  const { dma, buf } = rig(backend);
  return (
    1000 *
    timePerCall(() => {
      const bus = dma.mapSingle(buf, 16384, "TO_DEVICE");
      dma.mappingError(bus);
      dma.unmapSingle(bus, 16384, "TO_DEVICE");
    }, 20000)
  );
}

/** Milliseconds per mapSg+unmapSg of 256 one-page entries, on a machine of `memory`. */
function sgMilliseconds(backend: BackendName, memory: string): number {
  const { m, dma } = rig(backend, memory);
  const base = m.domains[0]!.alloc("4 MiB");
  const entries = Array.from({ length: 256 }, (_, i) => ({ address: base + i * 16384, length: 16384 }));
  return timePerCall(() => {
    dma.mapSg(entries, "TO_DEVICE");
    dma.unmapSg(entries, "TO_DEVICE");
  }, 500);
}

afterAll(() => {
  console.log("\nPer-call figures (median of 7 batches after a warm-up):");
  for (const backend of BACKENDS)
    console.log(`  map+unmap pair, ${backend}: ${pairMicroseconds(backend).toFixed(2)} µs${backend === "p2m" ? " (aim <= 5 µs)" : ""}`);
  for (const memory of ["2 GiB", "64 GiB"]) {
    for (const backend of ["p2m", "xen-swiotlb", "iommu"] as BackendName[]) {
      console.log(
        `  mapSg+unmapSg, 256 one-page entries, ${backend}, ${memory} machine: ${sgMilliseconds(backend, memory).toFixed(3)} ms${backend === "iommu" ? " (aim <= 0.25 ms)" : ""}`,
      );
    }
  }

  // Heap growth counts ArrayBuffers too: the p2m tables and frame-owner chunks are typed arrays.
  const used = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = used();
  const start = performance.now();
  const m = createMachine({ arch: "ia64", memory: "64 GiB" });
  m.createDomain({ name: "dom0", mode: "P2M", memory: "4 GiB" });
  m.createDomain({ name: "domU1", mode: "VP", memory: "2 GiB" });
  const ms = performance.now() - start;
  gc?.();
  const grown = (used() - before) / 2 ** 20;
  console.log(
    `\n64 GiB machine (16 KiB pages), dom0 4 GiB + domU1 2 GiB, fragmented: ${ms.toFixed(1)} ms, heap + array buffers +${grown.toFixed(1)} MiB${gc ? "" : " (no --expose-gc: rough)"} (${m.domains.length} domains)`,
  );

  const { dma, m: bm } = rig("swiotlb");
  const big = bm.domains[0]!.alloc(BOUNCE_BYTES);
  bm.domains[0]!.write(big, new Uint8Array(BOUNCE_BYTES).fill(1));
  const bounce = () => {
    const bus = dma.mapSingle(big, BOUNCE_BYTES, "BIDIRECTIONAL");
    dma.mappingError(bus);
    dma.unmapSingle(bus, BOUNCE_BYTES, "BIDIRECTIONAL");
  };
  const from = new Uint8Array(BOUNCE_BYTES).fill(1);
  const to = new Uint8Array(BOUNCE_BYTES);
  const hot = () => {
    to.set(from);
    from.set(to);
  };
  // The pool is 16 MiB and next-fit walks it, so each bounce lands in cold memory; the fair
  // baseline copies the same bytes through a 16 MiB arena in the same pattern.
  const arena = new Uint8Array(16 * 2 ** 20);
  let at = 0;
  const cold = () => {
    arena.set(from, at);
    from.set(arena.subarray(at, at + BOUNCE_BYTES));
    at = (at + BOUNCE_BYTES) % arena.length;
  };
  // Batches of the three alternate, so load from other work hits them alike; median of the ratios.
  const hotRatios: number[] = [];
  const coldRatios: number[] = [];
  for (let round = 0; round < 9; round++) {
    const simulated = timePerCall(bounce, 140);
    hotRatios.push(timePerCall(hot, 140) / simulated);
    coldRatios.push(timePerCall(cold, 140) / simulated);
  }
  const median = (values: number[]) => values.sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
  const plain = median(hotRatios);
  const arenaPlain = median(coldRatios);
  console.log(
    `swiotlb bounce throughput (map+unmap, 2 copies of 256 KiB) / Uint8Array.set of the same bytes: ${plain.toFixed(2)} between two hot buffers, ${arenaPlain.toFixed(2)} through a 16 MiB arena like the pool (aim >= 0.5)`,
  );
});
