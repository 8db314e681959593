import { SimError, describeValue, rejectUnknownKeys, requireObject } from "./errors.js";
import { type Size, formatSize, hex, maskLimit, parseSize } from "./units.js";
import type { Machine } from "./machine.js";
import type { Domain } from "./domain.js";
import type { IommuDomain, IommuOptions } from "./iommu.js";

/** The value every failed mapping returns (the kernel's DMA_MAPPING_ERROR, ~0, as a JS number). */
export const DMA_MAPPING_ERROR = -1;

/** The argument of `machine.attachDevice`. */
export interface DeviceConfig {
  /** Device name, e.g. "sda" or "eth0". */
  name: string;
  /** The driver domain that owns the device (dom0 or a driver domain). */
  domain: Domain;
  /** Address bits the device can emit (dma_mask). Default 32, as Linux assumes. */
  dmaMask?: number;
  /** Behind a hardware IOMMU: `true`, or options (invalidation "strict" | "lazy", group). Default false. */
  iommu?: boolean | IommuOptions;
  /** Driver name used in dma-debug messages ("DMA-API: <driver> <device>: ..."). Default "driver". */
  driver?: string;
  /** dma_parms.max_segment_size. Default 64 KiB (dma_get_max_seg_size's default). */
  maxSegmentSize?: Size;
  /** dma_parms.segment_boundary_mask + 1, as a size. Default: none (modern ULONG_MAX), 4 GiB in era 2006. */
  segmentBoundary?: Size;
}

const DEVICE_KEYS = ["name", "domain", "dmaMask", "iommu", "driver", "maxSegmentSize", "segmentBoundary"] as const;

/** @internal Validates a DMA mask width. */
export function checkMaskBits(bits: unknown, field: string): number {
  if (typeof bits !== "number" || !Number.isInteger(bits) || bits < 12 || bits > 64) {
    throw new SimError(
      "INVALID_MASK",
      `${field} is the number of address bits the device drives, an integer from 12 to 64, got ${describeValue(bits)}`,
      field,
    );
  }
  return bits;
}

/**
 * A DMA-capable device. It reaches memory only through bus addresses: without an IOMMU a bus
 * address is a machine address; behind an IOMMU it is an IOVA translated by the device's own
 * protection domain.
 */
export class Device {
  /** Its unique name, e.g. "sda" (as trace events and dma-debug messages name it). */
  readonly name: string;
  /** The driver domain that owns it: only this domain's DMA-API can map memory for it. */
  readonly domain: Domain;
  /** Driver name in dma-debug messages ("DMA-API: <driver> <device>: ..."). Default "driver". */
  readonly driver: string;
  /**
   * Current DMA mask width in bits (dev->dma_mask as DMA_BIT_MASK(n)): the device can emit bus
   * addresses below 2^dmaMask. Set at attach (default 32) and by `dma.setMask(bits)`.
   */
  dmaMask: number;
  /** dma_get_max_seg_size(): the longest scatterlist segment the device accepts, in bytes. Default 65536. */
  readonly maxSegmentSize: number;
  /** Segment boundary as a size (Infinity when none). */
  readonly segmentBoundary: number;
  /** @internal The device's IOMMU protection domain, or null when no IOMMU sits in front of it. */
  readonly iommu: IommuDomain | null;

  /**
   * Use `machine.attachDevice(config)` instead.
   * @param machine The machine the device is attached to.
   * @param config The device's configuration.
   */
  constructor(
    readonly machine: Machine,
    config: DeviceConfig,
  ) {
    const c = requireObject(config, "attachDevice(config)");
    rejectUnknownKeys(c, DEVICE_KEYS, "attachDevice");
    if (typeof c.name !== "string" || !/^[A-Za-z][\w.:-]{0,31}$/.test(c.name)) {
      throw new SimError(
        "INVALID_CONFIG",
        `device name must be 1-32 letters, digits, "_", "-", ":" or "." starting with a letter, got ${describeValue(c.name)}`,
        "name",
      );
    }
    if (machine.devices.some((d) => d.name === c.name))
      throw new SimError("INVALID_CONFIG", `a device named ${describeValue(c.name)} already exists`, "name");
    this.name = c.name;
    const domain = c.domain as Domain | undefined;
    if (!domain || !machine.domains.includes(domain)) {
      throw new SimError(
        "INVALID_CONFIG",
        `device ${this.name}: domain must be a domain created on this machine (e.g. dom0), got ${describeValue(domain === undefined ? undefined : "a foreign object")}`,
        "domain",
      );
    }
    if (!domain.privileged) {
      throw new SimError(
        "INVALID_CONFIG",
        `device ${this.name}: ${domain.name} is not a driver domain (privileged: false) and cannot own a device`,
        "domain",
      );
    }
    this.domain = domain;
    this.dmaMask = checkMaskBits(c.dmaMask ?? 32, "dmaMask");
    if (c.driver !== undefined && (typeof c.driver !== "string" || c.driver.length === 0 || c.driver.length > 32)) {
      throw new SimError(
        "INVALID_CONFIG",
        `device ${this.name}: driver must be a name of 1-32 characters, got ${describeValue(c.driver)}`,
        "driver",
      );
    }
    this.driver = (c.driver as string | undefined) ?? "driver";
    this.maxSegmentSize = c.maxSegmentSize === undefined ? 64 * 1024 : parseSize(c.maxSegmentSize, "maxSegmentSize");
    if (this.maxSegmentSize < 512)
      throw new SimError(
        "INVALID_CONFIG",
        `maxSegmentSize must be at least 512 bytes, got ${describeValue(c.maxSegmentSize)}`,
        "maxSegmentSize",
      );
    const boundary =
      c.segmentBoundary === undefined ? (machine.era === "2006" ? 2 ** 32 : Infinity) : parseSize(c.segmentBoundary, "segmentBoundary");
    if (boundary !== Infinity && (!Number.isInteger(Math.log2(boundary)) || boundary < machine.pageSize)) {
      throw new SimError(
        "INVALID_CONFIG",
        `segmentBoundary must be a power of two of at least one page (${formatSize(machine.pageSize)}), got ${describeValue(c.segmentBoundary)}`,
        "segmentBoundary",
      );
    }
    this.segmentBoundary = boundary;
    const iommu = c.iommu ?? false;
    this.iommu = iommu === false ? null : machine.iommu.attach(this, iommu === true ? {} : (iommu as IommuOptions));
    machine.emit(
      "setup",
      () =>
        `${this.name}: ${this.dmaMask}-bit DMA device of ${domain.name}${this.iommu ? `, behind the IOMMU (${this.iommu.invalidation} invalidation)` : ", no IOMMU (bus address = machine address)"}`,
      { device: this.name, domain: domain.name },
    );
  }

  /** Exclusive upper bound of the bus addresses the device can emit. */
  get dmaLimit(): number {
    return maskLimit(this.dmaMask);
  }

  /** The device reads `length` bytes at a bus address (DMA towards the device). */
  read(busAddress: number, length: number): Uint8Array {
    const out = new Uint8Array(this.checkAccess(busAddress, length, "read"));
    this.transfer(busAddress, length, false, (maddr, done, chunk) => this.machine.readMachine(maddr, chunk, out, done));
    return out;
  }

  /** The device writes bytes at a bus address (DMA from the device into memory). */
  write(busAddress: number, data: Uint8Array | ArrayLike<number>): void {
    const bytes = data instanceof Uint8Array ? data : Uint8Array.from(data);
    this.checkAccess(busAddress, bytes.length, "write");
    this.transfer(busAddress, bytes.length, true, (maddr, done, chunk) =>
      this.machine.writeMachine(maddr, bytes.subarray(done, done + chunk)),
    );
  }

  private checkAccess(busAddress: unknown, length: number, what: string): number {
    this.machine.assertRunning();
    if (busAddress === DMA_MAPPING_ERROR) {
      throw new SimError(
        "DMA_MAPPING_ERROR_USED",
        `${this.name}.${what}: the bus address is DMA_MAPPING_ERROR: the mapping failed, and dma.mappingError(bus) would have said so`,
        "busAddress",
      );
    }
    if (typeof busAddress !== "number" || !Number.isSafeInteger(busAddress) || busAddress < 0) {
      throw new SimError(
        "INVALID_ADDRESS",
        `${this.name}.${what}: busAddress must be a whole number >= 0, got ${describeValue(busAddress)}`,
        "busAddress",
      );
    }
    this.machine.checkTransfer(length, "length");
    if (busAddress + length > this.dmaLimit) {
      throw new SimError(
        "BEYOND_DMA_MASK",
        `${this.name} has a ${this.dmaMask}-bit DMA mask and cannot emit bus address ${hex(busAddress + Math.max(length, 1) - 1)} (limit ${hex(this.dmaLimit - 1)})`,
        "busAddress",
      );
    }
    return length;
  }

  /** Walks the transfer page by page through the IOMMU (if any), flagging stray and unmapped DMA. */
  private transfer(busAddress: number, length: number, isWrite: boolean, copy: (maddr: number, done: number, chunk: number) => void): void {
    const m = this.machine;
    const pageSize = m.pageSize;
    const domid = this.domain.domid;
    let done = 0;
    let blocked = 0;
    let firstMaddr: number | undefined;
    while (done < length) {
      const bus = busAddress + done;
      const busPage = Math.floor(bus / pageSize);
      const offset = bus - busPage * pageSize;
      const chunk = Math.min(length - done, pageSize - offset);
      const mfn = this.iommu ? this.iommu.translate(busPage, isWrite, bus, this) : busPage;
      if (mfn !== undefined) {
        const maddr = mfn * pageSize + offset;
        firstMaddr ??= maddr;
        if (mfn >= m.frameCount) {
          m.emit(
            "stray-dma",
            () =>
              `${this.name} ${isWrite ? "wrote" : "read"} bus ${hex(bus)}, beyond the end of machine memory (${formatSize(m.memory)}): master abort`,
            { device: this.name, domain: this.domain.name, busAddress: bus, bytes: chunk, victim: "none" },
          );
        } else {
          if (!m.accessibleBy(domid, mfn)) this.reportStray(bus, maddr, chunk, isWrite);
          else if (isWrite && !m.writableBy(domid, mfn)) this.reportReadOnlyGrantWrite(bus, maddr, chunk);
          else if (!this.iommu && !m.liveMappings.covers(this, busPage)) this.reportUnmapped(bus, maddr, chunk, isWrite);
          copy(maddr, done, chunk);
        }
      } else {
        blocked += chunk; // the IOMMU faulted this page: nothing was read or written there
      }
      done += chunk;
    }
    const blockedNote =
      blocked === 0 ? "" : blocked === length ? ": blocked by the IOMMU" : `; ${formatSize(blocked)} of it blocked by the IOMMU`;
    m.emit(
      isWrite ? "dma-write" : "dma-read",
      `${this.name} ${isWrite ? "wrote" : "read"} ${formatSize(length)} at bus ${hex(busAddress)}${firstMaddr !== undefined && firstMaddr !== busAddress ? ` (machine ${hex(firstMaddr)})` : ""}${blockedNote}`,
      { device: this.name, domain: this.domain.name, busAddress, machineAddress: firstMaddr, bytes: length },
    );
  }

  private reportStray(bus: number, maddr: number, bytes: number, isWrite: boolean): void {
    const m = this.machine;
    const mfn = Math.floor(maddr / m.pageSize);
    const victim = m.ownerName(mfn);
    const pfn = m.store.pfnOf(mfn);
    m.emit(
      "stray-dma",
      () =>
        `stray DMA: ${this.name} ${isWrite ? "wrote" : "read"} ${formatSize(bytes)} at machine ${hex(maddr)}, which belongs to ${victim}${pfn !== undefined ? ` (pfn ${hex(pfn)})` : ""}, not to ${this.domain.name}`,
      { device: this.name, domain: this.domain.name, busAddress: bus, machineAddress: maddr, bytes, victim },
    );
  }

  /** A write into a frame the driver domain holds only through read-only grants: nothing but an IOMMU would stop it. */
  private reportReadOnlyGrantWrite(bus: number, maddr: number, bytes: number): void {
    const m = this.machine;
    const mfn = Math.floor(maddr / m.pageSize);
    const victim = m.ownerName(mfn);
    m.emit(
      "stray-dma",
      () =>
        `${this.name} wrote ${formatSize(bytes)} at machine ${hex(maddr)}, a frame ${victim} granted ${this.domain.name} read-only (GTF_readonly): ${this.iommu ? "a writable IOMMU mapping let it through" : "without an IOMMU nothing stops the device"}`,
      { device: this.name, domain: this.domain.name, busAddress: bus, machineAddress: maddr, bytes, victim, code: "GTF_readonly" },
    );
  }

  private reportUnmapped(bus: number, maddr: number, bytes: number, isWrite: boolean): void {
    const m = this.machine;
    const pfn = m.store.pfnOf(Math.floor(maddr / m.pageSize));
    m.emit(
      "unmapped-dma",
      () =>
        `${this.name} ${isWrite ? "wrote" : "read"} ${formatSize(bytes)} at machine ${hex(maddr)} (${this.domain.name} pfn ${pfn === undefined ? "?" : hex(pfn)}), which no live DMA mapping covers: the wrong frame, or a buffer already unmapped`,
      { device: this.name, domain: this.domain.name, busAddress: bus, machineAddress: maddr, bytes },
    );
  }
}
