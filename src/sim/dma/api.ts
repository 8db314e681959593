import { SimError, describeValue, rejectUnknownKeys, requireObject } from "../errors.js";
import { DMA_MAPPING_ERROR, checkMaskBits } from "../device.js";
import type { Device } from "../device.js";
import { Domain, checkAddress } from "../domain.js";
import type { StructPage } from "../domain.js";
import type { Machine } from "../machine.js";
import { StateKey } from "../state.js";
import { formatSize, hex } from "../units.js";
import type { BackendContext, BackendName, Direction, DmaBackend, PhysRange, SgSegment } from "./backend.js";
import { BACKEND_NAMES } from "./backend.js";
import { createBackend } from "./registry.js";
import { TaggedPageBackend } from "./tagged.js";
import { busIsPhys } from "./bus-is-phys.js";
import type { DebugType } from "./debug.js";
import type { SgListMapping } from "../live-mappings.js";

/** One scatterlist entry: a guest-physical range, or a struct page with offset. */
export type SgEntry = { address: number; length: number } | { page: StructPage; offset?: number; length: number };

/** What `mapSg` returns: `count` DMA segments (fewer than entries when the backend merged), 0 on failure. */
export interface SgMapping {
  /**
   * dma_map_sg's return value: the number of DMA segments, which may be fewer than the entries
   * passed (adjacent entries merged), or 0 when the mapping failed.
   */
  count: number;
  /** The `count` DMA segments, for the device (sg_dma_address / sg_dma_len of each). Empty on failure. */
  segments: SgSegment[];
}

/** Options of `domain.dmaApi(device, backend, options)`. None yet; reserved for per-API settings. */
export type DmaApiOptions = Record<string, never>;

/** @internal Every DMA-API instance created on a machine, in creation order (for snapshots). */
export const DMA_APIS = new StateKey<DmaApi[], Machine>("DMA-API instances", () => []);

/** -EIO, what dma_set_mask returns for an unsupported mask. */
export const EIO = -5;

const MAX_SG_ENTRIES = 4096;

/**
 * The DMA-API of one driver domain for one device: Linux's dma_map_* family, with one backend
 * behind it. Like kernel/dma/mapping.c, this front validates arguments, runs the dma-debug hooks,
 * traces every call, and dispatches to the backend.
 */
export class DmaApi {
  /** The backend's name. */
  readonly backend: BackendName;
  private readonly impl: DmaBackend;

  /**
   * Use `domain.dmaApi(device, backend)` instead.
   * @param domain The driver domain whose memory this DMA-API maps (the device's owner).
   * @param device The device the mappings are for (the `dev` argument of every dma_* call).
   * @param backend Which implementation: see {@link BackendName}.
   * @param options Reserved; must be omitted or `{}`.
   */
  constructor(
    readonly domain: Domain,
    readonly device: Device,
    backend: BackendName,
    options?: DmaApiOptions,
  ) {
    if (!BACKEND_NAMES.includes(backend)) {
      throw new SimError(
        "UNKNOWN_BACKEND",
        `backend must be one of ${BACKEND_NAMES.map((b) => JSON.stringify(b)).join(", ")}, got ${describeValue(backend)}`,
        "backend",
      );
    }
    if (options !== undefined) rejectUnknownKeys(requireObject(options, "dmaApi options"), [], "dmaApi");
    if (!device || device.machine !== domain.machine || !device.machine.devices.includes(device)) {
      throw new SimError(
        "INVALID_ARGUMENT",
        `dmaApi(device, backend): device must be a device attached on this machine, got ${describeValue(device === undefined ? undefined : "another object")}`,
        "device",
      );
    }
    if (device.domain !== domain) {
      throw new SimError(
        "INVALID_ARGUMENT",
        `device ${device.name} belongs to ${device.domain.name}, not ${domain.name}: only its driver domain can map DMA for it`,
        "device",
      );
    }
    this.backend = backend;
    const ctx: BackendContext = { machine: domain.machine, domain, device };
    const impl = createBackend(backend, ctx);
    // Tagged foreign pages (PageForeign + grant handle in page->private) and read-only grants
    // under a Xen-programmed IOMMU need the tagged-page layer; other DMA-APIs call the backend directly.
    this.impl = TaggedPageBackend.neededFor(impl, ctx) ? new TaggedPageBackend(impl, ctx) : impl;
    domain.machine.state.get(DMA_APIS).push(this);
    domain.machine.emit("setup", () => `${domain.name}: DMA-API for ${device.name} uses the ${backend} backend`, {
      domain: domain.name,
      device: device.name,
    });
    // A driver's probe calls dma_set_mask first; a mask given at attachDevice skipped that check.
    if (!this.impl.dmaSupported(device.dmaMask)) {
      domain.machine.emit(
        "setup",
        () =>
          `dma_set_mask(${device.name}, DMA_BIT_MASK(${device.dmaMask})) would fail with -EIO: the ${backend} backend cannot serve a ${device.dmaMask}-bit device, so its mappings will fail`,
        { domain: domain.name, device: device.name, code: "EIO", severity: "warning" },
      );
    }
  }

  private get machine() {
    return this.domain.machine;
  }

  /** The machine's record of live mappings; this instance's are keyed by itself. */
  private get live() {
    return this.domain.machine.liveMappings;
  }

  /**
   * PCI_DMA_BUS_IS_PHYS for this backend on this machine (arch, hypervisor, era): whether the
   * block layer must bounce on its own. See {@link busIsPhys}.
   */
  get isPhys(): boolean {
    return busIsPhys(this.machine, this.backend);
  }

  /** dma_max_mapping_size(): the largest single mapping this backend can make. */
  maxMappingSize(): number {
    return this.impl.maxMappingSize();
  }

  /**
   * dma_set_mask_and_coherent(): returns 0 when the backend can serve a device with this many
   * address bits (and sets it), or -EIO (-5) when it cannot.
   */
  setMask(bits: number): number {
    this.machine.assertRunning();
    const mask = checkMaskBits(bits, "bits");
    if (!this.impl.dmaSupported(mask)) {
      this.machine.emit(
        "setup",
        () =>
          `dma_set_mask(${this.device.name}, DMA_BIT_MASK(${mask})) failed with -EIO: the ${this.backend} backend cannot serve a ${mask}-bit device`,
        { device: this.device.name, domain: this.domain.name, code: "EIO" },
      );
      return EIO;
    }
    this.device.dmaMask = mask;
    this.machine.emit("setup", () => `dma_set_mask(${this.device.name}, DMA_BIT_MASK(${mask})) = 0`, {
      device: this.device.name,
      domain: this.domain.name,
    });
    return 0;
  }

  /**
   * dma_mapping_error(): true if `busAddress` is the failure value (DMA_MAPPING_ERROR, or in era
   * "2006" swiotlb's overflow buffer). Also tells dma-debug the driver checked: a mapping never
   * checked is reported at unmap ("device driver failed to check map error").
   */
  mappingError(busAddress: number): boolean {
    this.machine.dmaDebug.markChecked(this.device, busAddress);
    return this.isErrorValue(busAddress);
  }

  /** DMA_MAPPING_ERROR, or the backend's own failure value (2006 swiotlb's overflow buffer). */
  private isErrorValue(busAddress: number): boolean {
    return busAddress === DMA_MAPPING_ERROR || (this.impl.isMappingError?.(busAddress) ?? false);
  }

  /**
   * dma_map_single(): maps `size` bytes of a guest-physical buffer for one DMA in direction `dir`
   * and returns the bus address to give the device, or DMA_MAPPING_ERROR (-1) — check with
   * {@link DmaApi.mappingError} before use. What the backend does (translate, bounce, program the
   * IOMMU) shows in the trace. Unmap with exactly the same bus address, size and direction.
   * @example
   * const bus = dma.mapSingle(buf, 8192, "TO_DEVICE");
   * if (dma.mappingError(bus)) throw new Error("mapping failed");
   * disk.read(bus, 8192); // the device reads the buffer
   * dma.unmapSingle(bus, 8192, "TO_DEVICE");
   */
  mapSingle(address: number, size: number, dir: Direction): number {
    checkAddress(address, "address");
    return this.mapRange("single", "dma_map_single", address, size, dir);
  }

  /** dma_map_page(): like mapSingle, for `size` bytes at `offset` in a struct page. */
  mapPage(page: StructPage, offset: number, size: number, dir: Direction): number {
    const gpa = this.pageAddress(page, offset, "page");
    return this.mapRange("single", "dma_map_page", gpa, size, dir);
  }

  /**
   * dma_unmap_single(): ends a mapping; pass exactly what was mapped (bus address, size,
   * direction). A bounced FROM_DEVICE or BIDIRECTIONAL buffer is copied back here. A mismatch is
   * a dma-debug event in the trace (as in Linux), not an exception.
   */
  unmapSingle(busAddress: number, size: number, dir: Direction): void {
    this.unmapRange("single", "dma_unmap_single", busAddress, size, dir);
  }

  /** dma_unmap_page(): ends a {@link DmaApi.mapPage} mapping; same rules as {@link DmaApi.unmapSingle}. */
  unmapPage(busAddress: number, size: number, dir: Direction): void {
    this.unmapRange("single", "dma_unmap_page", busAddress, size, dir);
  }

  private mapRange(type: DebugType, fn: string, gpa: number, size: number, dir: Direction): number {
    this.machine.assertRunning();
    this.checkSize(size, "size");
    this.checkDirection(dir, fn);
    const result = this.impl.map({ gpa, length: size }, dir);
    if (!result.ok) {
      this.machine.emit("mapping-error", () => `${fn}(${this.device.name}, ${hex(gpa)}, ${size}, ${dir}) failed: ${result.reason}`, {
        domain: this.domain.name,
        device: this.device.name,
        address: gpa,
        bytes: size,
        busAddress: result.errorAddress,
      });
      return result.errorAddress ?? DMA_MAPPING_ERROR;
    }
    this.live.addSingle(this, this.device, { type, busAddress: result.busAddress, size, dir, gpa, state: result.state });
    this.machine.dmaDebug.add(this.device, {
      type,
      busAddress: result.busAddress,
      size,
      direction: dir,
      paddr: gpa,
      mapErr: "not-checked",
      sgCallEnts: 0,
      sgMappedEnts: 0,
    });
    this.machine.emit("map", () => `${fn}: ${formatSize(size)} at ${hex(gpa)} → bus ${hex(result.busAddress)} (${dir}, ${this.backend})`, {
      domain: this.domain.name,
      device: this.device.name,
      address: gpa,
      busAddress: result.busAddress,
      bytes: size,
      cost: this.machine.costs.directMap,
    });
    return result.busAddress;
  }

  private unmapRange(type: DebugType, fn: string, busAddress: number, size: number, dir: Direction): void {
    this.machine.assertRunning();
    this.checkSize(size, "size");
    this.checkDirection(dir, fn);
    const isError = this.isErrorValue(busAddress);
    if (!isError) checkAddress(busAddress, "busAddress");
    this.machine.dmaDebug.checkUnmap(this.device, { type, busAddress, size, direction: dir }, isError);
    const best = this.live.takeSingle(this, this.device, busAddress, size, dir);
    if (!best) return; // nothing to undo; dma-debug has reported it
    // Resources are released per the recorded mapping; copy-back follows the caller's size and
    // direction, as swiotlb's unmap does.
    this.impl.unmap(best.busAddress, Math.min(size, best.size), dir, best.state);
    this.machine.emit("unmap", () => `${fn}: bus ${hex(busAddress)}, ${formatSize(size)} (${dir})`, {
      domain: this.domain.name,
      device: this.device.name,
      address: best.gpa,
      busAddress,
      bytes: size,
      cost: this.machine.costs.directMap,
    });
  }

  /** dma_map_sg(): maps a scatterlist; `count` may be less than the entries (merged), 0 on failure. */
  mapSg(entries: readonly SgEntry[], dir: Direction): SgMapping {
    this.machine.assertRunning();
    this.checkDirection(dir, "dma_map_sg");
    const ranges = this.sgRanges(entries);
    if (this.live.isSgMapped(this, entries)) {
      this.machine.emit(
        "dma-debug",
        () =>
          `DMA-API: ${this.device.driver} ${this.device.name}: this scatterlist is already mapped ("the sg cannot be mapped again if it has been mapped once")`,
        { domain: this.domain.name, device: this.device.name, code: "SG_REMAP" },
      );
    }
    const result = this.impl.mapSg(ranges, dir);
    if (!result.ok) {
      this.machine.emit(
        "mapping-error",
        () => `dma_map_sg(${this.device.name}, ${ranges.length} entries, ${dir}) returned 0: ${result.reason}`,
        { domain: this.domain.name, device: this.device.name, bytes: sum(ranges) },
      );
      return { count: 0, segments: [] };
    }
    this.live.addSg(this, this.device, { entries: ranges, segments: result.segments, dir, state: result.state, source: entries });
    for (const s of result.segments) this.machine.dmaDebug.checkSgSegment(this.device, s.busAddress, s.length);
    result.segments.forEach((s, i) => {
      const paddr = ranges[Math.min(i, ranges.length - 1)]!.gpa;
      this.machine.dmaDebug.add(this.device, {
        type: "scather-gather",
        busAddress: s.busAddress,
        size: s.length,
        direction: dir,
        paddr,
        mapErr: "none",
        sgCallEnts: ranges.length,
        sgMappedEnts: result.segments.length,
      });
    });
    this.machine.emit(
      "map",
      () =>
        `dma_map_sg: ${ranges.length} entries, ${formatSize(sum(ranges))} → ${result.segments.length} segment${result.segments.length === 1 ? "" : "s"} (${dir}, ${this.backend})`,
      {
        domain: this.domain.name,
        device: this.device.name,
        address: ranges[0]!.gpa,
        busAddress: result.segments[0]?.busAddress,
        bytes: sum(ranges),
        cost: this.machine.costs.directMap,
      },
    );
    return { count: result.segments.length, segments: result.segments.map((s) => ({ busAddress: s.busAddress, length: s.length })) };
  }

  /** dma_unmap_sg(): pass the ORIGINAL entries (not the returned count), as Linux requires. */
  unmapSg(entries: readonly SgEntry[], dir: Direction): void {
    this.machine.assertRunning();
    this.checkDirection(dir, "dma_unmap_sg");
    const ranges = this.sgRanges(entries);
    const record = this.findSg(entries, ranges);
    if (!record) {
      this.machine.dmaDebug.checkUnmap(
        this.device,
        { type: "scather-gather", busAddress: 0, size: sum(ranges), direction: dir, sgCallEnts: ranges.length },
        false,
      );
      return;
    }
    for (const s of record.segments) {
      this.machine.dmaDebug.checkUnmap(
        this.device,
        { type: "scather-gather", busAddress: s.busAddress, size: s.length, direction: dir, sgCallEnts: ranges.length },
        false,
      );
    }
    this.live.removeSg(this, this.device, record);
    this.impl.unmapSg(record.entries, record.segments, dir, record.state);
    this.machine.emit("unmap", () => `dma_unmap_sg: ${ranges.length} entries (${dir})`, {
      domain: this.domain.name,
      device: this.device.name,
      address: record.entries[0]!.gpa,
      busAddress: record.segments[0]?.busAddress,
      bytes: sum(record.entries),
      cost: this.machine.costs.directMap,
    });
  }

  /** dma_sync_single_for_cpu(): before the CPU reads what the device wrote. Partial ranges allowed. */
  syncSingleForCpu(busAddress: number, size: number, dir: Direction): void {
    this.syncSingle(busAddress, size, dir, true);
  }

  /** dma_sync_single_for_device(): before handing a buffer the CPU wrote back to the device. */
  syncSingleForDevice(busAddress: number, size: number, dir: Direction): void {
    this.syncSingle(busAddress, size, dir, false);
  }

  private syncSingle(busAddress: number, size: number, dir: Direction, toCpu: boolean): void {
    const fn = toCpu ? "dma_sync_single_for_cpu" : "dma_sync_single_for_device";
    this.machine.assertRunning();
    checkAddress(busAddress, "busAddress");
    this.checkSize(size, "size");
    this.checkDirection(dir, fn);
    this.machine.dmaDebug.checkSync(this.device, { type: "single", busAddress, size, direction: dir }, toCpu);
    const mapping = this.live.singleContaining(this, busAddress);
    if (mapping) {
      const offset = busAddress - mapping.busAddress;
      const length = Math.max(0, Math.min(size, mapping.size - offset));
      if (toCpu) this.impl.syncForCpu(mapping.busAddress, offset, length, dir, mapping.state);
      else this.impl.syncForDevice(mapping.busAddress, offset, length, dir, mapping.state);
    }
    this.machine.emit("sync", () => `${fn}: bus ${hex(busAddress)}, ${formatSize(size)} (${dir})`, {
      domain: this.domain.name,
      device: this.device.name,
      busAddress,
      bytes: size,
    });
  }

  /** dma_sync_sg_for_cpu(): with the original entries. */
  syncSgForCpu(entries: readonly SgEntry[], dir: Direction): void {
    this.syncSg(entries, dir, true);
  }

  /** dma_sync_sg_for_device(): with the original entries. */
  syncSgForDevice(entries: readonly SgEntry[], dir: Direction): void {
    this.syncSg(entries, dir, false);
  }

  private syncSg(entries: readonly SgEntry[], dir: Direction, toCpu: boolean): void {
    const fn = toCpu ? "dma_sync_sg_for_cpu" : "dma_sync_sg_for_device";
    this.machine.assertRunning();
    this.checkDirection(dir, fn);
    const ranges = this.sgRanges(entries);
    const record = this.findSg(entries, ranges);
    if (!record) {
      this.machine.dmaDebug.checkSync(
        this.device,
        { type: "scather-gather", busAddress: 0, size: sum(ranges), direction: dir, sgCallEnts: ranges.length },
        toCpu,
      );
      return;
    }
    for (const s of record.segments) {
      this.machine.dmaDebug.checkSync(
        this.device,
        { type: "scather-gather", busAddress: s.busAddress, size: s.length, direction: dir, sgCallEnts: ranges.length },
        toCpu,
      );
    }
    this.impl.syncSg(record.entries, record.segments, dir, record.state, toCpu);
    this.machine.emit("sync", () => `${fn}: ${ranges.length} entries (${dir})`, {
      domain: this.domain.name,
      device: this.device.name,
      busAddress: record.segments[0]?.busAddress,
      bytes: sum(record.entries),
    });
  }

  /**
   * dma_alloc_coherent(): memory both CPU and device see without syncs. Returns the CPU
   * (guest-physical) address and the bus address, or null (the kernel's NULL) on failure.
   */
  allocCoherent(size: number): { cpuAddress: number; busAddress: number } | null {
    this.machine.assertRunning();
    this.checkSize(size, "size");
    const result = this.impl.allocCoherent(size);
    if (!result.ok) {
      this.machine.emit("mapping-error", () => `dma_alloc_coherent(${this.device.name}, ${size}) returned NULL: ${result.reason}`, {
        domain: this.domain.name,
        device: this.device.name,
        bytes: size,
      });
      return null;
    }
    this.live.addCoherent(this, this.device, { cpuAddress: result.cpuAddress, busAddress: result.busAddress, size, state: result.state });
    this.machine.dmaDebug.add(this.device, {
      type: "coherent",
      busAddress: result.busAddress,
      size,
      direction: "BIDIRECTIONAL",
      paddr: result.cpuAddress,
      mapErr: "none",
      sgCallEnts: 0,
      sgMappedEnts: 0,
    });
    this.machine.emit(
      "map",
      () => `dma_alloc_coherent: ${formatSize(size)} at ${hex(result.cpuAddress)}, bus ${hex(result.busAddress)} (${this.backend})`,
      {
        domain: this.domain.name,
        device: this.device.name,
        address: result.cpuAddress,
        busAddress: result.busAddress,
        bytes: size,
        cost: this.machine.costs.directMap,
      },
    );
    return { cpuAddress: result.cpuAddress, busAddress: result.busAddress };
  }

  /** dma_free_coherent(dev, size, cpu_addr, dma_handle): all as allocCoherent gave them. */
  freeCoherent(size: number, cpuAddress: number, busAddress: number): void {
    this.machine.assertRunning();
    this.checkSize(size, "size");
    checkAddress(cpuAddress, "cpuAddress");
    checkAddress(busAddress, "busAddress");
    this.machine.dmaDebug.checkUnmap(
      this.device,
      { type: "coherent", busAddress, size, direction: "BIDIRECTIONAL", paddr: cpuAddress },
      false,
    );
    const record = this.live.takeCoherent(this, this.device, busAddress);
    if (!record) return;
    this.impl.freeCoherent(record.cpuAddress, record.size, record.busAddress, record.state);
    this.machine.emit("unmap", () => `dma_free_coherent: bus ${hex(busAddress)}, ${formatSize(size)}`, {
      domain: this.domain.name,
      device: this.device.name,
      address: record.cpuAddress,
      busAddress,
      bytes: size,
      cost: this.machine.costs.directMap,
    });
  }

  private where(): { domain: string; device: string } {
    return { domain: this.domain.name, device: this.device.name };
  }

  private checkSize(size: unknown, field: string): asserts size is number {
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size <= 0) {
      throw new SimError("INVALID_ARGUMENT", `${field} must be a whole number of bytes > 0, got ${describeValue(size)}`, field);
    }
    this.machine.checkTransfer(size, field);
  }

  /** DMA_NONE is a BUG() in the kernel (BUG_ON(!valid_dma_direction(dir))); anything else is our error. */
  private checkDirection(dir: unknown, fn: string): asserts dir is Direction {
    if (dir === "TO_DEVICE" || dir === "FROM_DEVICE" || dir === "BIDIRECTIONAL") return;
    if (dir === "NONE" || dir === "DMA_NONE") {
      this.machine.panic(`kernel BUG: ${fn} called with DMA_NONE (BUG_ON(!valid_dma_direction(dir)))`, this.where());
    }
    throw new SimError(
      "INVALID_DIRECTION",
      `${fn}: direction must be "TO_DEVICE", "FROM_DEVICE" or "BIDIRECTIONAL", got ${describeValue(dir)}`,
      "dir",
    );
  }

  private pageAddress(page: StructPage, offset: unknown, field: string): number {
    if (typeof page !== "object" || page === null || typeof page.pfn !== "number" || typeof page.domain !== "string") {
      throw new SimError("INVALID_ARGUMENT", `${field} must be a struct page from domain.page(pfn), got ${describeValue(page)}`, field);
    }
    if (page.domain !== this.domain.name) {
      throw new SimError(
        "INVALID_ARGUMENT",
        `${field} is a page of ${page.domain}; ${this.domain.name}'s DMA-API maps ${this.domain.name}'s pages (map a foreign page with mapGrant first)`,
        field,
      );
    }
    if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
      throw new SimError("INVALID_ARGUMENT", `offset must be a whole number >= 0, got ${describeValue(offset)}`, "offset");
    }
    return page.pfn * this.machine.pageSize + offset;
  }

  private sgRanges(entries: readonly SgEntry[]): PhysRange[] {
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_SG_ENTRIES) {
      throw new SimError(
        "INVALID_ARGUMENT",
        `a scatterlist must be an array of 1 to ${MAX_SG_ENTRIES} entries, got ${Array.isArray(entries) ? `${entries.length} entries` : describeValue(entries)}`,
        "entries",
      );
    }
    return entries.map((entry, i) => {
      if (typeof entry !== "object" || entry === null) {
        throw new SimError(
          "INVALID_ARGUMENT",
          `entries[${i}] must be { address, length } or { page, offset, length }, got ${describeValue(entry)}`,
          `entries[${i}]`,
        );
      }
      const length = (entry as { length: unknown }).length;
      this.checkSize(length, `entries[${i}].length`);
      if ("page" in entry) return { gpa: this.pageAddress(entry.page, entry.offset ?? 0, `entries[${i}].page`), length };
      checkAddress((entry as { address: unknown }).address, `entries[${i}].address`);
      return { gpa: entry.address, length };
    });
  }

  /** The mapped scatterlist these entries describe: the same array, or one with the same first entry. */
  private findSg(entries: readonly SgEntry[], ranges: PhysRange[]): SgListMapping | undefined {
    return this.live.findSg(this, entries, ranges[0]!.gpa);
  }

  /** Live mappings of this DMA-API, for snapshots. */
  liveMappings(): { type: DebugType; busAddress: number; size: number; dir: Direction; address: number }[] {
    return this.live.list(this);
  }
}

function sum(ranges: PhysRange[]): number {
  return ranges.reduce((total, r) => total + r.length, 0);
}

declare module "../domain.js" {
  interface Domain {
    /** A DMA-API instance for `device` with the named backend (one per position in the thread). */
    dmaApi(device: Device, backend: BackendName, options?: DmaApiOptions): DmaApi;
  }
}

Domain.prototype.dmaApi = function (this: Domain, device: Device, backend: BackendName, options?: DmaApiOptions): DmaApi {
  this.machine.assertRunning();
  return new DmaApi(this, device, backend, options);
};
