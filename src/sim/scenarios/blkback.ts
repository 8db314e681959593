import { SimError, describeValue, rejectUnknownKeys, requireObject } from "../errors.js";
import { Machine } from "../machine.js";
import type { MachineConfig, Era } from "../machine.js";
import type { Domain, DomainMode, Layout } from "../domain.js";
import type { Device } from "../device.js";
import type { BackendName } from "../dma/backend.js";
import { BACKEND_NAMES } from "../dma/backend.js";
import type { ForeignPageStrategy } from "../foreign.js";
import type { Invalidation } from "../iommu.js";
import type { Stats, TraceEvent } from "../trace.js";
import { SECTOR_SIZE, createRequestQueue } from "../block.js";
import type { BioSegment, BlockOp, BounceRule, RequestQueue, SgMappingMode } from "../block.js";
import { Disk } from "./disk.js";
import type { Scenario, ScenarioOutcome, StrategySpec } from "./compare.js";
import {
  attachScenarioDevice,
  attempt,
  freshName,
  lastSeq,
  machineFrom,
  patternBytes,
  recordError,
  sameBytes,
  statsDelta,
  traceSince,
} from "./common.js";
import type { ScenarioError } from "./common.js";

/** BLKIF_MAX_SEGMENTS_PER_REQUEST (xen/include/public/io/blkif.h): segments one blkif ring request carries. */
export const BLKIF_MAX_SEGMENTS_PER_REQUEST = 11;
/** Most sectors one round trip may move (16 MiB): bounds the work a reader's call causes. */
export const MAX_ROUND_TRIP_SECTORS = 32768;

/** Options of {@link blkbackRoundTrip}. Everything but `backend` has a default. */
export interface BlkbackOptions {
  /** A machine to run on, or the config of a new one. Default: ia64, 1 GiB, the given `era`. */
  machine?: Machine | MachineConfig;
  /** Era of a machine the scenario creates. Default "modern". */
  era?: Era;
  /** dom0's DMA-API backend for the disk. */
  backend: BackendName;
  /** dom0's way of getting a struct page for the domU's frames. Default "map". */
  foreignPages?: ForeignPageStrategy;
  /** "write": the domU's data goes to the disk; "read": the disk's data comes into the domU. Default "write". */
  op?: BlockOp;
  /** 512-byte sectors to move. Default 64. */
  sectors?: number;
  /** Where in its first page the domU's buffer starts, in sectors. Default 0. */
  offsetSectors?: number;
  /** First disk sector. Default 0. */
  diskSector?: number;
  /** Default "P2M" (or "VP" for backend "hypercall", "P==M" for "direct"). */
  dom0Mode?: DomainMode;
  /** Default "VP". */
  domUMode?: DomainMode;
  /** Default "fragmented" (seeded): the domU's pages are scattered in machine memory. */
  domULayout?: Layout;
  /** Default "256 MiB". */
  dom0Memory?: string | number;
  /** Default "128 MiB". */
  domUMemory?: string | number;
  /** The disk's DMA mask in bits. Default 32. */
  dmaMask?: number;
  /** IOTLB policy when `backend` is "iommu" (the disk is then behind the IOMMU). Default "strict". */
  invalidation?: Invalidation;
  /** The request queue's Xen merge check (xen_biovec_phys_mergeable). Default true. */
  xenMergeCheck?: boolean;
  /** The request queue's bounce rule. Default: by era. */
  bounce?: BounceRule;
  /** How the driver maps a merged request. Default "dma-api". */
  sgMapping?: SgMappingMode;
  /** Seed of the data pattern and of a machine the scenario creates. Default 1. */
  seed?: number;
  /** An existing backend (driver) domain on `machine` to use instead of creating one. */
  dom0?: Domain;
  /** An existing frontend (guest) domain on `machine` to use instead of creating one. */
  domU?: Domain;
  /** An existing block device of `dom0` to use instead of attaching "sda". */
  disk?: Device;
}

/** What {@link blkbackRoundTrip} reports. */
export interface BlkbackResult {
  /** The bytes arrived identical and nothing failed. */
  ok: boolean;
  /** The disk (write) or the domU's buffer (read) holds exactly the data sent. */
  bytesIdentical: boolean;
  /** Failures caught on the way (SimError codes, GNTST_* names). */
  errors: ScenarioError[];
  /** blkif ring requests issued (at most 11 segments each). */
  requests: number;
  /** Pages the domU granted. */
  grants: number;
  /** bio_vecs submitted and the DMA segments the device was handed, over all requests. */
  bioVecs: number;
  /** DMA segments (after merging) the disk was handed, over all requests. */
  dmaSegments: number;
  /** Costs and counts of the round trip alone. */
  stats: Stats;
  /** The round trip's trace events. */
  trace: TraceEvent[];
  /** The machine it ran on (for `snapshot()` or further calls). */
  machine: Machine;
  /** The backend domain (blkback's side). */
  dom0: Domain;
  /** The frontend domain (blkfront's side). */
  domU: Domain;
  /** The disk's medium, to inspect what a write stored. */
  disk: Disk;
}

const OPTION_KEYS = [
  "machine",
  "era",
  "backend",
  "foreignPages",
  "op",
  "sectors",
  "offsetSectors",
  "diskSector",
  "dom0Mode",
  "domUMode",
  "domULayout",
  "dom0Memory",
  "domUMemory",
  "dmaMask",
  "invalidation",
  "xenMergeCheck",
  "bounce",
  "sgMapping",
  "seed",
  "dom0",
  "domU",
  "disk",
] as const;

function count(o: Record<string, unknown>, key: string, fallback: number, min: number, max: number): number {
  const v = o[key] ?? fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new SimError(
      "INVALID_CONFIG",
      `blkbackRoundTrip: ${key} must be a whole number from ${min} to ${max}, got ${describeValue(v)}`,
      key,
    );
  }
  return v;
}

/**
 * One blkfront → blkback → disk round trip, the I/O path the 2006 thread is about:
 * 1. the domU (blkfront) puts `sectors` sectors in its memory, grants each page to dom0
 *    (read-only for a write) and sends blkif requests of up to 11 page segments;
 * 2. dom0 (blkback) maps the grants — into its pseudo-physical space ("map": GNTMAP_host_map, as
 *    blkback does) or as tagged struct pages ("tag": device mapping only, the summit's suggestion);
 * 3. it submits each request to its block layer (bounce, merge), maps it for the disk with the
 *    chosen DMA-API backend, and the disk performs the DMA;
 * 4. completion unmaps the request, unmaps the grants, and the domU ends access.
 * Failures (mapping errors, kmap of a tagged page, panics) are caught and reported.
 */
export function blkbackRoundTrip(options: BlkbackOptions): BlkbackResult {
  const o = requireObject(options, "blkbackRoundTrip options");
  rejectUnknownKeys(o, OPTION_KEYS, "blkbackRoundTrip");
  const backend = o.backend as BackendName;
  if (!BACKEND_NAMES.includes(backend)) {
    throw new SimError(
      "UNKNOWN_BACKEND",
      `blkbackRoundTrip: backend must be one of ${BACKEND_NAMES.map((b) => JSON.stringify(b)).join(", ")}, got ${describeValue(o.backend)}`,
      "backend",
    );
  }
  const op = (o.op ?? "write") as BlockOp;
  if (op !== "read" && op !== "write")
    throw new SimError("INVALID_CONFIG", `blkbackRoundTrip: op must be "read" or "write", got ${describeValue(o.op)}`, "op");
  const foreignPages = (o.foreignPages ?? "map") as ForeignPageStrategy;
  if (foreignPages !== "map" && foreignPages !== "tag")
    throw new SimError(
      "INVALID_CONFIG",
      `blkbackRoundTrip: foreignPages must be "map" or "tag", got ${describeValue(o.foreignPages)}`,
      "foreignPages",
    );
  const sectors = count(o, "sectors", 64, 1, MAX_ROUND_TRIP_SECTORS);
  const seed = count(o, "seed", 1, 0, Number.MAX_SAFE_INTEGER);
  const machine = machineFrom(o.machine as Machine | MachineConfig | undefined, {
    arch: "ia64",
    memory: "1 GiB",
    era: (o.era as Era | undefined) ?? "modern",
    seed,
  });
  const pageSize = machine.pageSize;
  const offsetSectors = count(o, "offsetSectors", 0, 0, pageSize / SECTOR_SIZE - 1);
  const diskSector = count(o, "diskSector", 0, 0, 2 ** 31 - sectors);
  const names = () => machine.domains.map((d) => d.name);
  for (const key of ["dom0", "domU"] as const) {
    if (o[key] !== undefined && !machine.domains.includes(o[key] as Domain)) {
      throw new SimError(
        "INVALID_CONFIG",
        `blkbackRoundTrip: ${key} must be a domain of the machine passed as machine, got ${describeValue(typeof o[key] === "object" ? "another object" : o[key])}`,
        key,
      );
    }
  }
  if (o.disk !== undefined && !machine.devices.includes(o.disk as Device)) {
    throw new SimError(
      "INVALID_CONFIG",
      `blkbackRoundTrip: disk must be a device attached on the machine passed as machine, got ${describeValue(typeof o.disk === "object" ? "another object" : o.disk)}`,
      "disk",
    );
  }
  const dom0 =
    (o.dom0 as Domain | undefined) ??
    machine.createDomain({
      name: freshName(names(), "dom0"),
      mode: (o.dom0Mode as DomainMode | undefined) ?? defaultDom0Mode(backend),
      memory: (o.dom0Memory as string | number | undefined) ?? "256 MiB",
      privileged: true,
      foreignPages,
    });
  const domU =
    (o.domU as Domain | undefined) ??
    machine.createDomain({
      name: freshName(names(), "domU1"),
      mode: (o.domUMode as DomainMode | undefined) ?? "VP",
      memory: (o.domUMemory as string | number | undefined) ?? "128 MiB",
      privileged: false,
      layout: (o.domULayout as Layout | undefined) ?? "fragmented",
    });
  if (o.disk !== undefined && (o.disk as Device).domain !== dom0) {
    throw new SimError(
      "INVALID_CONFIG",
      `blkbackRoundTrip: disk ${(o.disk as Device).name} belongs to ${(o.disk as Device).domain.name}, not to the backend domain ${dom0.name}`,
      "disk",
    );
  }
  if (dom0 === domU)
    throw new SimError("INVALID_CONFIG", `blkbackRoundTrip: dom0 and domU must be two different domains, got ${dom0.name} twice`, "domU");
  if (dom0.foreignPages !== foreignPages && o.dom0 !== undefined && o.foreignPages !== undefined) {
    throw new SimError(
      "INVALID_CONFIG",
      `blkbackRoundTrip: dom0 ${dom0.name} was created with foreignPages: ${JSON.stringify(dom0.foreignPages)}, not ${JSON.stringify(foreignPages)}`,
      "foreignPages",
    );
  }
  const device =
    (o.disk as Device | undefined) ??
    attachScenarioDevice(machine, dom0, backend, {
      base: "sda",
      driver: "blkback-disk",
      dmaMask: o.dmaMask as number | undefined,
      invalidation: o.invalidation as Invalidation | undefined,
    });
  const queue = createRequestQueue(dom0.dmaApi(device, backend), {
    xenMergeCheck: o.xenMergeCheck as boolean | undefined,
    bounce: o.bounce as BounceRule | undefined,
    sgMapping: o.sgMapping as SgMappingMode | undefined,
  });
  const disk = new Disk(device);
  return runRoundTrip({
    machine,
    dom0,
    domU,
    device,
    queue,
    disk,
    op,
    sectors,
    offsetSectors,
    diskSector,
    seed,
    strategy: dom0.foreignPages,
  });
}

function defaultDom0Mode(backend: BackendName): DomainMode {
  if (backend === "direct") return "P==M";
  if (backend === "hypercall") return "VP";
  return "P2M";
}

interface RoundTrip {
  machine: Machine;
  dom0: Domain;
  domU: Domain;
  device: Device;
  queue: RequestQueue;
  disk: Disk;
  op: BlockOp;
  sectors: number;
  offsetSectors: number;
  diskSector: number;
  seed: number;
  strategy: ForeignPageStrategy;
}

interface Segment {
  pfn: number;
  firstSect: number;
  sectors: number;
  gref: number;
}

/**
 * blkfront grants dom0 each page the buffer at `buffer` touches, appending to `grants` as it goes
 * (so a failure leaves the grants made so far for the teardown); blkif segments name (gref,
 * first_sect, last_sect).
 */
function grantPages(r: RoundTrip, buffer: number, grants: Segment[]): void {
  const sectorsPerPage = r.machine.pageSize / SECTOR_SIZE;
  let sector = buffer / SECTOR_SIZE;
  let left = r.sectors;
  while (left > 0) {
    const pfn = Math.floor(sector / sectorsPerPage);
    const firstSect = sector - pfn * sectorsPerPage;
    const n = Math.min(left, sectorsPerPage - firstSect);
    const gref = r.domU.grantAccess(pfn, r.dom0, { readonly: r.op === "write" });
    grants.push({ pfn, firstSect, sectors: n, gref });
    sector += n;
    left -= n;
  }
}

function runRoundTrip(r: RoundTrip): BlkbackResult {
  const { machine, dom0, domU, device, queue, disk, op } = r;
  const pageSize = machine.pageSize;
  const bytes = r.sectors * SECTOR_SIZE;
  const errors: ScenarioError[] = [];
  const startSeq = lastSeq(machine);
  const startStats = machine.stats();
  const data = patternBytes(r.seed, bytes);
  const offset = r.offsetSectors * SECTOR_SIZE;
  let requests = 0;
  let bioVecs = 0;
  let dmaSegments = 0;
  let bytesIdentical = false;
  const grants: Segment[] = [];
  const handles: number[] = [];
  let buffer: number | undefined;
  try {
    // blkfront: the data lives in the domU's (fragmented) memory, page-aligned plus the offset.
    buffer = domU.alloc(Math.ceil((offset + bytes) / pageSize) * pageSize) + offset;
    if (op === "write") domU.write(buffer, data);
    else {
      domU.write(buffer, new Uint8Array(bytes).fill(0xee));
      disk.writeSectors(r.diskSector, data);
    }
    grantPages(r, buffer, grants);
    // blkback: one blkif request per 11 segments.
    let diskSector = r.diskSector;
    for (let i = 0; i < grants.length; i += BLKIF_MAX_SEGMENTS_PER_REQUEST) {
      const ring = grants.slice(i, i + BLKIF_MAX_SEGMENTS_PER_REQUEST);
      const bio: BioSegment[] = [];
      const mine: number[] = [];
      for (const s of ring) {
        const mapped = dom0.mapGrant(
          domU,
          s.gref,
          r.strategy === "map"
            ? { host: true, device: false, readonly: op === "write" }
            : { host: false, device: device.iommu ? device : true, readonly: op === "write" },
        );
        mine.push(mapped.handle);
        handles.push(mapped.handle);
        bio.push({ page: mapped.page!, offset: s.firstSect * SECTOR_SIZE, length: s.sectors * SECTOR_SIZE });
      }
      const ringSectors = ring.reduce((n, s) => n + s.sectors, 0);
      requests++;
      const request = queue.submit(op, diskSector, bio);
      bioVecs += request.bvecs.length;
      let mapped = false;
      try {
        const mapping = queue.map(request);
        mapped = mapping.count > 0;
        if (mapped) {
          dmaSegments += mapping.count;
          disk.transfer(op, diskSector, mapping.segments);
        }
      } finally {
        attempt(machine, errors, () => queue.complete(request));
      }
      for (const handle of mine) {
        dom0.unmapGrant(handle);
        handles.splice(handles.indexOf(handle), 1);
      }
      if (!mapped) {
        // blkback answers BLKIF_RSP_ERROR; the round trip stops here.
        errors.push({
          code: "EIO",
          message: `blkback: dma_map_sg returned 0 for the request of ${ringSectors} sectors at sector ${diskSector}: it ends with an I/O error (BLKIF_RSP_ERROR)`,
        });
        break;
      }
      diskSector += ringSectors;
    }
    bytesIdentical = sameBytes(op === "write" ? disk.readSectors(r.diskSector, r.sectors) : domU.read(buffer, bytes), data);
    if (!bytesIdentical && errors.length === 0)
      errors.push({
        code: "DATA_MISMATCH",
        message: `${op === "write" ? "the disk" : `${domU.name}'s buffer`} does not hold the ${bytes} bytes sent`,
      });
  } catch (error) {
    recordError(errors, error);
  }
  if (!bytesIdentical && buffer !== undefined && machine.halted === undefined && errors.length > 0) {
    // Check the bytes anyway (a failed run may still have moved them, or moved them wrongly).
    attempt(machine, errors, () => {
      bytesIdentical = sameBytes(op === "write" ? disk.readSectors(r.diskSector, r.sectors) : domU.read(buffer!, bytes), data);
    });
  }
  // Tear down whatever is still standing, in blkback's order: grant unmaps, then end of access.
  for (const handle of handles) attempt(machine, errors, () => dom0.unmapGrant(handle));
  for (const g of grants) {
    attempt(machine, errors, () => {
      if (!domU.endAccess(g.gref))
        errors.push({ code: "GRANT_IN_USE", message: `${domU.name} could not end access to gref ${g.gref}: still mapped` });
    });
  }
  if (buffer !== undefined) attempt(machine, errors, () => domU.free(buffer! - offset));
  return {
    ok: bytesIdentical && errors.length === 0,
    bytesIdentical,
    errors,
    requests,
    grants: grants.length,
    bioVecs,
    dmaSegments,
    stats: statsDelta(startStats, machine.stats()),
    trace: traceSince(machine.trace, startSeq),
    machine,
    dom0,
    domU,
    disk,
  };
}

/** A blkback strategy for {@link compareStrategies}: a backend and a foreign-page strategy. */
export interface BlkbackStrategy extends StrategySpec {
  /** dom0's DMA-API backend for the disk. */
  backend: BackendName;
  /** "map" or "tag"; default: the scenario's option, else "map". */
  foreignPages?: ForeignPageStrategy;
  /** dom0's mode; default: the scenario's option, else the backend's natural mode. */
  dom0Mode?: DomainMode;
}

/**
 * The blkback round trip as a comparable scenario: each strategy gets a fresh machine with the
 * same workload (`options` minus backend), and one operation is one blkif request.
 */
export function blkbackScenario(
  options: Omit<BlkbackOptions, "backend" | "machine" | "dom0" | "domU" | "disk"> & { machine?: MachineConfig } = {},
): Scenario<BlkbackStrategy> {
  requireObject(options, "blkbackScenario options");
  if (options.machine instanceof Machine) {
    throw new SimError(
      "INVALID_CONFIG",
      "blkbackScenario: machine must be a machine config, not a Machine: every strategy runs on a fresh machine built from it",
      "machine",
    );
  }
  return {
    name: `blkback round trip: ${options.op ?? "write"} of ${options.sectors ?? 64} sectors`,
    opName: "request",
    run(strategy: BlkbackStrategy): ScenarioOutcome {
      const s = requireObject(strategy, "strategy");
      rejectUnknownKeys(s, ["name", "backend", "foreignPages", "dom0Mode"], "blkback strategy");
      const result = blkbackRoundTrip({
        ...options,
        backend: strategy.backend,
        foreignPages: strategy.foreignPages ?? options.foreignPages,
        dom0Mode: strategy.dom0Mode ?? options.dom0Mode,
      });
      return {
        machine: result.machine,
        ops: result.requests,
        window: { start: { ...emptyStats() }, end: result.stats },
        metrics: {
          bytesIdentical: result.bytesIdentical ? 1 : 0,
          dmaSegments: result.dmaSegments,
          bioVecs: result.bioVecs,
          grants: result.grants,
        },
        ok: result.ok,
        errors: result.errors.map((e) => `${e.code}: ${e.message}`),
      };
    },
  };
}

function emptyStats(): Stats {
  return { events: {}, cost: { total: 0, byKind: {} }, time: 0, droppedEvents: 0 };
}
