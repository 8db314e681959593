/**
 * Scenarios for the explorable figures (<Explorable scenario=…>): each builds a small machine
 * from one to three control settings, runs a few lines of driver code with history on, and
 * returns the machine, so a figure can step through its events with `snapshot({ at })`. The
 * same module runs at build time (the static picture in the HTML) and in the browser after the
 * first interaction, so both draw exactly the same run.
 */
import { SimError, createMachine, describeValue } from "../sim/index.js";
import type { BackendName, Machine } from "../sim/index.js";

/** One choice of a control: the value the scenario reads and the words the reader sees. */
export interface ControlChoice {
  value: string;
  label: string;
}

/** A select control of an explorable figure; the first choice is the default. */
export interface ControlSpec {
  name: string;
  label: string;
  choices: ControlChoice[];
}

/** Control name → chosen value. */
export type Settings = Record<string, string>;

export interface ExplorableScenario {
  /** Heading inside the picture. */
  title: string;
  /** One to three controls. */
  controls: ControlSpec[];
  /** Builds and runs the scenario for these settings; the machine records history. */
  run(settings: Settings): Machine;
  /** The event shown before the reader steps (default: the last). */
  initialStep?(m: Machine): number;
}

/** The machine the running scenario built: a simulated panic ends the code, not the figure. */
let current: Machine | undefined;

/** A 64 MiB IA-64 machine (16 KiB pages) recording history: small enough that domains draw whole. */
function machine(extra: Parameters<typeof createMachine>[0] | object = {}): Machine {
  const m = createMachine({ arch: "ia64", memory: "64 MiB", ...extra });
  m.recordHistory();
  current = m;
  return m;
}

/**
 * Runs a scenario. A setting that makes the simulated kernel panic (the 2006 xenified kernel's
 * BUG() on a straddling buffer without swiotlb) is part of the story: the run ends there, with
 * the panic as its last event.
 */
export function runExplorable(scenario: ExplorableScenario, settings: Settings): Machine {
  current = undefined;
  try {
    return scenario.run(settings);
  } catch (err) {
    const m = current as Machine | undefined;
    if (err instanceof SimError && m && m.trace.length > 0) return m;
    throw err;
  }
}

const PAGE = 16384;

/** addresses: one 2-page buffer, mapped for a disk by a dom0 in each mode. */
const addressModes: ExplorableScenario = {
  title: "One buffer, three kinds of dom0",
  controls: [
    {
      name: "mode",
      label: "dom0's mode",
      choices: [
        { value: "P2M", label: "P2M (reads its p2m)" },
        { value: "P==M", label: "P==M (pfn == mfn)" },
        { value: "VP", label: "VP + IOMMU" },
      ],
    },
  ],
  run(s) {
    const m = machine();
    const mode = s.mode as "P2M" | "P==M" | "VP";
    const dom0 = m.createDomain({ name: "dom0", mode, memory: "256 KiB" });
    m.createDomain({ name: "domU1", mode: "VP", memory: "256 KiB", privileged: false });
    const disk = m.attachDevice({ name: "sda", domain: dom0, iommu: mode === "VP" });
    const backend: BackendName = mode === "P==M" ? "direct" : mode === "P2M" ? "p2m" : "iommu";
    const dma = dom0.dmaApi(disk, backend);
    const buf = dom0.alloc("32 KiB");
    const bus = dma.mapSingle(buf, 2 * PAGE, "TO_DEVICE");
    if (!dma.mappingError(bus)) {
      disk.read(bus, 2 * PAGE);
      dma.unmapSingle(bus, 2 * PAGE, "TO_DEVICE");
    } else {
      const sg = dma.mapSg(
        [
          { address: buf, length: PAGE },
          { address: buf + PAGE, length: PAGE },
        ],
        "TO_DEVICE",
      );
      for (const seg of sg.segments) disk.read(seg.busAddress, seg.length);
      dma.unmapSg(
        [
          { address: buf, length: PAGE },
          { address: buf + PAGE, length: PAGE },
        ],
        "TO_DEVICE",
      );
    }
    return m;
  },
};

/** dma-api: the IOMMU backend under strict and lazy IOTLB invalidation. */
const iotlbInvalidation: ExplorableScenario = {
  title: "Unmapping behind an IOMMU: strict or lazy",
  controls: [
    {
      name: "invalidation",
      label: "IOTLB invalidation",
      choices: [
        { value: "lazy", label: "lazy (batched flush)" },
        { value: "strict", label: "strict (flush at unmap)" },
      ],
    },
  ],
  run(s) {
    const m = machine();
    const dom0 = m.createDomain({ name: "dom0", mode: "VP", memory: "256 KiB" });
    const nic = m.attachDevice({ name: "eth0", domain: dom0, iommu: { invalidation: s.invalidation === "strict" ? "strict" : "lazy" } });
    const dma = dom0.dmaApi(nic, "iommu");
    const buf = dom0.alloc("16 KiB");
    const bus = dma.mapSingle(buf, PAGE, "FROM_DEVICE");
    if (dma.mappingError(bus)) return m;
    nic.write(bus, new Uint8Array(64).fill(1));
    dma.unmapSingle(bus, PAGE, "FROM_DEVICE");
    nic.write(bus, new Uint8Array(64).fill(2));
    m.advanceTime(10_000); // the lazy queue's 10 ms timer
    nic.write(bus, new Uint8Array(64).fill(3));
    return m;
  },
  // The NIC's first write after the unmap: through the stale entry (lazy) or a fault (strict).
  initialStep(m) {
    const unmap = m.trace.find((e) => e.kind === "unmap");
    return m.trace.find((e) => unmap && e.seq > unmap.seq && (e.kind === "iotlb-stale" || e.kind === "iommu-fault"))?.seq ?? m.trace.length;
  },
};

/** spanning-pages: a buffer straddling two machine-discontiguous frames, per backend and era. */
const straddleBounce: ExplorableScenario = {
  title: "A buffer that straddles two frames",
  controls: [
    {
      name: "backend",
      label: "DMA-API backend",
      choices: [
        { value: "xen-swiotlb", label: "xen-swiotlb (bounces)" },
        { value: "p2m", label: "p2m (no bounce pool)" },
      ],
    },
    {
      name: "era",
      label: "Linux",
      choices: [
        { value: "modern", label: "modern" },
        { value: "2006", label: "2006" },
      ],
    },
  ],
  run(s) {
    const m = machine({ swiotlb: { size: "256 KiB" }, era: s.era === "2006" ? "2006" : "modern" });
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "256 KiB", layout: "fragmented" });
    const disk = m.attachDevice({ name: "sda", domain: dom0 });
    const dma = dom0.dmaApi(disk, s.backend === "p2m" ? "p2m" : "xen-swiotlb");
    const buf = dom0.alloc("32 KiB");
    // 8 KiB that cross the boundary between the buffer's two pages.
    const start = buf + PAGE - 4096;
    dom0.write(start, new Uint8Array(8192).fill(1));
    const bus = dma.mapSingle(start, 8192, "TO_DEVICE");
    if (dma.mappingError(bus)) return m;
    disk.read(bus, 8192);
    dma.unmapSingle(bus, 8192, "TO_DEVICE");
    return m;
  },
};

/** foreign-pages: a domU's granted page in a backend, mapped or tagged, with or without an IOMMU. */
const foreignPage: ExplorableScenario = {
  title: "A granted page in a backend",
  controls: [
    {
      name: "strategy",
      label: "Foreign page",
      choices: [
        { value: "map", label: "map (grant-map into dom0)" },
        { value: "tag", label: "tag (flagged struct page)" },
      ],
    },
    {
      name: "iommu",
      label: "IOMMU",
      choices: [
        { value: "off", label: "off (P2M dom0)" },
        { value: "on", label: "on (VP dom0; Xen programs it)" },
      ],
    },
  ],
  run(s) {
    const m = machine();
    const iommu = s.iommu === "on";
    const dom0 = m.createDomain({
      name: "dom0",
      mode: iommu ? "VP" : "P2M",
      memory: "128 KiB",
      foreignPages: s.strategy === "tag" ? "tag" : "map",
    });
    const domU = m.createDomain({ name: "domU1", mode: "VP", memory: "128 KiB", privileged: false });
    const sda = m.attachDevice({ name: "sda", domain: dom0, iommu });
    const dma = dom0.dmaApi(sda, iommu ? "iommu" : "p2m");
    const gref = domU.grantAccess(2, dom0, { readonly: true });
    // Behind an IOMMU, Xen puts the granted frame into the device's IOMMU table at grant-map time.
    const mapping = dom0.mapGrant(domU, gref, { host: s.strategy !== "tag", device: iommu ? sda : true, readonly: true });
    const bus = dma.mapPage(mapping.page!, 0, PAGE, "TO_DEVICE");
    if (!dma.mappingError(bus)) {
      sda.read(bus, PAGE);
      dma.unmapPage(bus, PAGE, "TO_DEVICE");
    }
    dom0.unmapGrant(mapping.handle);
    domU.endAccess(gref);
    return m;
  },
};

/** Scenario name → scenario. */
export const EXPLORABLE_SCENARIOS = {
  "address-modes": addressModes,
  "iotlb-invalidation": iotlbInvalidation,
  "straddle-bounce": straddleBounce,
  "foreign-page": foreignPage,
} as const satisfies Record<string, ExplorableScenario>;

export type ExplorableName = keyof typeof EXPLORABLE_SCENARIOS;

/** The named scenario; an unknown name throws, listing the known ones (a typo in a page fails the build). */
export function explorableScenario(name: string): ExplorableScenario {
  if (!Object.hasOwn(EXPLORABLE_SCENARIOS, name)) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `unknown explorable scenario ${describeValue(name)} (known: ${Object.keys(EXPLORABLE_SCENARIOS).join(", ")})`,
      "scenario",
    );
  }
  return EXPLORABLE_SCENARIOS[name as ExplorableName];
}

/** Each control's first choice. */
export function defaultSettings(scenario: ExplorableScenario): Settings {
  return Object.fromEntries(scenario.controls.map((c) => [c.name, c.choices[0]!.value]));
}
