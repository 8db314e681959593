// Whatever machine a reader builds in the playground, the picture must come out: random
// machines, layouts, backends, mappings, grants and device accesses (stray ones included) always
// render to well-formed SVG within the cell budget. Only SimError may escape the simulator calls.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { BACKEND_NAMES, SimError, createMachine } from "../../src/sim/index.js";
import type { BackendName, Direction } from "../../src/sim/index.js";
import { renderMemoryMap } from "../../src/render/index.js";
import { byClass, findAll, parseXml } from "./xml.js";

const DIRS: Direction[] = ["TO_DEVICE", "FROM_DEVICE", "BIDIRECTIONAL"];

const scenario = fc.record({
  arch: fc.constantFrom("ia64" as const, "x86_64" as const),
  memoryMiB: fc.constantFrom(16, 64, 256),
  era: fc.constantFrom("2006" as const, "modern" as const),
  domains: fc.array(
    fc.record({
      mode: fc.constantFrom("P==M" as const, "P2M" as const, "VP" as const),
      pages: fc.integer({ min: 1, max: 40 }),
      layout: fc.constantFrom("contiguous" as const, "fragmented" as const, "reverse" as const),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  devices: fc.array(
    fc.record({ iommu: fc.constantFrom(false, "strict" as const, "lazy" as const), backend: fc.constantFrom(...BACKEND_NAMES) }),
    { maxLength: 3 },
  ),
  ops: fc.array(
    fc.record({
      what: fc.constantFrom("map", "sg", "grant", "stray", "unmap"),
      size: fc.integer({ min: 1, max: 5 }),
      dir: fc.constantFrom(...DIRS),
      at: fc.nat(1 << 20),
    }),
    { maxLength: 12 },
  ),
  maxCells: fc.integer({ min: 16, max: 120 }),
  step: fc.option(fc.nat(400)),
});

function attempt(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof SimError)) throw e;
  }
}

describe("memory map fuzz", () => {
  it("renders every machine the simulator can build", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const m = createMachine({ arch: s.arch, memory: `${s.memoryMiB} MiB`, era: s.era, swiotlb: { size: "256 KiB" } });
        const ps = m.pageSize;
        const domains = s.domains.flatMap((d, i) => {
          try {
            return [
              m.createDomain({
                name: `d${i}`,
                mode: d.mode,
                memory: d.pages * ps,
                layout: d.mode === "P==M" ? "contiguous" : d.layout,
                privileged: i === 0,
              }),
            ];
          } catch (e) {
            if (e instanceof SimError) return [];
            throw e;
          }
        });
        const dom0 = domains[0];
        const apis = dom0
          ? s.devices.flatMap((d, i) => {
              try {
                const dev = m.attachDevice({
                  name: `dev${i}`,
                  domain: dom0,
                  iommu: d.iommu === false ? false : { invalidation: d.iommu as "strict" | "lazy" },
                });
                return [{ dev, api: dom0.dmaApi(dev, d.backend as BackendName) }];
              } catch (e) {
                if (e instanceof SimError) return [];
                throw e;
              }
            })
          : [];
        const live: { api: (typeof apis)[number]["api"]; bus: number; size: number; dir: Direction }[] = [];
        for (const op of s.ops) {
          const pick = apis[op.at % Math.max(1, apis.length)];
          attempt(() => {
            if (!dom0) return;
            if (op.what === "grant" && domains.length > 1) {
              const domU = domains[1 + (op.at % (domains.length - 1))]!;
              dom0.mapGrant(domU, domU.grantAccess(domU.pfnBase + (op.at % domU.nrPages), dom0));
            } else if (op.what === "stray" && pick) {
              pick.dev.write((op.at * 64) % (m.memory - 64), new Uint8Array(64));
            } else if (op.what === "unmap" && live.length) {
              const l = live.pop()!;
              l.api.unmapSingle(l.bus, l.size, l.dir);
            } else if (pick) {
              const size = Math.min(op.size * ps, dom0.memory);
              const buf = dom0.alloc(size);
              if (op.what === "sg") pick.api.mapSg([{ address: buf, length: Math.ceil(size / 2) }], op.dir);
              else {
                const bus = pick.api.mapSingle(buf, size, op.dir);
                if (!pick.api.mappingError(bus)) {
                  live.push({ api: pick.api, bus, size, dir: op.dir });
                  if (op.dir === "TO_DEVICE") pick.dev.read(bus, Math.min(size, 256));
                  else pick.dev.write(bus, new Uint8Array(Math.min(size, 256)));
                }
              }
            }
          });
        }
        const svg = renderMemoryMap(m.snapshot(), { trace: m.trace, maxCells: s.maxCells, uptoSeq: s.step ?? undefined });
        const root = parseXml(svg);
        expect(root.attrs.role).toBe("img");
        for (const band of findAll(root, (e) => e.attrs["data-band"] !== undefined)) {
          const cells = byClass(band, "dm-c");
          const units = cells.reduce((n, c) => n + (c.attrs["data-count"] ? 3 : 1), 0);
          // Each band keeps to its row's budget (its share, or at worst the minimum of 7 units per band).
          expect(units).toBeLessThanOrEqual(Math.max(s.maxCells, 7 * 2 + 1) + 3);
        }
      }),
      { numRuns: 120 },
    );
  });
});
