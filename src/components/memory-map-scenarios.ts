/**
 * Named build-time scenarios for the docs' pictures: each builds a small machine with the
 * simulator, runs a few lines of driver code, and returns the snapshot and trace that
 * `renderMemoryMap` draws. Pages name one (`<MemoryMap scenario="stray-dma" />`); each is a
 * miniature of a point in the 2006 thread. Imported by Astro components only: the playground
 * bundle does not need the simulator twice.
 */
import { SimError, createMachine, describeValue } from "../sim/index.js";
import type { Machine, MachineConfig, MachineSnapshot, TraceEvent } from "../sim/index.js";

/** What a scenario hands to the renderer. */
export interface ScenarioPicture {
  /** Short heading for the picture. */
  title: string;
  /** One or two sentences: what the reader should see. */
  description: string;
  snapshot: MachineSnapshot;
  trace: TraceEvent[];
}

function picture(m: Machine, title: string, description: string): ScenarioPicture {
  return { title, description, snapshot: m.snapshot(), trace: m.trace.map((e) => ({ ...e })) };
}

/** A 64 MiB IA-64 machine (16 KiB pages): small enough that the domains draw whole. */
const machine = (extra: Partial<MachineConfig> = {}) => createMachine({ arch: "ia64", memory: "64 MiB", ...extra });

/** Two PFN-adjacent pages of a fragmented P2M dom0 that are not machine-adjacent: map_single fails, map_sg splits. */
function p2mFragmented(): ScenarioPicture {
  const m = machine();
  const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "256 KiB", layout: "fragmented" });
  m.createDomain({ name: "domU1", mode: "VP", memory: "256 KiB", privileged: false });
  const disk = m.attachDevice({ name: "sda", domain: dom0 });
  const dma = dom0.dmaApi(disk, "p2m");
  const buf = dom0.alloc("32 KiB");
  dma.mappingError(dma.mapSingle(buf, 32768, "TO_DEVICE"));
  const sg = dma.mapSg(
    [
      { address: buf, length: 16384 },
      { address: buf + 16384, length: 16384 },
    ],
    "TO_DEVICE",
  );
  for (const s of sg.segments) disk.read(s.busAddress, s.length);
  return picture(
    m,
    "P2M dom0, fragmented: a 2-page buffer is not machine-contiguous",
    "PFNs 0 and 1 are adjacent, their machine frames are not: dma_map_single fails, dma_map_sg hands the disk two segments.",
  );
}

/** P==M: PFN == MFN, so a multi-page buffer is machine-contiguous and bus = physical. */
function pem(): ScenarioPicture {
  const m = machine();
  const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "256 KiB" });
  m.createDomain({ name: "domU1", mode: "VP", memory: "256 KiB", privileged: false });
  const disk = m.attachDevice({ name: "sda", domain: dom0 });
  const dma = dom0.dmaApi(disk, "direct");
  const buf = dom0.alloc("32 KiB");
  const bus = dma.mapSingle(buf, 32768, "TO_DEVICE");
  if (!dma.mappingError(bus)) disk.read(bus, 32768);
  return picture(
    m,
    "P==M dom0: every PFN is its MFN",
    "dom0's lines drop straight down: a buffer contiguous in PFNs is contiguous in machine memory, and the bus address is the physical address.",
  );
}

/** VP dom0 with an IOMMU: Xen maps a scattered buffer into one contiguous IOVA range. */
function vpIommu(): ScenarioPicture {
  const m = machine();
  const dom0 = m.createDomain({ name: "dom0", mode: "VP", memory: "256 KiB", layout: "fragmented" });
  m.createDomain({ name: "domU1", mode: "VP", memory: "256 KiB", privileged: false });
  const disk = m.attachDevice({ name: "sda", domain: dom0, iommu: true });
  const dma = dom0.dmaApi(disk, "iommu");
  const buf = dom0.alloc("48 KiB");
  const bus = dma.mapSingle(buf, 49152, "FROM_DEVICE");
  if (!dma.mappingError(bus)) disk.write(bus, new Uint8Array(49152).fill(7));
  return picture(
    m,
    "VP dom0 behind an IOMMU: one IOVA range for scattered frames",
    "Three pages in three scattered machine frames become one contiguous IOVA range; the disk writes through the IOMMU's page table.",
  );
}

/** xen-swiotlb: a buffer straddling non-contiguous frames bounces through the machine-contiguous pool. */
function xenSwiotlbBounce(): ScenarioPicture {
  const m = machine({ swiotlb: { size: "256 KiB" } });
  const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "256 KiB", layout: "fragmented" });
  const disk = m.attachDevice({ name: "sda", domain: dom0 });
  const dma = dom0.dmaApi(disk, "xen-swiotlb");
  const buf = dom0.alloc("32 KiB");
  dom0.write(buf, new Uint8Array(32768).fill(1));
  const bus = dma.mapSingle(buf, 32768, "TO_DEVICE");
  if (!dma.mappingError(bus)) disk.read(bus, 32768);
  return picture(
    m,
    "xen-swiotlb: bouncing a buffer that straddles non-contiguous frames",
    "The buffer's two frames are not adjacent, so xen-swiotlb copies it into its bounce pool (hatched), whose frames XENMEM_exchange made machine-contiguous; the disk reads the copy.",
  );
}

/** The direct backend in a P2M dom0: bus = guest-physical, which is another domain's frame. */
function strayDma(): ScenarioPicture {
  const m = machine();
  const frames = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  m.createDomain({ name: "domU1", mode: "VP", layout: frames(0, 16), privileged: false });
  const dom0 = m.createDomain({ name: "dom0", mode: "P2M", layout: frames(24, 16), privileged: true });
  const disk = m.attachDevice({ name: "sda", domain: dom0 });
  const dma = dom0.dmaApi(disk, "direct");
  const buf = dom0.alloc("16 KiB") + 2 * 16384;
  const bus = dma.mapSingle(buf, 16384, "FROM_DEVICE");
  if (!dma.mappingError(bus)) disk.write(bus, new Uint8Array(512).fill(0xee));
  return picture(
    m,
    "Stray DMA: the direct backend in a P2M dom0",
    "dom0 hands the disk its guest-physical address as the bus address; without an IOMMU that is a machine address, and the frame there belongs to domU1.",
  );
}

/** Today's grant map (dom0) next to the summit's tag (a second driver domain), for one domU. */
function grantMapVsTag(): ScenarioPicture {
  const m = machine();
  const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "128 KiB", foreignPages: "map" });
  const drv = m.createDomain({ name: "drv1", mode: "P2M", memory: "128 KiB", privileged: true, foreignPages: "tag" });
  const domU = m.createDomain({ name: "domU1", mode: "VP", memory: "128 KiB", privileged: false });
  const sda = m.attachDevice({ name: "sda", domain: dom0 });
  const sdb = m.attachDevice({ name: "sdb", domain: drv });
  const mapped = dom0.mapGrant(domU, domU.grantAccess(2, dom0, { readonly: true }), { host: true, readonly: true });
  const tagged = drv.mapGrant(domU, domU.grantAccess(5, drv, { readonly: true }), { host: false, device: true, readonly: true });
  const a = dom0.dmaApi(sda, "p2m");
  const b = drv.dmaApi(sdb, "p2m");
  const busA = a.mapPage(mapped.page!, 0, 16384, "TO_DEVICE");
  if (!a.mappingError(busA)) sda.read(busA, 16384);
  const busB = b.mapPage(tagged.page!, 0, 16384, "TO_DEVICE");
  if (!b.mappingError(busB)) sdb.read(busB, 16384);
  return picture(
    m,
    "A domU's page in a backend: grant-mapped (dom0) vs tagged (drv1)",
    "dom0 maps domU1's granted frame at a pseudo-physical page of its own (dashed line); drv1 only tags a struct page with the grant handle (dotted: never mapped). Both disks read the same kind of frame.",
  );
}

/** Lazy IOTLB invalidation: after an unmap the device still gets through until the flush; a never-mapped IOVA faults. */
function iommuLazyStale(): ScenarioPicture {
  const m = machine();
  const dom0 = m.createDomain({ name: "dom0", mode: "VP", memory: "256 KiB" });
  const nic = m.attachDevice({ name: "eth0", domain: dom0, iommu: { invalidation: "lazy" } });
  const dma = dom0.dmaApi(nic, "iommu");
  const buf = dom0.alloc("16 KiB");
  const bus = dma.mapSingle(buf, 16384, "FROM_DEVICE");
  if (!dma.mappingError(bus)) {
    nic.write(bus, new Uint8Array(64).fill(1));
    dma.unmapSingle(bus, 16384, "FROM_DEVICE");
    nic.write(bus, new Uint8Array(64).fill(2));
    nic.write(bus - 16384 * 8, new Uint8Array(64).fill(3));
  }
  return picture(
    m,
    "Lazy IOTLB invalidation: a stale entry, then a fault",
    "After the unmap the IOTLB still holds the translation (amber) and the NIC writes through it; a write to an IOVA never mapped faults (red) and touches no memory.",
  );
}

/** Scenario name → builder. */
export const SCENARIOS = {
  "p2m-fragmented": p2mFragmented,
  pem,
  "vp-iommu": vpIommu,
  "xen-swiotlb-bounce": xenSwiotlbBounce,
  "stray-dma": strayDma,
  "grant-map-vs-tag": grantMapVsTag,
  "iommu-lazy-stale": iommuLazyStale,
} as const satisfies Record<string, () => ScenarioPicture>;

/** A scenario's name, e.g. "stray-dma". */
export type ScenarioName = keyof typeof SCENARIOS;

/** Runs the named scenario; an unknown name throws, listing the known ones (a typo in a page fails the build). */
export function runScenario(name: string): ScenarioPicture {
  const build = (SCENARIOS as Record<string, (() => ScenarioPicture) | undefined>)[name];
  if (!Object.hasOwn(SCENARIOS, name) || !build) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `unknown picture scenario ${describeValue(name)} (known: ${Object.keys(SCENARIOS).join(", ")})`,
      "scenario",
    );
  }
  return build();
}
