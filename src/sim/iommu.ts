import { SimError, describeValue, rejectUnknownKeys, requireObject } from "./errors.js";
import { RangeAllocator } from "./range-alloc.js";
import { formatSize, hex } from "./units.js";
import type { Machine } from "./machine.js";
import type { Device } from "./device.js";
import type { Direction } from "./dma/types.js";

/**
 * The hardware IOMMU (modelled on Intel VT-d): per-device protection domains with their own IOVA
 * space and I/O page table, one IOTLB shared by all of them, faults that block the access, and
 * the two IOTLB invalidation policies.
 *
 * Sources (versions in docs/reference/sources.mdx): Linux's Documentation/Intel-IOMMU.txt (domains, IOVA, reserved ranges, faults);
 * drivers/iommu/dma-iommu.c and drivers/iommu/iova.c (IOVA allocation); drivers/iommu/intel/dmar.c
 * (fault messages); Mark Gross, "PCI: iommu: iotlb flushing" (the 250-entry / 10 ms lazy flush of
 * era "2006"); dma-iommu.c's flush queue (256-entry ring, 10 ms, era "modern").
 *
 * Simplifications, each said where it applies: the IOVA granule is the machine page; the IOVA
 * allocator has no per-CPU range cache (freed ranges go straight back to the tree); PCI MMIO
 * windows are not reserved (the machine has no MMIO); faults name the device, not its PCI BDF.
 */

/** IOTLB invalidation policy: flush on every unmap (`intel_iommu=strict`), or queue and flush in batches (lazy). */
export type Invalidation = "strict" | "lazy";

/** Options of a device behind the IOMMU (`attachDevice({ iommu: { ... } })`). */
export interface IommuOptions {
  /**
   * Default "strict": every unmap invalidates the IOTLB at once, so the device loses access
   * immediately. "lazy" queues unmaps and flushes them when the next unmap finds the queue full
   * (250 queued in era "2006", 255 in "modern") or after 10 ms; until then a stale
   * IOTLB entry still lets the device through. A device joining an existing group inherits its policy.
   */
  invalidation?: Invalidation;
  /**
   * Devices with the same group share one protection domain: IOVA space, page table and therefore
   * each other's mappings, as devices behind one PCIe-to-PCI bridge do ("due to transaction id
   * aliasing", Documentation/Intel-IOMMU.txt). Default: a domain of the device's own.
   */
  group?: string;
}

/**
 * How many unmaps the lazy queue holds; the next unmap flushes them first, then queues itself.
 * Era "2006" shows the first VT-d driver's batching (VT-d support came to Linux in 2008):
 * intel-iommu.c's add_unmap flushes when `list_size == HIGH_WATER_MARK` (250), i.e. when the
 * 251st unmap arrives. Era "modern": the flush queue (drivers/iommu/dma-iommu.c, earlier iova.c)
 * is a ring of IOVA_FQ_SIZE 256 entries that keeps one slot empty (fq_full: tail + 1 == head),
 * and queue_iova flushes a full ring before adding, so the 256th unmap flushes 255.
 */
export const LAZY_FLUSH_HIGH_WATER = { "2006": 250, modern: 255 } as const;
/** ...or once its oldest unmap is this many microseconds old (the 10 ms unmap timer). */
export const LAZY_FLUSH_MICROSECONDS = 10_000;
/** Translations the shared IOTLB holds before evicting the oldest (a model size; real IOTLBs are small caches). */
export const IOTLB_CAPACITY = 512;
/** IOVA address width: VT-d's 48-bit (4-level) guest address width; masks wider than this are capped. */
export const IOVA_BITS = 48;
/** iova.h: log2 of the largest cached range (pages); smaller allocations are rounded up to a power of two. */
const IOVA_RANGE_CACHE_MAX_SIZE = 6;
/** The IOTLB's key for an IOVA page of a protection domain (IOVA pages stay below 2^37 with 4 KiB pages). */
function iotlbKey(domainId: number, iovaPage: number): number {
  return domainId * 2 ** 37 + iovaPage;
}
/** The interrupt (MSI) address window: "not translated", so reserved in every IOVA space. */
const MSI_WINDOW_START = 0xfee00000;
const MSI_WINDOW_END = 0xfeefffff;

/** One I/O page-table entry: the machine frame an IOVA page reaches, and what the device may do. */
export interface IommuPte {
  mfn: number;
  /** The device may read the frame (DMA_PTE_READ). */
  read: boolean;
  /** The device may write the frame (DMA_PTE_WRITE). */
  write: boolean;
}

/** One IOVA allocation, in pages of `machine.pageSize`. */
export interface IovaRange {
  iovaPage: number;
  pages: number;
}

/** What an allocated IOVA range is used for (snapshots): live mapping, waiting for the lazy flush, or reserved. */
export type IovaUse = "mapped" | "flush-queued" | "reserved";

interface QueuedUnmap extends IovaRange {
  /** Simulated time (µs) the unmap was queued. */
  at: number;
}

/**
 * dma_info_to_prot() (drivers/iommu/dma-iommu.c): TO_DEVICE lets the device only read the
 * memory, FROM_DEVICE only write it, BIDIRECTIONAL both.
 */
export function protFromDirection(dir: Direction): { read: boolean; write: boolean } {
  return { read: dir !== "FROM_DEVICE", write: dir !== "TO_DEVICE" };
}

/** Smallest power of two >= n (n >= 1). */
function roundUpPow2(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}

/**
 * One protection domain: its own IOVA space and I/O page table ("these are not global address
 * spaces, but separate for each domain", Documentation/Intel-IOMMU.txt). Devices in one group
 * share it. A bus address of a device behind the IOMMU is an IOVA of its domain.
 */
export class IommuDomain {
  /** Devices attached to this protection domain. */
  readonly devices: Device[] = [];
  /** @internal I/O page table: IOVA page → PTE. */
  readonly pageTable = new Map<number, IommuPte>();
  /** @internal Free IOVA pages. */
  readonly iova: RangeAllocator;
  /** @internal Allocated IOVA ranges by first page, with their use. */
  readonly ranges = new Map<number, { pages: number; use: IovaUse }>();
  /** @internal Unmaps waiting for the lazy flush; their IOVA stays allocated until it runs. */
  readonly queue: QueuedUnmap[] = [];

  constructor(
    readonly iommu: Iommu,
    /** Index among the machine's protection domains: the IOTLB's tag. */
    readonly id: number,
    readonly group: string,
    readonly invalidation: Invalidation,
  ) {
    const pageSize = iommu.machine.pageSize;
    // IOVA page 0 is never handed out (iommu_dma_init_domain: base_pfn = max(1, ...); VT-d's
    // IOVA_START_PFN is 1), so bus address 0 is never a valid mapping.
    this.iova = new RangeAllocator(1, 2 ** IOVA_BITS / pageSize);
    // Interrupt messages are not translated: the window is reserved from every IOVA space
    // (Documentation/Intel-IOMMU.txt; dmar_init_reserved_ranges, "IOAPIC ranges shouldn't be
    // accessed by DMA"). ia64 uses the same 0xfee00000 MSI address, so both archs reserve it.
    const first = Math.floor(MSI_WINDOW_START / pageSize);
    const count = Math.floor(MSI_WINDOW_END / pageSize) - first + 1;
    const at = this.iova.alloc(count, 1, true, first + count);
    if (at !== first) throw new Error(`IOMMU: could not reserve the interrupt window (got ${at})`);
    this.ranges.set(first, { pages: count, use: "reserved" });
  }

  private get machine(): Machine {
    return this.iommu.machine;
  }

  /** How messages name this protection domain: the group, or the one device that owns it. */
  get label(): string {
    return this.group.startsWith("device:") ? `domain of ${this.group.slice(7)}` : `group ${JSON.stringify(this.group)}`;
  }

  /**
   * Allocates IOVA pages for a mapping by `device`, as Linux's iommu_dma_alloc_iova: top-down
   * below the device's DMA mask (capped at the IOVA width), sizes under 32 pages rounded up to a
   * power of two, and every range aligned to its size rounded up to a power of two (alloc_iova's
   * size_aligned). A device whose mask exceeds 32 bits is first tried below 4 GiB ("Try to get PCI
   * devices a SAC address"); once that fails it uses its full mask from then on. Returns undefined
   * when no range fits.
   */
  allocIova(pages: number, device: Device): IovaRange | undefined {
    this.iommu.maybeTimedFlush();
    const m = this.machine;
    const size = pages < 2 ** (IOVA_RANGE_CACHE_MAX_SIZE - 1) ? roundUpPow2(pages) : pages;
    const align = roundUpPow2(size);
    const maskBits = Math.min(device.dmaMask, IOVA_BITS);
    const limit = Math.floor(2 ** maskBits / m.pageSize);
    const sacLimit = 2 ** 32 / m.pageSize;
    let at: number | undefined;
    if (limit > sacLimit && !this.iommu.usesDac(device)) {
      at = this.iova.alloc(size, align, true, sacLimit);
      if (at === undefined) {
        this.iommu.markDac(device);
        m.emit("setup", () => `${device.name}: Using ${maskBits}-bit DMA addresses`, { device: device.name, domain: device.domain.name });
      }
    }
    at ??= this.iova.alloc(size, align, true, limit);
    if (at === undefined) return undefined;
    this.ranges.set(at, { pages: size, use: "mapped" });
    return { iovaPage: at, pages: size };
  }

  /** Returns an IOVA range on which no PTE was written (a mapping that failed half-way). */
  freeIova(range: IovaRange): void {
    this.iova.free(range.iovaPage, range.pages);
    this.ranges.delete(range.iovaPage);
  }

  /** Writes one PTE (iommu-map event, `costs.iommuPteWrite`). */
  map(iovaPage: number, mfn: number, prot: { read: boolean; write: boolean }, device?: Device): void {
    if (!prot.read && !prot.write) {
      throw new SimError(
        "INVALID_ARGUMENT",
        "an IOMMU mapping needs read or write permission (__domain_mapping returns -EINVAL otherwise)",
        "dir",
      );
    }
    const m = this.machine;
    this.pageTable.set(iovaPage, { mfn, read: prot.read, write: prot.write });
    const access = prot.read && prot.write ? "read/write" : prot.read ? "device may only read" : "device may only write";
    m.emit("iommu-map", () => `IOMMU ${this.label}: IOVA ${hex(iovaPage * m.pageSize)} → machine ${hex(mfn * m.pageSize)} (${access})`, {
      device: device?.name,
      domain: device?.domain.name,
      busAddress: iovaPage * m.pageSize,
      machineAddress: mfn * m.pageSize,
      bytes: m.pageSize,
      cost: m.costs.iommuPteWrite,
    });
  }

  /**
   * Clears the PTEs of an IOVA range and releases it the way __iommu_dma_unmap does: strict
   * flushes the IOTLB for the range and frees the IOVA at once; lazy queues the range (the
   * flush queue) and frees it only after the batched flush, so until then the IOVA cannot be
   * reused and a stale IOTLB entry still translates.
   */
  unmap(range: IovaRange, device?: Device): void {
    this.iommu.maybeTimedFlush();
    const m = this.machine;
    let cleared = 0;
    for (let p = range.iovaPage; p < range.iovaPage + range.pages; p++) if (this.pageTable.delete(p)) cleared++;
    const where = `${cleared} PTE${cleared === 1 ? "" : "s"} at IOVA ${hex(range.iovaPage * m.pageSize)}`;
    const fields = {
      device: device?.name,
      domain: device?.domain.name,
      busAddress: range.iovaPage * m.pageSize,
      bytes: range.pages * m.pageSize,
      cost: m.costs.iommuPteClear * cleared,
    };
    if (this.invalidation === "strict") {
      m.emit("iommu-unmap", () => `IOMMU ${this.label}: cleared ${where}`, fields);
      this.iommu.invalidateRange(this, range);
      this.freeIova(range);
      return;
    }
    // The PTEs are cleared first; then a full queue is flushed, and this unmap joins the queue.
    const highWater = LAZY_FLUSH_HIGH_WATER[m.era];
    const full = this.queue.length >= highWater;
    m.emit(
      "iommu-unmap",
      () => `IOMMU ${this.label}: cleared ${where}; IOTLB flush deferred (${full ? 1 : this.queue.length + 1} queued)`,
      fields,
    );
    if (full)
      this.flushQueue(m.era === "2006" ? `HIGH_WATER_MARK: ${highWater} unmaps queued` : `flush queue full: ${highWater} unmaps queued`);
    this.queue.push({ iovaPage: range.iovaPage, pages: range.pages, at: m.traceLog.now });
    this.ranges.set(range.iovaPage, { pages: range.pages, use: "flush-queued" });
  }

  /**
   * Removes every PTE that points at `mfn` and flushes their IOTLB entries at once: what Xen does
   * when the last grant mapping of a foreign frame goes (iommu_legacy_unmap in unmap_common), so a
   * driver that unmaps the grant before its DMA mapping cannot leave the device a way in. The IOVA
   * range stays allocated until the DMA-API unmaps it.
   */
  revokeFrame(mfn: number, reason: string): void {
    const m = this.machine;
    for (const [iovaPage, pte] of this.pageTable) {
      if (pte.mfn !== mfn) continue;
      this.pageTable.delete(iovaPage);
      m.emit(
        "iommu-unmap",
        () => `IOMMU ${this.label}: Xen clears IOVA ${hex(iovaPage * m.pageSize)} → machine ${hex(mfn * m.pageSize)} (${reason})`,
        { busAddress: iovaPage * m.pageSize, machineAddress: mfn * m.pageSize, bytes: m.pageSize, cost: m.costs.iommuPteClear },
      );
      this.iommu.invalidateRange(this, { iovaPage, pages: 1 });
    }
  }

  /** The lazy flush: one domain-wide IOTLB invalidation, then every queued IOVA range is freed. */
  flushQueue(reason: string): void {
    if (this.queue.length === 0) return;
    const entries = this.queue.splice(0);
    this.iommu.invalidateDomain(this, entries, reason);
    for (const e of entries) this.freeIova(e);
  }

  /**
   * Translates one bus page for a device access. Returns the MFN, or undefined after recording
   * the VT-d fault: the access is blocked and touches no memory. A hit in the IOTLB is used
   * without reading the page table, which is how a stale entry lets a device through.
   */
  translate(iovaPage: number, isWrite: boolean, busAddress: number, device: Device): number | undefined {
    const m = this.machine;
    this.iommu.maybeTimedFlush();
    const cached = this.iommu.iotlbLookup(this, iovaPage);
    const pte = cached ?? this.pageTable.get(iovaPage);
    if (pte === undefined || !(isWrite ? pte.write : pte.read)) {
      m.emit("iommu-fault", faultMessage(m, device, busAddress, isWrite), {
        device: device.name,
        domain: device.domain.name,
        busAddress,
        code: isWrite ? "0x05" : "0x06",
      });
      return undefined;
    }
    if (cached && !this.pageTable.has(iovaPage)) {
      m.emit(
        "iotlb-stale",
        () =>
          `${device.name} reached machine ${hex(pte.mfn * m.pageSize)} through a stale IOTLB entry for IOVA ${hex(iovaPage * m.pageSize)}: the mapping is gone but the lazy IOTLB flush has not run yet (${this.queue.length} unmap${this.queue.length === 1 ? "" : "s"} queued)`,
        {
          device: device.name,
          domain: device.domain.name,
          busAddress,
          machineAddress: pte.mfn * m.pageSize,
        },
      );
    }
    if (!cached) this.iommu.iotlbInsert(this, iovaPage, pte);
    return pte.mfn;
  }

  /** IOVA pages currently free in this domain. */
  freeIovaPages(): number {
    return this.iova.freeUnits();
  }
}

/**
 * The VT-d fault report (drivers/iommu/intel/dmar.c, dmar_fault_do_one; reasons 5 and 6 of
 * dma_remap_fault_reasons[]). A not-present PTE has neither permission, so an unmapped page gives
 * the same reasons. Era "modern" prints today's one-line form; era "2006" the first driver's
 * two-line form shown in Documentation/Intel-IOMMU.txt (VT-d support itself arrived in 2.6.24).
 * The device is named, not given as a PCI bus:slot.function.
 */
function faultMessage(m: Machine, device: Device, busAddress: number, isWrite: boolean): string {
  const type = isWrite ? "DMA Write" : "DMA Read";
  const reason = isWrite ? "PTE Write access is not set" : "PTE Read access is not set";
  const code = isWrite ? "05" : "06";
  if (m.era === "2006") {
    return `DMAR:[${type}] Request device [${device.name}] fault addr ${busAddress.toString(16)}\nDMAR:[fault reason ${code}] ${reason}`;
  }
  return `DMAR: [${type} NO_PASID] Request device [${device.name}] fault addr ${hex(busAddress)} [fault reason 0x${code}] ${reason}`;
}

interface IotlbEntry {
  domain: IommuDomain;
  iovaPage: number;
  pte: IommuPte;
}

/** The machine's IOMMU: its protection domains, and one IOTLB shared by them, tagged by domain. */
export class Iommu {
  /** Protection domains in creation order. */
  readonly domains: IommuDomain[] = [];
  private readonly iotlb = new Map<number, IotlbEntry>();
  /** Devices that gave up on 32-bit IOVAs (pci_32bit_workaround cleared). */
  private readonly dacDevices = new Set<string>();

  constructor(readonly machine: Machine) {}

  /** Puts a device behind the IOMMU, in its group's protection domain (created on first use). */
  attach(device: Device, options: IommuOptions): IommuDomain {
    const o = requireObject(options, "iommu");
    rejectUnknownKeys(o, ["invalidation", "group"], "iommu");
    if (o.invalidation !== undefined && o.invalidation !== "strict" && o.invalidation !== "lazy") {
      throw new SimError(
        "INVALID_CONFIG",
        `iommu.invalidation must be "strict" or "lazy", got ${describeValue(o.invalidation)}`,
        "iommu.invalidation",
      );
    }
    if (
      o.group !== undefined &&
      (typeof o.group !== "string" || o.group.length === 0 || o.group.length > 64 || o.group.startsWith("device:"))
    ) {
      throw new SimError(
        "INVALID_CONFIG",
        `iommu.group must be a name of 1-64 characters not starting with "device:" (reserved for a device's own domain), got ${describeValue(o.group)}`,
        "iommu.group",
      );
    }
    const group = (o.group as string | undefined) ?? `device:${device.name}`;
    let domain = this.domains.find((d) => d.group === group);
    if (domain) {
      if (o.invalidation !== undefined && o.invalidation !== domain.invalidation) {
        throw new SimError(
          "INVALID_CONFIG",
          `iommu group ${describeValue(group)} already uses ${domain.invalidation} invalidation; ${device.name} cannot join it with ${describeValue(o.invalidation)} (the devices share one protection domain)`,
          "iommu.invalidation",
        );
      }
      const other = domain.devices.find((d) => d.domain !== device.domain);
      if (other) {
        throw new SimError(
          "INVALID_CONFIG",
          `iommu group ${describeValue(group)} already holds ${other.name} of ${other.domain.name}: devices behind one PCIe-to-PCI bridge share one protection domain, so ${device.name} cannot belong to ${device.domain.name}`,
          "iommu.group",
        );
      }
    } else {
      domain = new IommuDomain(this, this.domains.length, group, (o.invalidation as Invalidation | undefined) ?? "strict");
      this.domains.push(domain);
    }
    domain.devices.push(device);
    return domain;
  }

  /** @internal */
  usesDac(device: Device): boolean {
    return this.dacDevices.has(device.name);
  }

  /** @internal */
  markDac(device: Device): void {
    this.dacDevices.add(device.name);
  }

  /** @internal */
  iotlbLookup(domain: IommuDomain, iovaPage: number): IommuPte | undefined {
    return this.iotlb.get(iotlbKey(domain.id, iovaPage))?.pte;
  }

  /** @internal Caches a translation, evicting the oldest entry when full. */
  iotlbInsert(domain: IommuDomain, iovaPage: number, pte: IommuPte): void {
    if (this.iotlb.size >= IOTLB_CAPACITY) this.iotlb.delete(this.iotlb.keys().next().value!);
    this.iotlb.set(iotlbKey(domain.id, iovaPage), { domain, iovaPage, pte });
  }

  /** @internal Strict unmap: page-selective invalidation of one range (one costed flush). */
  invalidateRange(domain: IommuDomain, range: IovaRange): void {
    if (this.iotlb.size > 0) for (let p = range.iovaPage; p < range.iovaPage + range.pages; p++) this.iotlb.delete(iotlbKey(domain.id, p));
    const m = this.machine;
    m.emit(
      "iotlb-flush",
      () =>
        `IOTLB flush for the ${domain.label} (strict unmap): IOVA ${hex(range.iovaPage * m.pageSize)}, ${formatSize(range.pages * m.pageSize)}`,
      { busAddress: range.iovaPage * m.pageSize, bytes: range.pages * m.pageSize, cost: m.costs.iotlbFlush, code: "strict" },
    );
  }

  /** @internal Lazy flush: domain-selective invalidation (flush_iotlb_all) covering the queued ranges. */
  invalidateDomain(domain: IommuDomain, queued: readonly IovaRange[], reason: string): void {
    for (const [key, entry] of [...this.iotlb]) if (entry.domain === domain) this.iotlb.delete(key);
    const m = this.machine;
    const pages = queued.reduce((sum, r) => sum + r.pages, 0);
    m.emit(
      "iotlb-flush",
      () =>
        `IOTLB flush for the ${domain.label} (${reason}): ${queued.length} queued unmap${queued.length === 1 ? "" : "s"}, ${formatSize(pages * m.pageSize)} of IOVA freed`,
      { bytes: pages * m.pageSize, cost: m.costs.iotlbFlush, code: "lazy" },
    );
  }

  /**
   * @internal The lazy queues' 10 ms timer. Simulated time advances with every event's cost and
   * with `machine.advanceTime`; the timer is checked at the next IOMMU operation or time step.
   */
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

  /** @internal IOTLB contents, for snapshots. */
  iotlbEntries(): { domain: number; iovaPage: number; mfn: number }[] {
    return [...this.iotlb.values()].map((e) => ({ domain: e.domain.id, iovaPage: e.iovaPage, mfn: e.pte.mfn }));
  }
}
