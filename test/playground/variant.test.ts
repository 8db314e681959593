// A/B variants: the runner overrides what the reader's code creates (machine config, device config,
// DMA-API backend) without touching the shared simulator, and says how much it changed.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import * as sim from "../../src/sim/index.js";
import {
  COMPARE_PRESETS,
  VARIANT_BACKENDS,
  describeVariant,
  mergeDeviceConfig,
  mergeMachineConfig,
  parseVariant,
  parseVariantText,
  variantText,
} from "../../src/playground/common/variant.js";
import { withVariant } from "../../src/playground/worker/variant-module.js";
import { runInNode } from "../support/run-in-node.js";

const STARTER = readFileSync(new URL("../../src/examples/playground-starter.ts", import.meta.url), "utf8");
const preset = (id: string) => COMPARE_PRESETS.find((p) => p.id === id)!;
const count = (o: Awaited<ReturnType<typeof runInNode>>, kind: sim.EventKind) =>
  o.outcome().machines.reduce((n, m) => n + (m.stats.events[kind] ?? 0), 0);

describe("parsing variants", () => {
  test("the backends a variant may name are exactly the simulator’s", () => {
    expect([...VARIANT_BACKENDS]).toEqual([...sim.BACKEND_NAMES]);
  });

  test("every preset is a valid variant, and survives its JSON text", () => {
    for (const { a, b } of COMPARE_PRESETS) {
      for (const v of [a, b]) {
        expect(parseVariant(v)).toEqual({ ok: true, variant: v });
        const { label: _label, ...rest } = v;
        expect(parseVariantText(variantText(v))).toEqual({ ok: true, variant: rest });
      }
    }
  });

  test("empty text is the code as written; mistakes are refused with what is allowed", () => {
    expect(parseVariantText("  ")).toEqual({ ok: true, variant: {} });
    expect(describeVariant({})).toBe("as written");
    expect(describeVariant({ machine: { era: "2006" } })).toBe('{"machine":{"era":"2006"}}');
    expect(parseVariantText("{ era: 2006 }")).toEqual({ ok: false, message: expect.stringMatching(/^not valid JSON/) });
    expect(parseVariantText('{"era": "2006"}')).toEqual({ ok: false, message: expect.stringMatching(/unknown key "era".*"machine"/) });
    expect(parseVariantText('{"backend": "dma"}')).toEqual({
      ok: false,
      message: expect.stringMatching(/"backend" must be one of "direct", .*got "dma"/),
    });
    expect(parseVariantText('{"device": {"name": "sdb"}}')).toEqual({ ok: false, message: expect.stringMatching(/cannot change "name"/) });
    expect(parseVariantText('{"machine": "2006"}')).toMatchObject({ ok: false });
    expect(parseVariantText("[]")).toMatchObject({ ok: false });
  });
});

describe("merging overrides over the code’s config", () => {
  test("machine: keys replaced, nested options merged one level, non-objects left for the simulator to refuse", () => {
    expect(
      mergeMachineConfig({ memory: "1 GiB", era: "modern", swiotlb: { size: "1 MiB" } }, { era: "2006", swiotlb: { force: true } }),
    ).toEqual({
      memory: "1 GiB",
      era: "2006",
      swiotlb: { size: "1 MiB", force: true },
    });
    expect(mergeMachineConfig(undefined, { era: "2006" })).toBeUndefined();
    const config = { memory: "1 GiB" };
    expect(mergeMachineConfig(config, undefined)).toBe(config);
  });

  test("device: iommu true keeps the code’s IOMMU options, false removes the IOMMU, an object is merged in", () => {
    const lazy = { name: "sda", iommu: { invalidation: "lazy" as const, group: "bridge" } };
    expect(mergeDeviceConfig(lazy, { iommu: true })).toEqual(lazy);
    expect(mergeDeviceConfig({ name: "sda" }, { iommu: true })).toEqual({ name: "sda", iommu: true });
    expect(mergeDeviceConfig(lazy, { iommu: false })).toEqual({ name: "sda", iommu: false });
    expect(mergeDeviceConfig(lazy, { iommu: { invalidation: "strict" } })).toEqual({
      name: "sda",
      iommu: { invalidation: "strict", group: "bridge" },
    });
    expect(mergeDeviceConfig({ name: "sda", iommu: true }, { iommu: { invalidation: "lazy" }, dmaMask: 32 })).toEqual({
      name: "sda",
      iommu: { invalidation: "lazy" },
      dmaMask: 32,
    });
  });
});

describe("running under a variant", () => {
  test("era 2006: createMachine and new Machine both get it; the code’s own settings stay", async () => {
    const code = [
      'import { createMachine, Machine } from "dma-lab";',
      'const a = createMachine({ arch: "x86_64", memory: "64 MiB" });',
      'const b = new Machine({ memory: "64 MiB", era: "modern" });',
      "console.log(a.era, a.arch, b.era, b instanceof Machine, a instanceof Machine);",
    ].join("\n");
    const plain = await runInNode(code);
    expect(plain.outcome().console).toEqual(["modern x86_64 modern true true"]);
    const old = await runInNode(code, preset("era").a);
    expect(old.outcome().console).toEqual(["2006 x86_64 2006 true true"]);
    expect(old.applied).toEqual({ machines: 2, devices: 0, dmaApis: 0 });
    expect(old.outcome().machines.map((m) => m.snapshot?.era)).toEqual(["2006", "2006"]);
  });

  // The thread's VP-without-IOMMU position ("calls into Xen for P->Bus translation", Muli,
  // 2006-01-20) vs Xen programming an IOMMU: with the IOMMU the overrun is blocked (a DMAR fault,
  // drivers/iommu/intel/dmar.c), without it the same bug writes into domU1's memory.
  test("hypercall vs iommu on the /playground starter: the overrun is a stray DMA without the IOMMU, a fault with it", async () => {
    const { a, b } = preset("hypercall-iommu");
    const ra = await runInNode(STARTER, a);
    const rb = await runInNode(STARTER, b);
    for (const r of [ra, rb]) {
      expect(r.outcome().error).toBeNull();
      expect(r.applied).toEqual({ machines: 0, devices: 1, dmaApis: 1 });
    }
    expect(count(ra, "stray-dma")).toBe(1);
    expect(count(ra, "iommu-fault")).toBe(0);
    expect(count(rb, "stray-dma")).toBe(0);
    expect(count(rb, "iommu-fault")).toBe(1);
    // One hypercall per page translated vs one per map and one per unmap.
    expect(count(ra, "hypercall")).toBe(1);
    expect(count(rb, "hypercall")).toBe(2);
    expect(ra.outcome().console.at(-1)).toMatch(/^1 hypercall, 0 IOMMU faults, 1 stray DMA/);
  });

  // Lazy invalidation queues unmaps and flushes the IOTLB in batches (flush queue,
  // drivers/iommu/dma-iommu.c); strict flushes on every unmap.
  test("strict vs lazy invalidation: one IOTLB flush per unmap vs one batched flush", async () => {
    const code = [
      'import { createMachine } from "dma-lab";',
      'const m = createMachine({ arch: "x86_64", memory: "1 GiB" });',
      'const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "256 MiB", privileged: true });',
      'const nic = m.attachDevice({ name: "eth0", domain: dom0, dmaMask: 64 });',
      'const dma = dom0.dmaApi(nic, "direct");',
      'const buf = dom0.alloc("4 KiB");',
      'for (let i = 0; i < 10; i++) dma.unmapSingle(dma.mapSingle(buf, 64, "TO_DEVICE"), 64, "TO_DEVICE");',
      "m.finish();",
    ].join("\n");
    const { a, b } = preset("invalidation");
    const strict = await runInNode(code, a);
    const lazy = await runInNode(code, b);
    expect(strict.outcome().error).toBeNull();
    expect(lazy.outcome().error).toBeNull();
    expect(count(strict, "iommu-map")).toBe(10);
    expect(count(strict, "iotlb-flush")).toBe(10);
    expect(count(lazy, "iotlb-flush")).toBe(1);
    expect(lazy.applied).toEqual({ machines: 0, devices: 1, dmaApis: 1 });
  });

  test("a variant the code cannot take fails that run with the simulator’s own error", async () => {
    // The p2m backend reads the domain's p2m table; a VP domain has none it may read.
    const r = await runInNode(STARTER, preset("p2m-xen-swiotlb").a);
    expect(r.outcome().error).toMatchObject({ name: "SimError", code: "BACKEND_UNSUITABLE" });
    expect(r.hasResults).toBe(true);
  });

  test("machines a scenario helper builds from its own config are not the code’s: nothing is applied", async () => {
    const code =
      'import { blkbackRoundTrip } from "dma-lab";\nconst r = blkbackRoundTrip({ backend: "p2m", op: "read", sectors: 8 });\nconsole.log(r.bytesIdentical);';
    const r = await runInNode(code, { backend: "hypercall", machine: { era: "2006" } });
    expect(r.applied).toEqual({ machines: 0, devices: 0, dmaApis: 0 });
    expect(r.outcome().machines[0]!.label).toMatch(/era modern/);
  });

  test("the shared simulator is untouched: a plain run afterwards uses the code’s backend, and objects log the same", async () => {
    const code = [
      'import { createMachine, DmaApi } from "dma-lab";',
      'const m = createMachine({ arch: "x86_64", memory: "64 MiB" });',
      'const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "16 MiB", privileged: true });',
      'const nic = m.attachDevice({ name: "eth0", domain: dom0, dmaMask: 64 });',
      'console.log(dom0.dmaApi(nic, "direct").backend, new DmaApi(dom0, nic, "direct").backend);',
      'console.log(Object.keys(m).includes("attachDevice"), Object.keys(dom0).includes("dmaApi"));',
    ].join("\n");
    const under = await runInNode(code, { backend: "swiotlb", device: { dmaMask: 32 } });
    expect(under.outcome().console).toEqual(["swiotlb swiotlb", "false false"]);
    expect(under.applied).toEqual({ machines: 0, devices: 1, dmaApis: 2 });
    const plain = await runInNode(code);
    expect(plain.outcome().console).toEqual(["direct direct", "false false"]);
    expect(plain.applied).toBeUndefined();
    // The module handed to variant code is a copy; the simulator's own exports are the originals.
    const { module } = withVariant(sim, { backend: "iommu", machine: { era: "2006" } });
    expect(module.createMachine).not.toBe(sim.createMachine);
    expect(sim.createMachine({ memory: "16 MiB" }).era).toBe("modern");
    expect(Object.getOwnPropertyNames(sim.Domain.prototype)).toContain("dmaApi");
    expect(withVariant(sim, {}).module).toBe(sim);
  });
});
