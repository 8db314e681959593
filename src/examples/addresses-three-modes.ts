import { createMachine } from "dma-lab";
// One machine, three driver domains: one per way of knowing machine addresses.
const m = createMachine({ arch: "ia64", memory: "1 GiB" }); // ia64: 16 KiB pages
const pm = m.createDomain({ name: "dom0", mode: "P==M", memory: "64 MiB" });
const p2m = m.createDomain({ name: "drv1", mode: "P2M", memory: "64 MiB", privileged: true });
const vp = m.createDomain({ name: "drv2", mode: "VP", memory: "64 MiB", privileged: true });
const hex = (n: number) => `0x${n.toString(16)}`;

// Each domain's p2m: pseudo-physical frame (PFN) -> machine frame (MFN), first runs only.
for (const d of m.snapshot().domains) {
  const runs = d.p2m.slice(0, 2).map((r) => `pfn ${hex(r.pfn)} (+${r.count}) -> mfn ${hex(r.mfn)}`);
  console.log(`${d.name} ${d.mode}: ${d.p2m.length} run(s): ${runs.join(", ")}`);
}

// Map one page for a device in each domain, the way its mode allows.
for (const [dom, backend] of [
  [pm, "direct"],
  [p2m, "p2m"],
  [vp, "hypercall"],
] as const) {
  const disk = m.attachDevice({ name: `sd-${dom.name}`, domain: dom, dmaMask: 32 });
  const dma = dom.dmaApi(disk, backend);
  const buf = dom.alloc("16 KiB");
  const start = m.stats().cost.total;
  const bus = dma.mapSingle(buf, 16384, "TO_DEVICE");
  console.log(`${dom.name} (${backend}): guest-physical ${hex(buf)} -> bus ${hex(bus)}, ${m.stats().cost.total - start} cycles`);
  dma.unmapSingle(bus, 16384, "TO_DEVICE");
}
for (const e of m.trace.filter((e) => e.kind === "translate" || e.kind === "hypercall")) {
  console.log(`  [${e.kind}] ${e.message}`);
}
