import { type CostModel, resolveCosts } from "./costs.js";
import { SimError, describeValue, rejectUnknownKeys, requireObject } from "./errors.js";
import { FrameStore, FREE, XEN, domidOf } from "./frames.js";
import { countFree } from "./frame-alloc.js";
import { SeededRandom } from "./rng.js";
import { type EventFields, type EventKind, type EventMessage, type Stats, Trace, type TraceEvent } from "./trace.js";
import { GiB, MiB, type Size, formatSize, hex, parsePageSize, parseSize } from "./units.js";
import { Domain, type DomainConfig } from "./domain.js";
import { Device, type DeviceConfig } from "./device.js";
import { Iommu } from "./iommu.js";
import { DmaDebug } from "./dma/debug.js";
import { StateSlots } from "./state.js";
import { LiveMappings } from "./live-mappings.js";
import type { SwiotlbPool } from "./swiotlb-pool.js";

/**
 * CPU architecture of the simulated machine. It sets the default page size (ia64 16 KiB, the
 * Linux/ia64 default; x86_64 4 KiB) and the L1 cache line (128 vs 64 bytes).
 * The 2006 thread was about Xen/ia64; x86_64 is there to compare with today's common case.
 */
export type Arch = "ia64" | "x86_64";
/**
 * Which Linux: "2006" (the xenified tree of January 2006, Linux 2.6.12 with Xen's pci-dma.c and
 * swiotlb.c, and the 2.6.16-era lib/swiotlb.c and block layer where Xen kept the generic code) or
 * "modern" (today's kernel/dma).
 */
export type Era = "2006" | "modern";
/** "xen": domains under Xen (default). "none": one native Linux, physical == machine, that owns its IOMMU. */
export type Hypervisor = "xen" | "none";

/** Bounds that keep a reader's code from making the simulator allocate without limit. */
export interface Limits {
  /** Most bytes of written memory held at once (frames are stored only once written). */
  storage: Size;
  /** Most trace events stored (later ones are still counted in stats). */
  traceEvents: number;
  /** Largest single CPU or device read/write. */
  transfer: Size;
}

/** The argument of {@link createMachine}. */
export interface MachineConfig {
  /** Architecture: sets the default page size (ia64 16 KiB, x86_64 4 KiB). Default "ia64". */
  arch?: Arch;
  /** Page (and frame) size: a power of two from 4 KiB to 64 KiB. */
  pageSize?: Size;
  /** Machine memory, e.g. "4 GiB". */
  memory: Size;
  /** Linux behaviour to simulate. Default "modern". */
  era?: Era;
  /**
   * "xen" (default), or "none" for bare-metal Linux: then the machine holds a single P==M domain,
   * the kernel programs the IOMMU itself (no hypercalls), and Xen-only backends are refused. The
   * published IOMMU studies (vIOMMU, Markuze et al.) measured bare metal.
   */
  hypervisor?: Hypervisor;
  /** The swiotlb bounce pool, set aside when the first swiotlb or xen-swiotlb DMA-API is created. */
  swiotlb?: { size?: Size; force?: boolean };
  /** Memory Xen keeps for itself, taken from the top of machine memory. Default none. */
  xenMemory?: Size;
  /** CONFIG_DMA_API_DEBUG: on by default. */
  debug?: boolean;
  /** Overrides of the cost model (cycles). */
  costs?: Partial<CostModel>;
  /** Seed for every random choice (fragmented layouts). Default 1. */
  seed?: number;
  /** Resource bounds. */
  limits?: Partial<Limits>;
  /** A label for this machine, shown by the playground's results views. */
  name?: string;
}

const MACHINE_KEYS = [
  "arch",
  "pageSize",
  "memory",
  "era",
  "hypervisor",
  "swiotlb",
  "xenMemory",
  "debug",
  "costs",
  "seed",
  "limits",
  "name",
] as const;
const MAX_MEMORY = 16 * 1024 * GiB;

interface ResolvedLimits {
  storage: number;
  traceEvents: number;
  transfer: number;
}

/** Observers of the simulator, see {@link machineHooks}. */
export interface MachineHooks {
  /** Called with every machine as it is created, before any domain exists. */
  created?: (machine: Machine) => void;
}

/**
 * Observing machines: set `machineHooks.created` to be called with every machine as it is
 * created — those your code builds and those a scenario helper (blkbackRoundTrip,
 * compareStrategies, ...) builds for it. One observer at a time; set it back to undefined to stop.
 * The playground records a run's machines this way, then reads each one's `trace` and `snapshot()`.
 * @example
 * const seen = [];
 * machineHooks.created = (m) => seen.push(m);
 * blkbackRoundTrip({ backend: "xen-swiotlb" });
 * machineHooks.created = undefined; // seen holds the scenario's machine
 */
export const machineHooks: MachineHooks = {};

/**
 * A simulated machine: frames of memory, Xen, domains, devices, an IOMMU and the event trace.
 * Create one with {@link createMachine}.
 */
export class Machine {
  /** CPU architecture, from `config.arch` (default "ia64"). */
  readonly arch: Arch;
  /** Bytes per page and per machine frame (PAGE_SIZE): 16384 on ia64, 4096 on x86_64 unless `config.pageSize` says otherwise. */
  readonly pageSize: number;
  /** log2(pageSize) (PAGE_SHIFT): 14 for 16 KiB pages, 12 for 4 KiB. */
  readonly pageShift: number;
  /** L1 cache line: 128 bytes on ia64, 64 on x86_64 (alignment of small allocations, dma-debug D19). */
  readonly cacheLine: number;
  /** Machine memory in bytes (a whole number of pages). */
  readonly memory: number;
  /** `config.name`, if given: a label for the results views. */
  readonly name: string | undefined;
  /** Which Linux is simulated: "2006" or "modern" (default). See {@link Era}. */
  readonly era: Era;
  /** "xen" (default) or "none" (bare-metal Linux: one P==M domain that owns the IOMMU). */
  readonly hypervisor: Hypervisor;
  /** Whether dma-debug (CONFIG_DMA_API_DEBUG) checks every DMA-API call. Default true. */
  readonly debugEnabled: boolean;
  /** The cost model in effect, in cycles: {@link DEFAULT_COSTS} with `config.costs` merged in. */
  readonly costs: CostModel;
  /**
   * The swiotlb settings: `size` in bytes (undefined = Linux's default 64 MiB, scaled down on a
   * small machine) and `force` (the `swiotlb=force` boot option: bounce every mapping).
   */
  readonly swiotlbConfig: { size: number | undefined; force: boolean };
  /** Resource bounds in effect, in bytes (`storage`, `transfer`) and events (`traceEvents`). See {@link Limits}. */
  readonly limits: ResolvedLimits;
  /** @internal */ readonly store: FrameStore;
  /** @internal */ readonly random: SeededRandom;
  /** @internal */ readonly traceLog: Trace;
  /** @internal */ readonly iommu: Iommu;
  /** @internal */ readonly dmaDebug: DmaDebug;
  /** @internal The one record of live DMA mappings (written by the DMA-API, read by devices and snapshots). */
  readonly liveMappings: LiveMappings;
  /** Frames below this index are usable by domains; Xen's own frames sit above. */
  readonly domainFrameLimit: number;
  /** Every domain created, in creation order; a domain's index is its domid (dom0 is 0). Do not modify. */
  readonly domains: Domain[] = [];
  /** Every device attached, in attach order. Do not modify. */
  readonly devices: Device[] = [];
  private haltReason: string | undefined;
  /** End-of-run reports that modules with machine state registered (see {@link Machine.onFinish}). */
  private readonly finishReports: (() => void)[] = [];
  /** @internal swiotlb bounce pools, one per driver domain and kind, set aside on first use. */
  readonly swiotlbPools: SwiotlbPool<Domain>[] = [];
  /** @internal State other modules keep for this machine (the DMA-API instances, the grant report). */
  readonly state: StateSlots<Machine> = new StateSlots<Machine>(this);
  /** @internal Foreign frames each domain may reach through a grant mapping: mfn → domid → count. */
  readonly grantedFrames = new Map<number, Map<number, number>>();
  /** @internal The subset of grantedFrames mapped writable (without GNTMAP_readonly): mfn → domid → count. */
  readonly writableGrantedFrames = new Map<number, Map<number, number>>();

  constructor(config: MachineConfig) {
    const c = requireObject(config, "createMachine(config)");
    rejectUnknownKeys(c, MACHINE_KEYS, "createMachine");
    const arch = c.arch ?? "ia64";
    if (arch !== "ia64" && arch !== "x86_64") {
      throw new SimError("INVALID_CONFIG", `arch must be "ia64" or "x86_64", got ${describeValue(arch)}`, "arch");
    }
    this.arch = arch;
    this.pageSize = c.pageSize === undefined ? (arch === "ia64" ? 16384 : 4096) : parsePageSize(c.pageSize);
    this.pageShift = Math.log2(this.pageSize);
    this.cacheLine = arch === "ia64" ? 128 : 64;
    if (c.memory === undefined) throw new SimError("INVALID_CONFIG", `memory is required, e.g. memory: "4 GiB"`, "memory");
    this.memory = parseSize(c.memory, "memory");
    if (this.memory === 0 || this.memory % this.pageSize !== 0 || this.memory > MAX_MEMORY) {
      throw new SimError(
        "INVALID_SIZE",
        `memory must be a whole number of ${formatSize(this.pageSize)} pages, from one page to 16 TiB, got ${describeValue(c.memory)}`,
        "memory",
      );
    }
    const era = c.era ?? "modern";
    if (era !== "2006" && era !== "modern") {
      throw new SimError("INVALID_CONFIG", `era must be "2006" or "modern", got ${describeValue(era)}`, "era");
    }
    this.era = era;
    if (c.name !== undefined && typeof c.name !== "string") {
      throw new SimError("INVALID_CONFIG", `name must be a string, got ${describeValue(c.name)}`, "name");
    }
    this.name = c.name;
    const hypervisor = c.hypervisor ?? "xen";
    if (hypervisor !== "xen" && hypervisor !== "none") {
      throw new SimError(
        "INVALID_CONFIG",
        `hypervisor must be "xen" or "none" (bare-metal Linux), got ${describeValue(hypervisor)}`,
        "hypervisor",
      );
    }
    this.hypervisor = hypervisor;
    if (hypervisor === "none" && c.xenMemory !== undefined) {
      throw new SimError("INVALID_CONFIG", `xenMemory makes no sense with hypervisor: "none"`, "xenMemory");
    }
    if (c.debug !== undefined && typeof c.debug !== "boolean") {
      throw new SimError("INVALID_CONFIG", `debug must be true or false, got ${describeValue(c.debug)}`, "debug");
    }
    this.debugEnabled = c.debug ?? true;
    this.costs = resolveCosts(c.costs);
    this.swiotlbConfig = parseSwiotlb(c.swiotlb);
    this.limits = parseLimits(c.limits);
    const seed = c.seed ?? 1;
    if (typeof seed !== "number" || !Number.isSafeInteger(seed)) {
      throw new SimError("INVALID_CONFIG", `seed must be an integer, got ${describeValue(seed)}`, "seed");
    }
    this.random = new SeededRandom(seed);
    const frameCount = this.memory / this.pageSize;
    this.store = new FrameStore(frameCount, this.pageSize, this.limits.storage);
    this.traceLog = new Trace(this.limits.traceEvents, this.costs.cyclesPerMicrosecond);
    const xenBytes = c.xenMemory === undefined ? 0 : parseSize(c.xenMemory, "xenMemory");
    const xenFrames = Math.ceil(xenBytes / this.pageSize);
    if (xenFrames >= frameCount) {
      throw new SimError(
        "INVALID_CONFIG",
        `xenMemory (${formatSize(xenBytes)}) must leave memory for domains: the machine has ${formatSize(this.memory)}`,
        "xenMemory",
      );
    }
    this.domainFrameLimit = frameCount - xenFrames;
    for (let mfn = this.domainFrameLimit; mfn < frameCount; mfn++) this.store.assign(mfn, XEN, undefined);
    this.iommu = new Iommu(this);
    this.dmaDebug = new DmaDebug(this);
    this.liveMappings = new LiveMappings(this.pageSize);
    machineHooks.created?.(this);
  }

  /** Number of machine frames. */
  get frameCount(): number {
    return this.store.frameCount;
  }

  /** The ordered event log of this run. */
  get trace(): readonly TraceEvent[] {
    return this.traceLog.events;
  }

  /** Counts and costs by event kind, and the total. */
  stats(): Stats {
    return this.traceLog.stats();
  }

  /**
   * Ends the run the way a driver unbind does: dma-debug reports every device's leaked mappings
   * (D15), grant mappings still held are reported, and lazily queued IOTLB invalidations are
   * flushed. Returns `stats()`.
   */
  finish(): Stats {
    for (const device of this.devices) this.dmaDebug.reportLeaks(device);
    for (const report of this.finishReports) report();
    if (!this.haltReason) this.iommu.flushAllQueues("end of run");
    return this.stats();
  }

  /**
   * Locating events: `locator` is asked for a number for each trace event from now on, stored as
   * the event's `line` when defined (the playground gives the reader's source line of the call
   * that caused the event). Pass undefined to stop.
   */
  locateEvents(locator: (() => number | undefined) | undefined): void {
    this.traceLog.locate = locator;
  }

  /** @internal Adds a report to `finish()`, run after dma-debug's leak check (grant.ts: live grant mappings). */
  onFinish(report: () => void): void {
    this.finishReports.push(report);
  }

  /** Lets simulated time pass (e.g. for the lazy IOTLB's 10 ms timer). */
  advanceTime(microseconds: number): void {
    this.assertRunning();
    if (typeof microseconds !== "number" || !Number.isFinite(microseconds) || microseconds < 0 || microseconds > 1e12) {
      throw new SimError(
        "INVALID_ARGUMENT",
        `advanceTime(microseconds) takes a number from 0 to 1e12, got ${describeValue(microseconds)}`,
        "microseconds",
      );
    }
    this.traceLog.advance(microseconds);
    this.iommu.onTimeAdvanced();
  }

  /** Creates a domain (a guest, or dom0) with its pseudo-physical memory. */
  createDomain(config: DomainConfig): Domain {
    this.assertRunning();
    if (this.hypervisor === "none") {
      if (this.domains.length > 0)
        throw new SimError(
          "INVALID_CONFIG",
          `hypervisor: "none" is one native Linux: it already runs as ${this.domains[0]!.name}, there is no second domain`,
          "hypervisor",
        );
      if (config?.mode !== "P==M")
        throw new SimError(
          "INVALID_CONFIG",
          `hypervisor: "none" means native Linux, where physical == machine: its domain must be "P==M", got ${describeValue(config?.mode)}`,
          "mode",
        );
    }
    const domain = new Domain(this, this.domains.length, config);
    this.domains.push(domain);
    return domain;
  }

  /** Attaches a DMA-capable device to a driver domain. */
  attachDevice(config: DeviceConfig): Device {
    this.assertRunning();
    const device = new Device(this, config);
    this.devices.push(device);
    return device;
  }

  /** The domain with this name. */
  domain(name: string): Domain {
    const found = this.domains.find((d) => d.name === name);
    if (!found)
      throw new SimError(
        "INVALID_ARGUMENT",
        `no domain named ${describeValue(name)} (have: ${this.domains.map((d) => d.name).join(", ") || "none"})`,
        "name",
      );
    return found;
  }

  /** @internal Appends a trace event. */
  emit(kind: EventKind, message: EventMessage, fields?: EventFields): TraceEvent {
    return this.traceLog.emit(kind, message, fields);
  }

  /** @internal A simulated panic or BUG(): recorded in the trace, then the run ends. */
  panic(message: string, fields: EventFields = {}): never {
    this.emit("panic", message, fields);
    this.haltReason = message;
    throw new SimError("KERNEL_PANIC", message);
  }

  /** The panic message that halted the machine, if any. */
  get halted(): string | undefined {
    return this.haltReason;
  }

  /** @internal Every operation on a halted machine is refused. */
  assertRunning(): void {
    if (this.haltReason !== undefined) {
      throw new SimError("MACHINE_HALTED", `the machine has halted (${this.haltReason.trim()}); create a new machine to continue`);
    }
  }

  /** @internal Free frames domains may still take. */
  freeFrames(): number {
    return countFree(this.store, this.domainFrameLimit);
  }

  /** @internal Name of a frame's owner for messages: a domain name, "Xen" or "free memory". */
  ownerName(mfn: number): string {
    const owner = this.store.owner(mfn);
    if (owner === FREE) return "free memory";
    if (owner === XEN) return "Xen";
    return this.domains[domidOf(owner)]?.name ?? `domain ${domidOf(owner)}`;
  }

  /** @internal True if `domid` owns `mfn` or has it grant-mapped. */
  accessibleBy(domid: number, mfn: number): boolean {
    return this.store.owner(mfn) === domid + 2 || (this.grantedFrames.get(mfn)?.has(domid) ?? false);
  }

  /** @internal True if `domid` owns `mfn` or has it grant-mapped writable: a device write there is legitimate. */
  writableBy(domid: number, mfn: number): boolean {
    return this.store.owner(mfn) === domid + 2 || (this.writableGrantedFrames.get(mfn)?.has(domid) ?? false);
  }

  /** @internal Bounds-checks one transfer length. */
  checkTransfer(bytes: number, field: string): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new SimError("INVALID_ARGUMENT", `${field} must be a whole number of bytes >= 0, got ${describeValue(bytes)}`, field);
    }
    if (bytes > this.limits.transfer) {
      throw new SimError(
        "RESOURCE_LIMIT",
        `${field} is ${formatSize(bytes)}; one transfer may move at most ${formatSize(this.limits.transfer)} (limits.transfer)`,
        field,
      );
    }
  }

  /** @internal Reads machine memory (frames never written read as zeros). */
  readMachine(maddr: number, length: number, into: Uint8Array = new Uint8Array(length), at = 0): Uint8Array {
    let done = 0;
    while (done < length) {
      const addr = maddr + done;
      const mfn = Math.floor(addr / this.pageSize);
      const offset = addr - mfn * this.pageSize;
      const chunk = Math.min(length - done, this.pageSize - offset);
      const frame = this.store.peek(mfn);
      if (frame) into.set(frame.subarray(offset, offset + chunk), at + done);
      else into.fill(0, at + done, at + done + chunk);
      done += chunk;
    }
    return into;
  }

  /** @internal Writes machine memory. */
  writeMachine(maddr: number, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      const addr = maddr + done;
      const mfn = Math.floor(addr / this.pageSize);
      const offset = addr - mfn * this.pageSize;
      const chunk = Math.min(bytes.length - done, this.pageSize - offset);
      this.store.frameForWrite(mfn).set(bytes.subarray(done, done + chunk), offset);
      done += chunk;
    }
  }

  /** @internal Copies machine memory to machine memory (a CPU memcpy: the bounce copy). */
  copyMachine(from: number, to: number, length: number): void {
    if (length === 0) return;
    this.writeMachine(to, this.readMachine(from, length));
  }
}

function parseSwiotlb(value: unknown): { size: number | undefined; force: boolean } {
  if (value === undefined) return { size: undefined, force: false };
  const s = requireObject(value, "swiotlb");
  rejectUnknownKeys(s, ["size", "force"], "swiotlb");
  const size = s.size === undefined ? undefined : parseSize(s.size, "swiotlb.size");
  if (size !== undefined && (size < 256 * 1024 || size % (256 * 1024) !== 0 || size > 4 * GiB)) {
    throw new SimError(
      "INVALID_CONFIG",
      `swiotlb.size must be a multiple of 256 KiB (128 slots of 2 KiB, IO_TLB_SEGSIZE) from 256 KiB to 4 GiB, got ${describeValue(s.size)}`,
      "swiotlb.size",
    );
  }
  if (s.force !== undefined && typeof s.force !== "boolean") {
    throw new SimError(
      "INVALID_CONFIG",
      `swiotlb.force must be true or false (swiotlb=force), got ${describeValue(s.force)}`,
      "swiotlb.force",
    );
  }
  return { size, force: s.force === true };
}

function parseLimits(value: unknown): ResolvedLimits {
  const limits: ResolvedLimits = { storage: 256 * MiB, traceEvents: 200_000, transfer: 64 * MiB };
  if (value === undefined) return limits;
  const l = requireObject(value, "limits");
  rejectUnknownKeys(l, ["storage", "traceEvents", "transfer"], "limits");
  if (l.storage !== undefined) limits.storage = parseSize(l.storage, "limits.storage");
  if (l.transfer !== undefined) limits.transfer = parseSize(l.transfer, "limits.transfer");
  if (l.traceEvents !== undefined) {
    if (typeof l.traceEvents !== "number" || !Number.isSafeInteger(l.traceEvents) || l.traceEvents < 0 || l.traceEvents > 10_000_000) {
      throw new SimError(
        "INVALID_CONFIG",
        `limits.traceEvents must be an integer from 0 to 10000000, got ${describeValue(l.traceEvents)}`,
        "limits.traceEvents",
      );
    }
    limits.traceEvents = l.traceEvents;
  }
  if (limits.storage > 2 * GiB)
    throw new SimError("INVALID_CONFIG", `limits.storage may be at most 2 GiB, got ${formatSize(limits.storage)}`, "limits.storage");
  if (limits.transfer > 256 * MiB)
    throw new SimError("INVALID_CONFIG", `limits.transfer may be at most 256 MiB, got ${formatSize(limits.transfer)}`, "limits.transfer");
  return limits;
}

/**
 * Creates a simulated machine: `memory` of machine frames, Xen (unless `hypervisor: "none"`), an
 * IOMMU for devices attached with `iommu`, dma-debug, and an empty trace. Only `memory` is
 * required; defaults: arch "ia64" (16 KiB pages), era "modern", hypervisor "xen", debug on,
 * seed 1, no memory reserved for Xen. Bad options throw a {@link SimError} naming the field.
 * @example
 * const m = createMachine({ arch: "ia64", memory: "4 GiB" });
 * const old = createMachine({ arch: "x86_64", memory: "2 GiB", era: "2006", swiotlb: { size: "16 MiB" } });
 */
export function createMachine(config: MachineConfig): Machine {
  return new Machine(config);
}

export { hex };
