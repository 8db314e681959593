// The docs' named picture scenarios each show one point of the 2006 thread; these tests pin that
// the simulator really produced that situation (not just that a picture came out).
import { describe, expect, it } from "vitest";
import { SCENARIOS, runScenario } from "../../src/components/memory-map-scenarios.js";
import { renderMemoryMap } from "../../src/render/index.js";
import { SimError } from "../../src/sim/index.js";
import { parseXml } from "./xml.js";

describe("picture scenarios", () => {
  it.each(Object.keys(SCENARIOS))("%s renders a well-formed picture", (name) => {
    const p = runScenario(name);
    expect(p.snapshot.halted).toBeNull();
    const svg = renderMemoryMap(p.snapshot, { trace: p.trace, title: p.title });
    expect(parseXml(svg).attrs["aria-label"]).toContain(p.title);
  });

  it("rejects an unknown name, listing the known ones (a typo in a page fails the build)", () => {
    expect(() => runScenario("stray")).toThrow(SimError);
    expect(() => runScenario("toString")).toThrow(/unknown picture scenario "toString" \(known: p2m-fragmented, pem, /);
  });

  it("p2m-fragmented: the 2-page buffer's frames are not adjacent; map_single fails, map_sg splits", () => {
    // xenLinux pci-dma-xen.c: a range straddling non-contiguous frames cannot be one bus address.
    const p = runScenario("p2m-fragmented");
    const dom0 = p.snapshot.domains.find((d) => d.name === "dom0")!;
    const mfnOf = (pfn: number) => dom0.p2m.find((r) => pfn >= r.pfn && pfn < r.pfn + r.count)!;
    const [a, b] = [mfnOf(0), mfnOf(1)];
    expect(a.mfn + (0 - a.pfn) + 1).not.toBe(b.mfn + (1 - b.pfn));
    expect(p.trace.filter((e) => e.kind === "mapping-error")).toHaveLength(1);
    expect(p.snapshot.mappings.map((m) => m.type)).toEqual(["scather-gather", "scather-gather"]);
  });

  it("pem: PFN == MFN, one contiguous run, bus address = physical address", () => {
    const p = runScenario("pem");
    const dom0 = p.snapshot.domains.find((d) => d.name === "dom0")!;
    expect(dom0.p2m).toEqual([{ pfn: dom0.pfnBase, mfn: dom0.pfnBase, count: dom0.nrPages }]);
    expect(p.snapshot.mappings[0]!.busAddress).toBe(p.snapshot.mappings[0]!.address);
  });

  it("vp-iommu: consecutive IOVA pages reach scattered frames", () => {
    const io = runScenario("vp-iommu").snapshot.iommu[0]!;
    const entries = [...io.entries].sort((x, y) => x.iovaPage - y.iovaPage);
    expect(entries).toHaveLength(3);
    expect(entries.every((e, i) => i === 0 || e.iovaPage === entries[i - 1]!.iovaPage + 1)).toBe(true);
    expect(entries.every((e, i) => i === 0 || e.mfn !== entries[i - 1]!.mfn + 1)).toBe(true);
  });

  it("xen-swiotlb-bounce: the mapping bounced through the pool", () => {
    const p = runScenario("xen-swiotlb-bounce");
    expect(p.snapshot.swiotlb[0]!.usedSlots).toBeGreaterThan(0);
    expect(p.trace.some((e) => e.kind === "bounce-copy")).toBe(true);
  });

  it("stray-dma: the disk wrote into domU1's frame", () => {
    const strays = runScenario("stray-dma").trace.filter((e) => e.kind === "stray-dma");
    expect(strays.map((e) => e.victim)).toEqual(["domU1"]);
  });

  it("grant-map-vs-tag: one foreign page per strategy, both DMA-mapped and read", () => {
    const p = runScenario("grant-map-vs-tag");
    expect(p.snapshot.foreignPages.map((f) => [f.domain, f.strategy]).sort()).toEqual([
      ["dom0", "map"],
      ["drv1", "tag"],
    ]);
    expect(
      p.trace
        .filter((e) => e.kind === "dma-read")
        .map((e) => e.device)
        .sort(),
    ).toEqual(["sda", "sdb"]);
    expect(p.trace.some((e) => e.kind === "stray-dma")).toBe(false);
  });

  it("iommu-lazy-stale: a write through a stale IOTLB entry, then a fault", () => {
    const kinds = runScenario("iommu-lazy-stale").trace.map((e) => e.kind);
    expect(kinds.indexOf("iotlb-stale")).toBeGreaterThan(kinds.indexOf("iommu-unmap"));
    expect(kinds.indexOf("iommu-fault")).toBeGreaterThan(kinds.indexOf("iotlb-stale"));
  });
});
