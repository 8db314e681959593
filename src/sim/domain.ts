import { SimError, describeValue, rejectUnknownKeys, requireObject } from "./errors.js";
import { ownerOf } from "./frames.js";
import { findFreeRun, lowestFreeFrames, shuffle } from "./frame-alloc.js";
import { RangeAllocator } from "./range-alloc.js";
import { type Size, formatSize, hex, parseSize } from "./units.js";
import type { Machine } from "./machine.js";
import { FOREIGN_PAGE_STRATEGIES } from "./foreign.js";
import type { ForeignPageStrategy } from "./foreign.js";
import { StateSlots } from "./state.js";
import { VersionedMap } from "./versioned-map.js";

/**
 * How a domain reaches machine addresses, as the thread defines the terms:
 * - "P==M": pseudo-physical == machine (pfn == mfn), like the 2006 Xen/ia64 dom0 without
 *   CONFIG_XEN_IA64_DOM0_VP. Only one domain can hold a given identity range.
 * - "P2M": the domain can read its own pfn → mfn table (a cheap memory read), like an x86 PV guest.
 * - "VP": machine addresses are hidden ("VP means that the machine addresses are hidden to the
 *   domain", Dan Magenheimer); translating one needs a hypercall, or Xen programs an IOMMU. Xen/ia64
 *   implemented it in 2006 as the "dom0 vp model" (CONFIG_XEN_IA64_DOM0_VP).
 */
export type DomainMode = "P==M" | "P2M" | "VP";

/**
 * Where a domain's pseudo-physical frames land in machine memory: one contiguous run, the lowest
 * free frames in a seeded-shuffled order, a descending run (as Xen 4.0 debug builds allocate), or an explicit list
 * of machine frame numbers (PFN i → MFN layout[i]).
 */
export type Layout = "contiguous" | "fragmented" | "reverse" | number[];

/** The argument of `machine.createDomain`. */
export interface DomainConfig {
  /** Unique name, e.g. "dom0" or "domU1". */
  name: string;
  /** "P==M", "P2M" or "VP" (required). See {@link DomainMode}. */
  mode: DomainMode;
  /** Pseudo-physical memory; optional with an explicit layout. */
  memory?: Size;
  /** A driver domain (dom0): may own devices. Default: true for the first domain. */
  privileged?: boolean;
  /** Default: "contiguous" for P==M, "fragmented" for P2M and VP. */
  layout?: Layout;
  /**
   * How this domain, as a backend, gets struct pages for frames other domains grant it:
   * "map" (default: grant-map the frame into its pseudo-physical space, then use the normal
   * DMA-API) or "tag" (the summit's suggestion Gerd Hoffmann relayed: a struct page flagged foreign with the grant
   * handle in page->private, never mapped; the DMA-API recognises the flag, kmap() fails).
   */
  foreignPages?: ForeignPageStrategy;
}

/** The simulated `struct page`: plain data, structured-cloneable. */
export interface StructPage {
  /** The domain whose pseudo-physical space holds the page. */
  domain: string;
  /** Its page frame number in that domain's pseudo-physical space (page_to_pfn). */
  pfn: number;
  /** Page flags set on it, e.g. "foreign", "swiotlb". */
  flags: string[];
  /** page->private (a grant handle for a tagged foreign page), or null. */
  private: number | null;
}

/** Per-page state beyond the p2m: flags and page->private. */
export interface PageState {
  flags: Set<string>;
  private: number | null;
}

const DOMAIN_KEYS = ["name", "mode", "memory", "privileged", "layout", "foreignPages"] as const;
const MODES: readonly DomainMode[] = ["P==M", "P2M", "VP"];
const INVALID_MFN = 0xffffffff;

/**
 * A domain: a pseudo-physical address space (PFNs) backed by machine frames (MFNs) through its
 * p2m, CPU access through that view, a page allocator and its struct pages.
 */
export class Domain {
  /** Its unique name, e.g. "dom0" or "domU1" (as trace events and snapshots name it). */
  readonly name: string;
  /** "P==M", "P2M" or "VP": how it reaches machine addresses. */
  readonly mode: DomainMode;
  /** A driver domain (dom0 or a driver domain): only privileged domains may own devices. */
  readonly privileged: boolean;
  /** The foreign-page strategy this domain uses as a backend: "map" or "tag". */
  readonly foreignPages: ForeignPageStrategy;
  /** First PFN of RAM: 0, except for P==M where PFN == MFN. */
  readonly pfnBase: number;
  /** Pages of RAM. */
  readonly nrPages: number;
  /** @internal RAM part of the p2m: index pfn - pfnBase. */
  readonly p2m: Uint32Array;
  /** @internal PFNs outside RAM (swiotlb pool, grant-mapped foreign frames) → MFN. */
  readonly extraP2m = new VersionedMap<number, number>();
  /** @internal struct page state, only for pages that have any. */
  readonly pageState = new Map<number, PageState>();
  /** @internal State other modules keep for this domain: grant table, foreign pages, block bounces. */
  readonly state: StateSlots<Domain> = new StateSlots<Domain>(this);
  /** @internal Bumped when a RAM p2m entry changes: lets snapshot history reuse its p2m runs. */
  p2mVersion = 0;
  private nextExtraPfn: number;
  private readonly heap: RangeAllocator;
  private readonly allocations = new Map<number, number>();

  /**
   * Use `machine.createDomain(config)` instead.
   * @param machine The machine the domain runs on.
   * @param domid Xen's domain id: the creation index on the machine (dom0 is 0).
   * @param config The domain's configuration.
   */
  constructor(
    readonly machine: Machine,
    readonly domid: number,
    config: DomainConfig,
  ) {
    const c = requireObject(config, "createDomain(config)");
    rejectUnknownKeys(c, DOMAIN_KEYS, "createDomain");
    if (typeof c.name !== "string" || !/^[A-Za-z][\w.-]{0,31}$/.test(c.name)) {
      throw new SimError(
        "INVALID_CONFIG",
        `domain name must be 1-32 letters, digits, "_", "-" or "." starting with a letter, got ${describeValue(c.name)}`,
        "name",
      );
    }
    if (machine.domains.some((d) => d.name === c.name)) {
      throw new SimError("INVALID_CONFIG", `a domain named ${describeValue(c.name)} already exists`, "name");
    }
    this.name = c.name;
    if (!MODES.includes(c.mode as DomainMode)) {
      throw new SimError("INVALID_CONFIG", `domain ${this.name}: mode must be "P==M", "P2M" or "VP", got ${describeValue(c.mode)}`, "mode");
    }
    this.mode = c.mode as DomainMode;
    if (c.privileged !== undefined && typeof c.privileged !== "boolean") {
      throw new SimError(
        "INVALID_CONFIG",
        `domain ${this.name}: privileged must be true or false, got ${describeValue(c.privileged)}`,
        "privileged",
      );
    }
    this.privileged = (c.privileged as boolean | undefined) ?? domid === 0;
    if (c.foreignPages !== undefined && !FOREIGN_PAGE_STRATEGIES.includes(c.foreignPages as ForeignPageStrategy)) {
      throw new SimError(
        "INVALID_CONFIG",
        `domain ${this.name}: foreignPages must be "map" or "tag", got ${describeValue(c.foreignPages)}`,
        "foreignPages",
      );
    }
    this.foreignPages = (c.foreignPages as ForeignPageStrategy | undefined) ?? "map";
    const frames = this.placeFrames(c.layout, c.memory);
    this.nrPages = frames.length;
    this.pfnBase = this.mode === "P==M" ? frames[0]! : 0;
    this.p2m = Uint32Array.from(frames);
    const owner = ownerOf(domid);
    frames.forEach((mfn, i) => machine.store.assign(mfn, owner, this.pfnBase + i));
    this.nextExtraPfn = this.pfnBase + this.nrPages;
    this.heap = new RangeAllocator(this.pfnBase * machine.pageSize, (this.pfnBase + this.nrPages) * machine.pageSize);
    machine.emit(
      "setup",
      `${this.name}: ${this.mode} domain with ${formatSize(this.nrPages * machine.pageSize)} (${this.nrPages} pages of ${formatSize(machine.pageSize)})`,
      { domain: this.name },
    );
  }

  /** Picks and validates machine frames for the layout; nothing is assigned until all checks pass. */
  private placeFrames(layoutValue: unknown, memoryValue: unknown): number[] {
    const m = this.machine;
    const where = `domain ${this.name}`;
    const layout = layoutValue ?? (this.mode === "P==M" ? "contiguous" : "fragmented");
    if (Array.isArray(layout)) return this.explicitFrames(layout, memoryValue);
    if (layout !== "contiguous" && layout !== "fragmented" && layout !== "reverse") {
      throw new SimError(
        "INVALID_LAYOUT",
        `${where}: layout must be "contiguous", "fragmented", "reverse" or an array of machine frame numbers, got ${describeValue(layout)}`,
        "layout",
      );
    }
    if (this.mode === "P==M" && layout !== "contiguous") {
      throw new SimError(
        "INVALID_LAYOUT",
        `${where}: a P==M domain needs PFN == MFN, so its layout must be "contiguous" (or an explicit run of consecutive frames), got ${describeValue(layout)}`,
        "layout",
      );
    }
    if (memoryValue === undefined)
      throw new SimError("INVALID_CONFIG", `${where}: memory is required unless layout lists the frames`, "memory");
    const count = this.pagesFor(memoryValue);
    const free = m.freeFrames();
    if (count > free) {
      throw new SimError(
        "OUT_OF_MEMORY",
        `${where} wants ${formatSize(count * m.pageSize)} but only ${formatSize(free * m.pageSize)} of machine memory is free`,
        "memory",
      );
    }
    if (layout === "fragmented") {
      // A seeded shuffle of the lowest free frames: the p2m is a permutation (adjacent PFNs almost
      // never have adjacent MFNs) while free machine memory stays unfragmented, so later
      // machine-contiguous allocations (swiotlb pools, XENMEM_exchange) still find room.
      return shuffle(lowestFreeFrames(m.store, count, m.domainFrameLimit)!, m.random);
    }
    const start = findFreeRun(m.store, count, m.domainFrameLimit, layout === "reverse");
    if (start === undefined) {
      throw new SimError(
        "OUT_OF_MEMORY",
        `${where}: no run of ${formatSize(count * m.pageSize)} of contiguous free machine memory is left for a ${layout} layout`,
        "layout",
      );
    }
    return Array.from({ length: count }, (_, i) => (layout === "reverse" ? start + count - 1 - i : start + i));
  }

  private pagesFor(memoryValue: unknown): number {
    const bytes = parseSize(memoryValue, "memory");
    const pageSize = this.machine.pageSize;
    if (bytes === 0 || bytes % pageSize !== 0) {
      throw new SimError(
        "INVALID_SIZE",
        `domain ${this.name}: memory must be a whole number of ${formatSize(pageSize)} pages (at least one), got ${describeValue(memoryValue)}`,
        "memory",
      );
    }
    return bytes / pageSize;
  }

  private explicitFrames(layout: unknown[], memoryValue: unknown): number[] {
    const m = this.machine;
    const where = `domain ${this.name}`;
    if (layout.length === 0) throw new SimError("INVALID_LAYOUT", `${where}: layout must list at least one machine frame`, "layout");
    if (layout.length > m.frameCount)
      throw new SimError("INVALID_LAYOUT", `${where}: layout lists ${layout.length} frames but the machine has ${m.frameCount}`, "layout");
    if (memoryValue !== undefined && this.pagesFor(memoryValue) !== layout.length) {
      throw new SimError(
        "INVALID_LAYOUT",
        `${where}: memory is ${describeValue(memoryValue)} (${this.pagesFor(memoryValue)} pages) but layout lists ${layout.length} frames`,
        "layout",
      );
    }
    const seen = new Set<number>();
    layout.forEach((mfn, i) => {
      if (typeof mfn !== "number" || !Number.isSafeInteger(mfn) || mfn < 0 || mfn >= m.frameCount) {
        throw new SimError(
          "INVALID_LAYOUT",
          `${where}: layout[${i}] must be a machine frame number from 0 to ${m.frameCount - 1}, got ${describeValue(mfn)}`,
          `layout[${i}]`,
        );
      }
      if (seen.has(mfn))
        throw new SimError(
          "INVALID_LAYOUT",
          `${where}: layout[${i}] repeats machine frame ${mfn} (${hex(mfn)}); each frame can back only one page`,
          `layout[${i}]`,
        );
      seen.add(mfn);
      if (!m.store.isFree(mfn)) {
        throw new SimError(
          "INVALID_LAYOUT",
          `${where}: layout[${i}] is machine frame ${mfn} (${hex(mfn)}), which already belongs to ${m.ownerName(mfn)}`,
          `layout[${i}]`,
        );
      }
      if (this.mode === "P==M" && i > 0 && mfn !== (layout[0] as number) + i) {
        throw new SimError(
          "INVALID_LAYOUT",
          `${where}: a P==M layout must be consecutive frames (PFN == MFN), but layout[${i}] is ${mfn}, not ${(layout[0] as number) + i}`,
          `layout[${i}]`,
        );
      }
    });
    return layout as number[];
  }

  /** Bytes of RAM. */
  get memory(): number {
    return this.nrPages * this.machine.pageSize;
  }

  /** @internal MFN backing `pfn`, or undefined if the PFN is not populated. Costs nothing: callers charge. */
  pfnToMfn(pfn: number): number | undefined {
    const index = pfn - this.pfnBase;
    if (index >= 0 && index < this.nrPages) {
      const mfn = this.p2m[index]!;
      return mfn === INVALID_MFN ? undefined : mfn;
    }
    return this.extraP2m.get(pfn);
  }

  /** @internal True if `pfn` is RAM of this domain (not the swiotlb pool or a foreign frame). */
  isRam(pfn: number): boolean {
    return pfn >= this.pfnBase && pfn < this.pfnBase + this.nrPages;
  }

  /** @internal Machine address of a guest-physical address, or undefined if unpopulated. */
  toMachine(gpa: number): number | undefined {
    const pfn = Math.floor(gpa / this.machine.pageSize);
    const mfn = this.pfnToMfn(pfn);
    return mfn === undefined ? undefined : mfn * this.machine.pageSize + (gpa - pfn * this.machine.pageSize);
  }

  /**
   * @internal Adds machine frames at fresh PFNs above RAM (swiotlb pool, grant-mapped frames) and
   * returns the first PFN. P==M keeps PFN == MFN, so there the frames' own numbers are used.
   */
  addExtraFrames(mfns: readonly number[]): number {
    const first = this.mode === "P==M" ? mfns[0]! : this.nextExtraPfn;
    mfns.forEach((mfn, i) => this.extraP2m.set(this.mode === "P==M" ? mfn : first + i, mfn));
    if (this.mode !== "P==M") this.nextExtraPfn += mfns.length;
    return first;
  }

  /** @internal Reserves `count` unpopulated PFNs (ballooned-out pages to map foreign frames into). */
  reserveExtraPfns(count: number): number {
    const first = this.nextExtraPfn;
    this.nextExtraPfn += count;
    return first;
  }

  /** @internal Replaces the MFN behind a RAM PFN (XENMEM_exchange). */
  setRamMfn(pfn: number, mfn: number): void {
    this.p2m[pfn - this.pfnBase] = mfn;
    this.p2mVersion++;
  }

  /**
   * Allocates `size` bytes of this domain's memory, pseudo-physically contiguous, like the page
   * allocator or kmalloc: page-aligned when at least a page, else cache-line aligned.
   * Returns the guest-physical address.
   */
  alloc(size: Size, options: { align?: Size } = {}): number {
    this.machine.assertRunning();
    const bytes = parseSize(size, "size");
    if (bytes === 0) throw new SimError("INVALID_SIZE", `alloc size must be at least 1 byte, got ${describeValue(size)}`, "size");
    const o = requireObject(options, "alloc options");
    rejectUnknownKeys(o, ["align"], "alloc");
    const align =
      o.align === undefined
        ? bytes >= this.machine.pageSize
          ? this.machine.pageSize
          : this.machine.cacheLine
        : parseSize(o.align, "align");
    if (align === 0 || !Number.isInteger(Math.log2(align)) || align > 1024 * 1024 * 1024) {
      throw new SimError("INVALID_ARGUMENT", `align must be a power of two up to 1 GiB, got ${describeValue(o.align)}`, "align");
    }
    const at = this.heap.alloc(bytes, align);
    if (at === undefined) {
      const free = this.heap.freeUnits();
      const why =
        bytes > this.memory
          ? `the request exceeds the domain's ${formatSize(this.memory)}`
          : bytes > free
            ? `only ${formatSize(free)} of its ${formatSize(this.memory)} is free`
            : `${formatSize(free)} of its ${formatSize(this.memory)} is free, not enough in one piece`;
      throw new SimError("OUT_OF_MEMORY", `${this.name}: cannot allocate ${formatSize(bytes)}: ${why}`, "size");
    }
    this.allocations.set(at, bytes);
    this.machine.emit("alloc", `${this.name}: allocated ${formatSize(bytes)} at guest-physical ${hex(at)}`, {
      domain: this.name,
      address: at,
      bytes,
    });
    return at;
  }

  /** Frees memory returned by `alloc`. */
  free(address: number): void {
    this.machine.assertRunning();
    const bytes = this.allocations.get(address);
    if (bytes === undefined) {
      throw new SimError(
        "INVALID_ADDRESS",
        `${this.name}.free(${describeValue(address)}): not an address returned by alloc, or already freed`,
        "address",
      );
    }
    this.allocations.delete(address);
    this.heap.free(address, bytes);
  }

  /** CPU write through this domain's own view (p2m), as a kernel memcpy would. Strings are UTF-8. */
  write(address: number, data: Uint8Array | ArrayLike<number> | string): void {
    this.machine.assertRunning();
    const bytes = toBytes(data);
    this.machine.checkTransfer(bytes.length, "data.length");
    this.forEachPage(address, bytes.length, "write", (maddr, done, chunk) => {
      this.machine.writeMachine(maddr, bytes.subarray(done, done + chunk));
    });
  }

  /** CPU read through this domain's own view. */
  read(address: number, length: number): Uint8Array {
    this.machine.assertRunning();
    this.machine.checkTransfer(length, "length");
    const out = new Uint8Array(length);
    this.forEachPage(address, length, "read", (maddr, done, chunk) => {
      this.machine.readMachine(maddr, chunk, out, done);
    });
    return out;
  }

  /** CPU access page by page; refuses unpopulated PFNs and pages that are not mapped (tagged foreign). */
  private forEachPage(address: number, length: number, what: string, visit: (maddr: number, done: number, chunk: number) => void): void {
    checkAddress(address, "address");
    const pageSize = this.machine.pageSize;
    let done = 0;
    while (done < length) {
      const gpa = address + done;
      const pfn = Math.floor(gpa / pageSize);
      const offset = gpa - pfn * pageSize;
      const chunk = Math.min(length - done, pageSize - offset);
      const state = this.pageState.get(pfn);
      if (state?.flags.has("foreign-tagged")) {
        throw new SimError(
          "KMAP_FAILED",
          `${this.name}: CPU ${what} of pfn ${hex(pfn)} failed: it is a tagged foreign page (grant handle ${state.private}) with no mapping in ${this.name}'s address space, so kmap() has nothing to map`,
          "address",
        );
      }
      if (what === "write" && state?.flags.has("grant-readonly")) {
        // Xen installed the host mapping read-only (GNTMAP_readonly): the store faults.
        throw new SimError(
          "PAGE_FAULT",
          `${this.name}: CPU write to pfn ${hex(pfn)} faults: it maps a foreign frame granted read-only (GTF_readonly, mapped with GNTMAP_readonly), so its page-table entry is read-only`,
          "address",
        );
      }
      const mfn = this.pfnToMfn(pfn);
      if (mfn === undefined) {
        throw new SimError(
          "INVALID_ADDRESS",
          `${this.name}: CPU ${what} at guest-physical ${hex(gpa)}: pfn ${hex(pfn)} is not populated (RAM is ${hex(this.pfnBase * pageSize)}-${hex((this.pfnBase + this.nrPages) * pageSize - 1)})`,
          "address",
        );
      }
      visit(mfn * pageSize + offset, done, chunk);
      done += chunk;
    }
  }

  /** The simulated struct page of `pfn`. */
  page(pfn: number): StructPage {
    if (
      typeof pfn !== "number" ||
      !Number.isSafeInteger(pfn) ||
      (!this.isRam(pfn) && !this.extraP2m.has(pfn) && !this.pageState.has(pfn))
    ) {
      throw new SimError(
        "INVALID_ARGUMENT",
        `${this.name}.page(pfn): pfn must be a page of ${this.name} (RAM is pfn ${hex(this.pfnBase)}-${hex(this.pfnBase + this.nrPages - 1)}), got ${describeValue(pfn)}`,
        "pfn",
      );
    }
    const state = this.pageState.get(pfn);
    return { domain: this.name, pfn, flags: state ? [...state.flags] : [], private: state?.private ?? null };
  }

  /** The PFN holding a guest-physical address. */
  pfnOf(address: number): number {
    checkAddress(address, "address");
    return Math.floor(address / this.machine.pageSize);
  }

  /** @internal struct page state, created on demand. */
  pageStateFor(pfn: number): PageState {
    let state = this.pageState.get(pfn);
    if (!state) {
      state = { flags: new Set(), private: null };
      this.pageState.set(pfn, state);
    }
    return state;
  }
  // Grant operations (grantAccess, endAccess, mapGrant, unmapGrant) are added by grant.ts,
  // kmap by kmap.ts and dmaApi by dma/api.ts: each module extends Domain with its own methods,
  // so the domain does not depend on the layers built on it.
}

function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === "string") return new TextEncoder().encode(data);
  if (Array.isArray(data) || ArrayBuffer.isView(data)) {
    const list = Array.from(data as ArrayLike<unknown>);
    list.forEach((v, i) => {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 255) {
        throw new SimError("INVALID_ARGUMENT", `data[${i}] must be a byte (0-255), got ${describeValue(v)}`, `data[${i}]`);
      }
    });
    return Uint8Array.from(list as number[]);
  }
  throw new SimError("INVALID_ARGUMENT", `data must be a Uint8Array, an array of bytes or a string, got ${describeValue(data)}`, "data");
}

/** @internal Validates an address argument. */
export function checkAddress(address: unknown, field: string): asserts address is number {
  if (typeof address !== "number" || !Number.isSafeInteger(address) || address < 0) {
    throw new SimError("INVALID_ADDRESS", `${field} must be a whole number >= 0 (an address), got ${describeValue(address)}`, field);
  }
}
