// Property: an IOMMU-protected backend never lets a device touch a frame it was not
// granted. Random guests grant pages (some read-only), the backend maps, unmaps and ends grants,
// maps foreign pages for DMA with the iommu backend under either foreign-page strategy, and the
// device writes anywhere: live and stale grant addresses, live and stale DMA addresses, random
// IOVAs, raw machine addresses. After every step, each guest frame that is not currently mapped
// WRITABLE by the backend still holds what it held when it last was.
// Pinned to: xen-project/xen xen/include/public/grant_table.h ("After executing a batch of unmaps,
// it is guaranteed that no stale mappings will remain in the device or host TLBs"; GTF_readonly)
// and xen/common/grant_table.c (read-only grant mappings get IOMMUF_readable entries only);
// Documentation/Intel-IOMMU.txt (faulting DMA is blocked). The backend driver follows blkback's
// order: a request's DMA mappings are unmapped before its grants.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { SimError, createMachine } from "../../src/sim/index.js";
import type { Direction, StructPage } from "../../src/sim/index.js";

const GUEST_PAGES = 8;
const PAGE = 4096;

// Weighted so runs reach the states that matter: grants mapped, DMA-mapped, written through,
// then torn down while stale addresses are still tried.
const op = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant("grant" as const), pfn: fc.nat(GUEST_PAGES - 1), readonly: fc.boolean() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("map" as const),
      which: fc.nat(15),
      readonly: fc.boolean(),
      device: fc.constantFrom("disk", "disk", "plain", "none"),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("unmap" as const), which: fc.nat(15) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("end" as const), which: fc.nat(15) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("dmaMap" as const),
      which: fc.nat(15),
      dir: fc.constantFrom<Direction>("TO_DEVICE", "FROM_DEVICE", "BIDIRECTIONAL"),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("dmaUnmap" as const), which: fc.nat(15) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant("write" as const),
      target: fc.constantFrom("grant", "dma", "dma", "iova", "machine"),
      which: fc.nat(15),
      offset: fc.nat(PAGE - 64),
      length: fc.integer({ min: 1, max: 64 }),
      value: fc.integer({ min: 0, max: 255 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("advance" as const), us: fc.nat(20_000) }) },
);

const scenario = fc.record({
  strategy: fc.constantFrom("map" as const, "tag" as const),
  backendMode: fc.constantFrom("P2M" as const, "VP" as const),
  guestMode: fc.constantFrom("P2M" as const, "VP" as const),
  invalidation: fc.constantFrom("strict" as const, "lazy" as const),
  seed: fc.nat(1000),
  ops: fc.array(op, { minLength: 10, maxLength: 60, size: "max" }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

interface Dma {
  bus: number;
  dir: Direction;
  live: boolean;
}

interface Mapping {
  handle: number;
  pfn: number;
  readonly: boolean;
  page: StructPage | null;
  devBus: number | null;
  live: boolean;
  dmas: Dma[];
}

/** Runs one scenario; returns the first isolation breach found, or null. */
function breach(s: Scenario): string | null {
  const m = createMachine({ arch: "x86_64", memory: "64 MiB", seed: s.seed });
  const dom0 = m.createDomain({ name: "dom0", mode: s.backendMode, memory: "1 MiB", foreignPages: s.strategy });
  const domU = m.createDomain({ name: "domU1", mode: s.guestMode, memory: GUEST_PAGES * PAGE });
  const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 64, iommu: { invalidation: s.invalidation } });
  const dma = dom0.dmaApi(disk, "iommu");
  for (let pfn = 0; pfn < GUEST_PAGES; pfn++) domU.write(pfn * PAGE, new Uint8Array(PAGE).fill(pfn * 31 + 7));
  const baseline = Array.from({ length: GUEST_PAGES }, (_, pfn) => domU.read(pfn * PAGE, PAGE));
  const grants: { gref: number; pfn: number; live: boolean }[] = [];
  const mappings: Mapping[] = [];
  const pick = <T>(list: T[], which: number): T | undefined => (list.length ? list[which % list.length] : undefined);
  const writable = (pfn: number) => mappings.some((x) => x.live && !x.readonly && x.pfn === pfn);
  const attempt = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      if (!(error instanceof SimError)) throw error;
    }
  };
  // A frame that stops being writable-mapped keeps what it holds from then on.
  const rebase = () => {
    for (let pfn = 0; pfn < GUEST_PAGES; pfn++) if (writable(pfn)) baseline[pfn] = undefined as never;
    for (let pfn = 0; pfn < GUEST_PAGES; pfn++)
      if (!writable(pfn) && baseline[pfn] === undefined) baseline[pfn] = domU.read(pfn * PAGE, PAGE);
  };
  rebase();
  for (const o of s.ops) {
    switch (o.op) {
      case "grant":
        attempt(() => grants.push({ gref: domU.grantAccess(o.pfn, dom0, { readonly: o.readonly }), pfn: o.pfn, live: true }));
        break;
      case "map": {
        // Live grants only: an ended gref is handed out again (gnttab's free list), so an old
        // record would name the wrong page.
        const g = pick(
          grants.filter((y) => y.live),
          o.which,
        );
        if (!g) break;
        attempt(() => {
          const device = o.device === "disk" ? disk : o.device === "plain";
          const r = dom0.mapGrant(domU, g.gref, { readonly: o.readonly, device });
          mappings.push({
            handle: r.handle,
            pfn: g.pfn,
            readonly: r.readonly,
            page: r.page,
            devBus: r.devBusAddress,
            live: true,
            dmas: [],
          });
        });
        break;
      }
      case "unmap": {
        const x = pick(
          mappings.filter((y) => y.live),
          o.which,
        );
        if (!x) break;
        for (const d of x.dmas.filter((y) => y.live)) {
          dma.unmapPage(d.bus, PAGE, d.dir);
          d.live = false;
        }
        dom0.unmapGrant(x.handle);
        x.live = false;
        break;
      }
      case "end": {
        const g = pick(
          grants.filter((y) => y.live),
          o.which,
        );
        if (g && domU.endAccess(g.gref)) g.live = false;
        break;
      }
      case "dmaMap": {
        const x = pick(
          mappings.filter((y) => y.live && y.page),
          o.which,
        );
        if (!x) break;
        const bus = dma.mapPage(x.page!, 0, PAGE, o.dir);
        if (!dma.mappingError(bus)) x.dmas.push({ bus, dir: o.dir, live: true });
        break;
      }
      case "dmaUnmap": {
        const d = pick(
          mappings.flatMap((y) => y.dmas.filter((z) => z.live)),
          o.which,
        );
        if (!d) break;
        dma.unmapPage(d.bus, PAGE, d.dir);
        d.live = false;
        break;
      }
      case "write": {
        let bus: number | null | undefined;
        if (o.target === "grant") bus = pick(mappings, o.which)?.devBus;
        else if (o.target === "dma")
          bus = pick(
            mappings.flatMap((y) => y.dmas),
            o.which,
          )?.bus;
        else if (o.target === "iova") bus = (o.which * 977 + 1) * PAGE + 2 ** 31;
        else bus = domU.pfnToMfn(o.which % GUEST_PAGES)! * PAGE;
        if (bus === null || bus === undefined) break;
        attempt(() => disk.write(bus + o.offset, new Uint8Array(o.length).fill(o.value)));
        break;
      }
      case "advance":
        m.advanceTime(o.us);
        break;
    }
    rebase();
    // Only a device write can change guest memory here (no guest or backend CPU writes).
    if (o.op !== "write") continue;
    for (let pfn = 0; pfn < GUEST_PAGES; pfn++) {
      const expected = baseline[pfn];
      if (expected === undefined) continue;
      const now = domU.read(pfn * PAGE, PAGE);
      if (now.some((b, i) => b !== expected[i])) return `guest pfn ${pfn} changed while not mapped writable, after ${JSON.stringify(o)}`;
    }
  }
  const strays = m.trace.filter((e) => e.kind === "stray-dma" && e.victim === "domU1");
  return strays.length ? `stray DMA into the guest: ${strays[0]!.message}` : null;
}

describe("grant isolation behind an IOMMU", () => {
  it("a device never changes a guest frame the backend does not hold mapped writable", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        expect(breach(s)).toBeNull();
      }),
      { numRuns: 400, seed: 4242 },
    );
  }, 60_000);
});
