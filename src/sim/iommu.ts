import { SimError, describeValue, rejectUnknownKeys, requireObject } from "./errors.js";
import { RangeAllocator } from "./range-alloc.js";
import { formatSize, hex } from "./units.js";
import type { Machine } from "./machine.js";
import type { Device } from "./device.js";

/** IOTLB invalidation policy: flush on every unmap, or queue and flush in batches (Linux's lazy mode). */
export type Invalidation = "strict" | "lazy";

/** Options of a device behind the IOMMU. */
export interface IommuOptions {
  /** Default "strict" (intel_iommu=strict); "lazy" batches flushes: 250 queued unmaps or 10 ms. */
  invalidation?: Invalidation;
  /**
   * Devices behind one PCIe-to-PCI bridge share a protection domain (transaction-id aliasing,
   * Documentation/Intel-IOMMU.txt). Devices with the same group share one. Default: the device's own.
   */
  group?: string;
}

/** Flush the lazy queue once it holds this many unmaps (Intel VT-d driver's high-water mark). */
export const LAZY_FLUSH_HIGH_WATER = 250;
/** ...or once the oldest queued unmap is this old (10 ms). */
export const LAZY_FLUSH_MICROSECONDS = 10_000;
/** Entries the simulated IOTLB holds before evicting the oldest. */
export const IOTLB_CAPACITY = 512;
/** VT-d's 48-bit address width: the IOVA space above the device mask is never used anyway. */
const IOVA_BITS = 48;

interface Pte {
  mfn: number;
  read: boolean;
  write: boolean;
}

interface QueuedUnmap {
  iovaPage: number;
  pages: number;
  at: number;
}

/**
 * One protection domain: its own IOVA space and I/O page table. Devices in the same group share it.
 */
export class IommuDomain {
  readonly devices: Device[] = [];
  /** @internal I/O page table: IOVA page → PTE. */
  readonly pageTable = new Map<number, Pte>();
  /** @internal IOVA pages allocator. */
  readonly iova: RangeAllocator;
  /** @internal Unmaps waiting for the lazy flush. */
  readonly queue: QueuedUnmap[] = [];

  constructor(readonly iommu: Iommu, readonly id: number, readonly group: string, readonly invalidation: Invalidation) {
    const pageSize = iommu.machine.pageSize;
    // IOVA page 0 stays unused (Linux's IOVA_START_PFN is 1) so a bus address of 0 is never valid.
    this.iova = new RangeAllocator(1, 2 ** IOVA_BITS / pageSize);
    // The x86 interrupt window 0xfee00000-0xfeefffff is never translated: reserve it.
    const first = Math.floor(0xfee00000 / pageSize);
    const last = Math.floor(0xfeefffff / pageSize);
    const reserved = this.iova.alloc(last - first + 1, 1, false, last + 1);
    if (reserved !== undefined && reserved !== first) {
      this.iova.free(reserved, last - first + 1);
    }
  }

  private get machine(): Machine {
    return this.iommu.machine;
  }

  /** Allocates `pages` IOVA pages below `limit` (bytes), top-down as Linux does. */
  allocIova(pages: number, limit: number): number | undefined {
    this.iommu.maybeTimedFlush();
    const pageSize = this.machine.pageSize;
    return this.iova.alloc(pages, 1, true, Math.floor(limit / pageSize));
  }

  /** Installs one PTE. */
  map(iovaPage: number, mfn: number, read: boolean, write: boolean, device?: string): void {
    if (!read && !write) throw new SimError("INVALID_ARGUMENT", "an IOMMU mapping needs read or write permission (__domain_mapping returns -EINVAL)", "direction");
    this.pageTable.set(iovaPage, { mfn, read, write });
    const pageSize = this.machine.pageSize;
    this.machine.emit("iommu-map", `IOMMU: IOVA ${hex(iovaPage * pageSize)} → machine ${hex(mfn * pageSize)} (${read && write ? "read/write" : read ? "device may read" : "device may write"})`, { device, busAddress: iovaPage * pageSize, machineAddress: mfn * pageSize, bytes: pageSize, cost: this.machine.costs.iommuPteWrite });
  }

  /**
   * Clears PTEs for [iovaPage, iovaPage + pages) and releases the IOVA range: at once with an
   * IOTLB flush (strict), or queued until the next batched flush (lazy), leaving the stale window.
   */
  unmap(iovaPage: number, pages: number, device?: string): void {
    const m = this.machine;
    const pageSize = m.pageSize;
    for (let p = iovaPage; p < iovaPage + pages; p++) this.pageTable.delete(p);
    if (this.invalidation === "strict") {
      m.emit("iommu-unmap", `IOMMU: cleared ${pages} PTE${pages === 1 ? "" : "s"} at IOVA ${hex(iovaPage * pageSize)}`, { device, busAddress: iovaPage * pageSize, bytes: pages * pageSize, cost: m.costs.iommuPteClear * pages });
      this.iommu.invalidate(this, [{ iovaPage, pages }], "strict unmap");
      this.iova.free(iovaPage, pages);
      return;
    }
    this.queue.push({ iovaPage, pages, at: m.traceLog.now });
    m.emit("iommu-unmap", `IOMMU: cleared ${pages} PTE${pages === 1 ? "" : "s"} at IOVA ${hex(iovaPage * pageSize)}; IOTLB flush deferred (${this.queue.length} queued)`, { device, busAddress: iovaPage * pageSize, bytes: pages * pageSize, cost: m.costs.iommuPteClear * pages });
    if (this.queue.length >= LAZY_FLUSH_HIGH_WATER) this.flushQueue(`${LAZY_FLUSH_HIGH_WATER} unmaps queued`);
  }

  /** Flushes the IOTLB for every queued unmap and frees their IOVA ranges. */
  flushQueue(reason: string): void {
    if (this.queue.length === 0) return;
    const entries = this.queue.splice(0);
    this.iommu.invalidate(this, entries, reason);
    for (const e of entries) this.iova.free(e.iovaPage, e.pages);
  }

  /**
   * Translates one bus page for a device access. Returns the MFN, or undefined after recording a
   * fault: the access is blocked and touches no memory.
   */
  translate(iovaPage: number, isWrite: boolean, busAddress: number, device: Device): number | undefined {
    const m = this.machine;
    this.iommu.maybeTimedFlush();
    const cached = this.iommu.iotlbLookup(this, iovaPage);
    const pte = cached ?? this.pageTable.get(iovaPage);
    const allowed = pte !== undefined && (isWrite ? pte.write : pte.read);
    if (!allowed) {
      const reason = isWrite ? "[fault reason 0x05] PTE Write access is not set" : "[fault reason 0x06] PTE Read access is not set";
      m.emit("iommu-fault", `DMAR: [DMA ${isWrite ? "Write" : "Read"}] Request device [${device.name}] fault addr ${hex(busAddress)} ${reason}`, { device: device.name, domain: device.domain.name, busAddress, code: isWrite ? "0x05" : "0x06" });
      return undefined;
    }
    if (cached && !this.pageTable.has(iovaPage)) {
      m.emit("iotlb-stale", `${device.name} reached machine ${hex(pte.mfn * m.pageSize)} through a stale IOTLB entry for IOVA ${hex(iovaPage * m.pageSize)}: the mapping is gone but the lazy flush has not run yet (${this.queue.length} queued)`, { device: device.name, domain: device.domain.name, busAddress, machineAddress: pte.mfn * m.pageSize });
    }
    if (!cached) this.iommu.iotlbInsert(this, iovaPage, pte);
    return pte.mfn;
  }
}

/** The machine's IOMMU: protection domains, and one IOTLB shared by them (tagged by domain). */
export class Iommu {
  readonly domains: IommuDomain[] = [];
  private readonly iotlb = new Map<string, Pte>();

  constructor(readonly machine: Machine) {}

  /** Puts a device behind the IOMMU, in its group's protection domain. */
  attach(device: Device, options: IommuOptions): IommuDomain {
    const o = requireObject(options, "iommu");
    rejectUnknownKeys(o, ["invalidation", "group"], "iommu");
    const invalidation = o.invalidation ?? "strict";
    if (invalidation !== "strict" && invalidation !== "lazy") {
      throw new SimError("INVALID_CONFIG", `iommu.invalidation must be "strict" or "lazy", got ${describeValue(invalidation)}`, "iommu.invalidation");
    }
    if (o.group !== undefined && (typeof o.group !== "string" || o.group.length === 0)) {
      throw new SimError("INVALID_CONFIG", `iommu.group must be a non-empty string, got ${describeValue(o.group)}`, "iommu.group");
    }
    const group = (o.group as string | undefined) ?? `device:${device.name}`;
    let domain = this.domains.find((d) => d.group === group);
    if (domain && domain.invalidation !== invalidation) {
      throw new SimError("INVALID_CONFIG", `iommu group ${describeValue(group)} already uses ${domain.invalidation} invalidation; a device cannot join it with ${invalidation}`, "iommu.invalidation");
    }
    if (!domain) {
      domain = new IommuDomain(this, this.domains.length, group, invalidation);
      this.domains.push(domain);
    }
    domain.devices.push(device);
    return domain;
  }

  /** @internal */
  iotlbLookup(domain: IommuDomain, iovaPage: number): Pte | undefined {
    return this.iotlb.get(`${domain.id}:${iovaPage}`);
  }

  /** @internal Caches a translation, evicting the oldest entry when full. */
  iotlbInsert(domain: IommuDomain, iovaPage: number, pte: Pte): void {
    if (this.iotlb.size >= IOTLB_CAPACITY) this.iotlb.delete(this.iotlb.keys().next().value!);
    this.iotlb.set(`${domain.id}:${iovaPage}`, pte);
  }

  /** @internal Invalidates IOTLB entries of `ranges` (one costed flush). */
  invalidate(domain: IommuDomain, ranges: { iovaPage: number; pages: number }[], reason: string): void {
    let pages = 0;
    for (const r of ranges) {
      pages += r.pages;
      for (let p = r.iovaPage; p < r.iovaPage + r.pages; p++) this.iotlb.delete(`${domain.id}:${p}`);
    }
    this.machine.emit("iotlb-flush", `IOTLB flush for ${domain.group} (${reason}): ${ranges.length} range${ranges.length === 1 ? "" : "s"}, ${formatSize(pages * this.machine.pageSize)}`, { cost: this.machine.costs.iotlbFlush, code: domain.invalidation });
  }

  /** @internal Runs the 10 ms timer of every lazy queue whose oldest entry has expired. */
  maybeTimedFlush(): void {
    const now = this.machine.traceLog.now;
    for (const d of this.domains) {
      const oldest = d.queue[0];
      if (oldest && now - oldest.at >= LAZY_FLUSH_MICROSECONDS) d.flushQueue("10 ms timer");
    }
  }

  /** @internal Called when simulated time jumps. */
  onTimeAdvanced(): void {
    this.maybeTimedFlush();
  }

  /** @internal Flushes every queue (end of run). */
  flushAllQueues(reason: string): void {
    for (const d of this.domains) d.flushQueue(reason);
  }

  /** @internal For snapshots. */
  iotlbEntries(): { domain: number; iovaPage: number; mfn: number }[] {
    return [...this.iotlb.entries()].map(([key, pte]) => {
      const [domain, page] = key.split(":").map(Number) as [number, number];
      return { domain, iovaPage: page, mfn: pte.mfn };
    });
  }
}
