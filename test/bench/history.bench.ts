// `npm run bench`: time travel. Stepping a recorded run (snapshot/stats/changes at an event) on a
// 1 GiB machine whose dom0 is fragmented (its p2m alone is ~250,000 runs), and what recording
// history adds to a map+unmap pair. No test asserts on time; the derived figures print below.
import { afterAll, bench, describe } from "vitest";
import { createMachine } from "../../src/sim/index.js";
import type { BackendName, DmaApi, Machine } from "../../src/sim/index.js";

const STEPS = 5000;

/** x86_64, 1 GiB, dom0 P2M fragmented over 960 MiB, a disk on xen-swiotlb and a NIC on p2m; a run of 5,000 events. */
function recordedRun(): { m: Machine; recordMs: number } {
  const start = performance.now();
  const m = createMachine({ arch: "x86_64", memory: "1 GiB", swiotlb: { size: "4 MiB" }, limits: { traceEvents: STEPS } });
  m.recordHistory();
  const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "960 MiB" });
  const disk = dom0.dmaApi(m.attachDevice({ name: "sda", domain: dom0 }), "xen-swiotlb");
  const nic = dom0.dmaApi(m.attachDevice({ name: "eth0", domain: dom0 }), "p2m");
  const bufs = Array.from({ length: 8 }, () => dom0.alloc("16 KiB"));
  const live: { api: DmaApi; bus: number; size: number }[] = [];
  for (let i = 0; m.trace.length < STEPS; i++) {
    const api = i % 3 === 0 ? nic : disk;
    // Straddling sizes make xen-swiotlb bounce: slots taken at map, given back at unmap.
    const size = 4096 + (i % 5) * 1024;
    live.push({ api, bus: api.mapSingle(bufs[i % bufs.length]! + 512, size, "TO_DEVICE"), size });
    if (live.length > 6) {
      const l = live.shift()!;
      l.api.unmapSingle(l.bus, l.size, "TO_DEVICE");
    }
  }
  return { m, recordMs: performance.now() - start };
}

const { m: run, recordMs } = recordedRun();
const seqs = Array.from({ length: 997 }, (_, i) => 1 + (((i * 2_654_435_761) >>> 0) % run.trace.length));
let next = 0;
const pick = () => seqs[next++ % seqs.length]!;

describe("stepping a 5,000-event run, 1 GiB machine, fragmented dom0", () => {
  bench("snapshot({ at })", () => {
    run.snapshot({ at: pick() });
  });
  bench("stats({ at })", () => {
    run.stats({ at: pick() });
  });
  bench("changes({ at })", () => {
    run.changes({ at: pick() });
  });
  bench(
    "snapshot() live, for comparison",
    () => {
      run.snapshot();
    },
    { iterations: 10 },
  );
});

/** A small dom0 whose trace is stored (the overhead only exists while events are stored). */
function pairRig(history: boolean, backend: BackendName): () => void {
  let m!: Machine;
  let dma!: DmaApi;
  let buf = 0;
  const build = () => {
    m = createMachine({ arch: "x86_64", memory: "256 MiB", swiotlb: { size: "4 MiB" }, limits: { traceEvents: 20_000 } });
    if (history) m.recordHistory();
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "64 MiB" });
    dma = dom0.dmaApi(m.attachDevice({ name: "sda", domain: dom0 }), backend);
    buf = dom0.alloc("16 KiB");
  };
  build();
  return () => {
    // Rebuild before the trace fills, so every pair is recorded.
    if (m.trace.length > 19_000) build();
    const bus = dma.mapSingle(buf, 4096, "TO_DEVICE");
    dma.unmapSingle(bus, 4096, "TO_DEVICE");
  };
}

describe("map+unmap, 1 page, trace stored (pairs/s)", () => {
  for (const backend of ["p2m", "xen-swiotlb"] as BackendName[]) {
    bench(`${backend}, history off`, pairRig(false, backend));
    bench(`${backend}, history on`, pairRig(true, backend));
  }
});

function timeEach(count: number, f: (i: number) => void): { avg: number; worst: number } {
  let worst = 0;
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    f(i);
    worst = Math.max(worst, performance.now() - t);
  }
  return { avg: (performance.now() - start) / count, worst };
}

function microsPerPair(history: boolean, backend: BackendName): number {
  const pair = pairRig(history, backend);
  for (let i = 0; i < 2000; i++) pair(); // warm-up
  const pairs = 30_000;
  const start = performance.now();
  for (let i = 0; i < pairs; i++) pair();
  return ((performance.now() - start) * 1000) / pairs;
}

afterAll(() => {
  const n = run.trace.length;
  const every = timeEach(n, (i) => run.snapshot({ at: i + 1 }));
  const back = timeEach(n, (i) => run.snapshot({ at: n - i }));
  const stats = timeEach(n, (i) => run.stats({ at: i + 1 }));
  const changes = timeEach(n, (i) => run.changes({ at: i + 1 }));
  const live = timeEach(5, () => run.snapshot());
  console.log(
    `\nTime travel, 1 GiB x86_64, dom0 960 MiB fragmented (${run.snapshot({ at: n }).domains[0]!.p2m.length} p2m runs), ${n} events recorded in ${recordMs.toFixed(0)} ms:`,
  );
  console.log(
    `  snapshot({ at }) every event forward: avg ${every.avg.toFixed(4)} ms, worst ${every.worst.toFixed(3)} ms; backward: avg ${back.avg.toFixed(4)} ms, worst ${back.worst.toFixed(3)} ms`,
  );
  console.log(
    `  stats({ at }): avg ${stats.avg.toFixed(4)} ms, worst ${stats.worst.toFixed(3)} ms; changes({ at }): avg ${changes.avg.toFixed(4)} ms, worst ${changes.worst.toFixed(3)} ms`,
  );
  console.log(`  live snapshot() for comparison: avg ${live.avg.toFixed(1)} ms`);
  for (const backend of ["p2m", "xen-swiotlb"] as BackendName[]) {
    const off = microsPerPair(false, backend);
    const on = microsPerPair(true, backend);
    console.log(
      `  map+unmap ${backend}, trace stored: history off ${off.toFixed(2)} µs, on ${on.toFixed(2)} µs (+${(on - off).toFixed(2)} µs)`,
    );
  }
}, 120_000);
