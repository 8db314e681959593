// The memory map: what it draws must be what the snapshot and trace say. Semantics pinned:
// - the p2m (PFN → MFN) is the table Xen PV guests translate through ("there is no guarantee
//   that PFN==MFN and PFN+1==MFN+1", torvalds/linux drivers/xen/swiotlb-xen.c header comment);
// - without an IOMMU a device's bus address is a machine address, so a DMA lands in whatever
//   frame is there (the design's stray DMA, victim named);
// - with an IOMMU, VT-d blocks an unmapped access with a fault (drivers/iommu/intel/dmar.c).
import { describe, expect, it } from "vitest";
import { createMachine, SimError } from "../../src/sim/index.js";
import { renderMemoryMap } from "../../src/render/index.js";
import { runScenario } from "../../src/components/memory-map-scenarios.js";
import { byClass, findAll, parseXml, textOf, tooltipOf } from "./xml.js";
import { cellAt, cellsOf, drawMachine, linksOf, rectOf } from "./helpers.js";

/** x86_64 with 4 KiB pages and 64 frames: small enough that every frame gets a cell. */
function tinyMachine() {
  const m = createMachine({ arch: "x86_64", memory: "256 KiB" });
  const dom0 = m.createDomain({ name: "dom0", mode: "P2M", layout: [5, 9, 2, 3] });
  const domU = m.createDomain({ name: "domU1", mode: "VP", layout: [10, 11, 12], privileged: false });
  return { m, dom0, domU };
}

const centre = (cell: ReturnType<typeof rectOf>) => cell.x + cell.w / 2;

describe("the memory map's structure", () => {
  it("is well-formed SVG with role img and an aria-label that summarises the machine", () => {
    const { m } = tinyMachine();
    const { root } = drawMachine(m);
    expect(root.name).toBe("svg");
    expect(root.attrs.role).toBe("img");
    expect(root.attrs["aria-label"]).toMatch(
      /^Memory map of a x86_64 machine with 256 KiB \(64 frames of 4 KiB\)\. Domains: dom0 \(P2M, 4 pages, 3 machine-contiguous runs\); domU1 \(VP, 3 pages, machine-contiguous\)\./,
    );
    expect(findAll(root, (e) => e.name === "style")).toHaveLength(1);
  });

  it("draws one band per domain, above one band of machine frames", () => {
    const { m } = tinyMachine();
    const { root } = drawMachine(m);
    const bands = findAll(root, (e) => e.attrs["data-band"] !== undefined).map((e) => e.attrs["data-band"]);
    expect(bands).toEqual(["domain:dom0", "domain:domU1", "machine"]);
    expect(cellsOf(root, "domain:dom0")).toHaveLength(4);
    expect(cellsOf(root, "domain:domU1")).toHaveLength(3);
    expect(cellsOf(root, "machine")).toHaveLength(64);
    expect(rectOf(cellAt(root, "domain:dom0", 0)).y).toBeLessThan(rectOf(cellAt(root, "machine", 0)).y);
  });

  it("colours machine frames by owner: each domain its own colour, free frames grey", () => {
    const { m } = tinyMachine();
    const { root } = drawMachine(m);
    const colour = (mfn: number) => rectOf(cellAt(root, "machine", mfn)).className;
    expect(colour(5)).toContain("dm-d0");
    expect(colour(10)).toContain("dm-d1");
    expect(colour(0)).toContain("dm-free");
    expect(cellAt(root, "machine", 9).attrs["data-owner"]).toBe("dom0");
  });

  it("draws one p2m line per page of an explicit layout, from the PFN cell to its MFN cell", () => {
    const { m } = tinyMachine();
    const { root } = drawMachine(m);
    const lines = linksOf(root, "domain:dom0");
    expect(lines.map((l) => [Number(l.attrs["data-from"]), Number(l.attrs["data-to"])]).sort((a, b) => a[0]! - b[0]!)).toEqual([
      [0, 5],
      [1, 9],
      [2, 2],
      [3, 3],
    ]);
    for (const line of lines) {
      const pfn = rectOf(cellAt(root, "domain:dom0", Number(line.attrs["data-from"])));
      const mfn = rectOf(cellAt(root, "machine", Number(line.attrs["data-to"])));
      expect(Number(line.attrs.x1)).toBeCloseTo(centre(pfn), 0);
      expect(Number(line.attrs.y1)).toBeCloseTo(pfn.y + pfn.h, 0);
      expect(Number(line.attrs.x2)).toBeCloseTo(centre(mfn), 0);
      expect(Number(line.attrs.y2)).toBeCloseTo(mfn.y, 0);
      expect(tooltipOf(line)).toMatch(/^dom0 p2m: PFN 0x\d → MFN 0x[0-9a-f]+$/);
    }
    expect(linksOf(root, "domain:domU1")).toHaveLength(3);
  });

  it("makes fragmentation visible: a shuffled layout's lines cross, a contiguous one's do not", () => {
    const { m } = tinyMachine();
    const { root } = drawMachine(m);
    const crossings = (band: string) => {
      const lines = linksOf(root, band).map((l) => [Number(l.attrs.x1), Number(l.attrs.x2)] as const);
      let n = 0;
      for (const [a1, a2] of lines) for (const [b1, b2] of lines) if (a1 < b1 && a2 > b2) n++;
      return n;
    };
    expect(crossings("domain:dom0")).toBeGreaterThan(0);
    expect(crossings("domain:domU1")).toBe(0);
  });

  it("is deterministic: the same snapshot draws the same string", () => {
    const p = runScenario("vp-iommu");
    expect(renderMemoryMap(p.snapshot, { trace: p.trace })).toBe(renderMemoryMap(p.snapshot, { trace: p.trace }));
  });

  it("escapes what it prints: a title with markup characters stays well-formed", () => {
    const { m } = tinyMachine();
    const { root } = drawMachine(m, { title: `<script>&"quotes"</script>` });
    expect(textOf(byClass(root, "dm-title")[0]!)).toBe(`<script>&"quotes"</script>`);
  });
});

describe("DMA in the picture", () => {
  it("draws stray DMA red and names the victim (direct backend in a P2M dom0)", () => {
    const p = runScenario("stray-dma");
    const root = parseXml(renderMemoryMap(p.snapshot, { trace: p.trace }));
    const stray = p.trace.find((e) => e.kind === "stray-dma")!;
    const mfn = stray.machineAddress! / p.snapshot.pageSize;
    const label = findAll(root, (e) => e.attrs["data-incident"] === "stray-dma")[0]!;
    expect(textOf(label)).toBe("stray DMA → domU1");
    expect(label.attrs.class).toContain("dm-err-text");
    const cell = cellAt(root, "machine", Math.floor(mfn));
    expect(cell.attrs.class).toContain("dm-has-error");
    expect(byClass(cell, "dm-err-box")).toHaveLength(1);
    expect(tooltipOf(cell)).toContain("which belongs to domU1");
    // The victim's own page is marked too, so the reader sees whose data was overwritten.
    expect(cellsOf(root, "domain:domU1").filter((c) => c.attrs.class!.includes("dm-has-error"))).toHaveLength(1);
    const arrows = findAll(root, (e) => e.name === "path" && e.attrs["data-device"] === "sda" && e.attrs["data-kind"] === "error");
    expect(arrows).toHaveLength(1);
    expect(arrows[0]!.attrs.class).toContain("dm-error");
    expect(root.attrs["aria-label"]).toContain("Stray DMA: sda hit domU1.");
  });

  it("with uptoSeq, counts only the events up to that step", () => {
    const p = runScenario("stray-dma");
    const seq = p.trace.find((e) => e.kind === "stray-dma")!.seq;
    const before = parseXml(renderMemoryMap(p.snapshot, { trace: p.trace, uptoSeq: seq - 1 }));
    const at = parseXml(renderMemoryMap(p.snapshot, { trace: p.trace, uptoSeq: seq }));
    expect(byClass(before, "dm-err-text")).toHaveLength(0);
    expect(byClass(before, "dm-error")).toHaveLength(0);
    expect(before.attrs["aria-label"]).not.toContain("Stray DMA");
    expect(byClass(at, "dm-err-text")).toHaveLength(1);
    expect(at.attrs["data-step"]).toBe(String(seq));
    expect(at.attrs["aria-label"]).toContain(`At step ${seq}: stray DMA`);
    // The event at the step is outlined where it happened.
    expect(byClass(at, "dm-current").length).toBeGreaterThan(0);
  });

  it("points read arrows at the device and write arrows at memory", () => {
    const { m, dom0 } = tinyMachine();
    const disk = m.attachDevice({ name: "sda", domain: dom0 });
    const dma = dom0.dmaApi(disk, "p2m");
    const out = dom0.alloc("4 KiB");
    const inb = dom0.alloc("4 KiB");
    disk.read(dma.mapSingle(out, 4096, "TO_DEVICE"), 64);
    disk.write(dma.mapSingle(inb, 4096, "FROM_DEVICE"), new Uint8Array(64));
    const { root } = drawMachine(m);
    const arrows = findAll(root, (e) => e.name === "path" && e.attrs["data-device"] === "sda");
    const read = arrows.find((a) => a.attrs["data-kind"] === "read")!;
    const write = arrows.find((a) => a.attrs["data-kind"] === "write")!;
    expect(read.attrs["marker-start"]).toMatch(/-plain\)$/);
    expect(read.attrs["marker-end"]).toBeUndefined();
    expect(write.attrs["marker-end"]).toMatch(/-plain\)$/);
    // Each arrow ends under the frame the device touched: bus address = machine address here.
    const mfn = Number(
      cellsOf(root, "machine").find((c) => c.attrs["data-mfn"] === String(dom0.pfnToMfn(dom0.pfnOf(out))))!.attrs["data-mfn"],
    );
    expect(read.attrs.d).toContain(String(Math.round(centre(rectOf(cellAt(root, "machine", mfn))) * 10) / 10));
  });

  it("draws IOMMU mappings as a band of IOVA pages linked to the machine frames", () => {
    const p = runScenario("vp-iommu");
    const root = parseXml(renderMemoryMap(p.snapshot, { trace: p.trace }));
    const io = p.snapshot.iommu[0]!;
    const band = `iova:${io.group}`;
    const lines = linksOf(root, band);
    expect(lines.map((l) => [Number(l.attrs["data-from"]), Number(l.attrs["data-to"])]).sort((a, b) => a[0]! - b[0]!)).toEqual(
      io.entries.map((e) => [e.iovaPage, e.mfn]).sort((a, b) => a[0]! - b[0]!),
    );
    // One contiguous IOVA range for machine frames that are not contiguous.
    const pages = io.entries.map((e) => e.iovaPage).sort((a, b) => a - b);
    expect(pages[pages.length - 1]! - pages[0]!).toBe(pages.length - 1);
    for (const page of pages) expect(cellAt(root, band, page).attrs.class).toContain("dm-has-live");
    for (const e of io.entries) expect(cellAt(root, "machine", e.mfn).attrs.class).toContain("dm-has-live");
  });

  it("flags a stale IOTLB entry amber and an IOMMU fault red (lazy invalidation)", () => {
    const p = runScenario("iommu-lazy-stale");
    const root = parseXml(renderMemoryMap(p.snapshot, { trace: p.trace }));
    const kinds = findAll(root, (e) => e.attrs["data-incident"] !== undefined).map((e) => [e.attrs["data-incident"], e.attrs.class]);
    expect(kinds).toContainEqual(["iotlb-stale", "dm-warn-text dm-halo"]);
    expect(kinds).toContainEqual(["iommu-fault", "dm-err-text dm-halo"]);
    const stale = byClass(root, "dm-stale-link");
    expect(stale).toHaveLength(1);
    expect(tooltipOf(stale[0]!)).toMatch(/^stale IOTLB entry: IOVA 0x[0-9a-f]+ still reaches MFN/);
    expect(root.attrs["aria-label"]).toContain("1 IOMMU fault (access blocked).");
  });

  it("hatches the swiotlb pool and draws the bounce copy from the buffer to its slot", () => {
    const p = runScenario("xen-swiotlb-bounce");
    const root = parseXml(renderMemoryMap(p.snapshot, { trace: p.trace }));
    const pool = cellsOf(root, "machine").filter((c) => c.attrs["data-kind"] === "pool");
    expect(pool.length).toBeGreaterThan(0);
    expect(findAll(pool[0]!, (e) => (e.attrs.fill ?? "").endsWith("-hatch)"))).toHaveLength(1);
    const arcs = findAll(root, (e) => e.attrs["data-kind"] === "bounce");
    expect(arcs).toHaveLength(1);
    expect(arcs[0]!.attrs["marker-end"]).toBeDefined(); // TO_DEVICE: copied into the bounce buffer at map time
    expect(byClass(root, "dm-bounce").length).toBeGreaterThan(0);
  });

  it("shows a grant-mapped foreign frame as a dashed p2m line into the granter's memory, a tagged page as a dotted one", () => {
    const p = runScenario("grant-map-vs-tag");
    const root = parseXml(renderMemoryMap(p.snapshot, { trace: p.trace }));
    const mapped = p.snapshot.foreignPages.find((f) => f.strategy === "map")!;
    const tagged = p.snapshot.foreignPages.find((f) => f.strategy === "tag")!;
    const foreignLine = byClass(root, "dm-foreign-link")[0]!;
    expect([Number(foreignLine.attrs["data-from"]), Number(foreignLine.attrs["data-to"])]).toEqual([mapped.pfn, mapped.mfn]);
    const tagLine = byClass(root, "dm-tag-link")[0]!;
    expect([Number(tagLine.attrs["data-from"]), Number(tagLine.attrs["data-to"])]).toEqual([tagged.pfn, tagged.mfn]);
    expect(cellAt(root, "domain:dom0", mapped.pfn!).attrs["data-kind"]).toBe("foreign");
    expect(cellAt(root, "domain:drv1", tagged.pfn!).attrs["data-kind"]).toBe("tagged");
    expect(cellAt(root, "machine", mapped.mfn).attrs["data-owner"]).toBe("domU1");
    // The granting domain's pages carry a marker in the grantee's colour.
    expect(byClass(root, "dm-granted")).toHaveLength(2);
  });

  it("marks a failed map_single of a buffer that is not machine-contiguous (p2m backend)", () => {
    const p = runScenario("p2m-fragmented");
    const root = parseXml(renderMemoryMap(p.snapshot, { trace: p.trace }));
    const labels = findAll(root, (e) => e.attrs["data-incident"] === "mapping-error");
    expect(labels.map(textOf)).toEqual(["mapping error"]);
    const reads = findAll(root, (e) => e.name === "path" && e.attrs["data-kind"] === "read");
    expect(reads).toHaveLength(2); // dma_map_sg gave the disk two segments in two frames
  });
});

describe("large machines stay small", () => {
  it("a 64 GiB machine draws within the cell budget, elides the rest with counts, and stays under 200 KB", () => {
    const m = createMachine({ arch: "ia64", memory: "64 GiB" });
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "2 GiB", layout: "fragmented" });
    m.createDomain({ name: "domU1", mode: "VP", memory: "1 GiB", privileged: false });
    const disk = m.attachDevice({ name: "sda", domain: dom0 });
    const nic = m.attachDevice({ name: "eth0", domain: dom0, iommu: true });
    const buf = dom0.alloc("64 KiB");
    disk.read(dom0.dmaApi(disk, "xen-swiotlb").mapSingle(buf, 65536, "TO_DEVICE"), 65536);
    nic.write(dom0.dmaApi(nic, "iommu").mapSingle(buf, 65536, "FROM_DEVICE"), new Uint8Array(100));
    const { svg, root } = drawMachine(m);
    expect(svg.length).toBeLessThan(200_000);
    const machine = cellsOf(root, "machine");
    expect(machine.length).toBeLessThanOrEqual(64);
    const units = machine.reduce((n, c) => n + (c.attrs["data-count"] ? 3 : 1), 0);
    expect(units).toBeLessThanOrEqual(64);
    expect(cellsOf(root, "domain:dom0").length + cellsOf(root, "domain:domU1").length).toBeLessThanOrEqual(64);
    // The free memory above the domains is one elided cell that says how much it stands for.
    const free = machine.filter((c) => c.attrs["data-kind"] === "free" && Number(c.attrs["data-count"]) > 3_000_000);
    expect(free).toHaveLength(1);
    expect(tooltipOf(free[0]!)).toMatch(/^… 3,\d{3},\d{3} free frames … \(MFN 0x[0-9a-f]+–0x3fffff\)$/);
    expect(findAll(root, (e) => e.name === "line").length).toBeLessThanOrEqual(400 + 1);
    // What matters stays drawn: the mapped buffer's pages have cells of their own.
    expect(cellAt(root, "domain:dom0", dom0.pfnOf(buf)).attrs["data-count"]).toBeUndefined();
  });

  it("when only some of many mappings fit, the IOVA and machine bands detail the same ones", () => {
    const m = createMachine({ arch: "x86_64", memory: "4 GiB", hypervisor: "none" });
    const linux = m.createDomain({ name: "linux", mode: "P==M", memory: "1 GiB" });
    const nic = m.attachDevice({ name: "eth0", domain: linux, iommu: true });
    const api = linux.dmaApi(nic, "iommu");
    for (let i = 0; i < 300; i++) api.mapSingle(linux.alloc("4 KiB"), 4096, "FROM_DEVICE");
    const { svg, root } = drawMachine(m);
    expect(svg.length).toBeLessThan(200_000);
    const detailed = new Set(
      cellsOf(root, "machine")
        .filter((c) => !c.attrs["data-count"])
        .map((c) => c.attrs["data-mfn"]),
    );
    const lines = linksOf(root, "iova:device:eth0").filter((l) => !l.attrs["data-count"]);
    expect(lines.length).toBeGreaterThan(30);
    expect(lines.filter((l) => detailed.has(l.attrs["data-to"])).length).toBe(lines.length);
  });

  it("keeps the interesting frames detailed when the budget is tight", () => {
    const p = runScenario("stray-dma");
    const root = parseXml(renderMemoryMap(p.snapshot, { trace: p.trace, maxCells: 16 }));
    const stray = p.trace.find((e) => e.kind === "stray-dma")!;
    const cell = cellAt(root, "machine", stray.machineAddress! / p.snapshot.pageSize);
    expect(cell.attrs["data-count"]).toBeUndefined();
    expect(cell.attrs.class).toContain("dm-has-error");
    expect(cellsOf(root, "machine").some((c) => c.attrs["data-count"] !== undefined)).toBe(true);
  });
});

describe("bad arguments", () => {
  it("throws SimError naming the option and what is allowed", () => {
    const snap = tinyMachine().m.snapshot();
    const error = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as SimError;
      }
      throw new Error("no error");
    };
    const a = error(() => renderMemoryMap(snap, { maxCells: 3 }));
    expect(a).toBeInstanceOf(SimError);
    expect([a.code, a.field]).toEqual(["INVALID_ARGUMENT", "options.maxCells"]);
    expect(a.message).toBe("renderMemoryMap: options.maxCells must be an integer from 16 to 2000, got 3");
    expect(error(() => renderMemoryMap({} as never)).field).toBe("snapshot");
    expect(error(() => renderMemoryMap(snap, { trace: "x" as never })).field).toBe("options.trace");
  });
});
