import { SimError, describeValue, rejectUnknownKeys, requireObject } from "./errors.js";
import { formatSize, hex } from "./units.js";
import { Domain } from "./domain.js";
import type { StructPage } from "./domain.js";
import { StateKey } from "./state.js";
import type { Device } from "./device.js";
import type { Direction } from "./dma/types.js";

/**
 * kmap() and the two kernel paths that need it for I/O — the places the 2006 thread predicted a
 * tagged foreign page would break (Gerd Hoffmann: "If the block layer needs bounce buffers it
 * will attempt to kmap() the page to copy the data. The same is true for drivers which don't DMA
 * (floppy.c for example)").
 *
 * On ia64 and x86_64 all memory is lowmem, so kmap() is page_address(): the page's place in the
 * kernel's direct mapping. The simulator returns its guest-physical address (what the domain's
 * CPU reads and writes through). A tagged foreign page has no mapping at all, so kmap() of it has
 * nothing to return: it fails with KMAP_FAILED. (In Linux it would silently return an address
 * whose PTE maps nothing, and the copy would fault; the simulator stops at the kmap().)
 */

/** One piece of a request: `length` bytes at `offset` in a struct page (a bio_vec). */
export interface PageSegment {
  /** The struct page holding the data (bv_page), from `domain.page(pfn)` or `mapGrant`. */
  page: StructPage;
  /** Byte offset in the page. Default 0. */
  offset?: number;
  /** Bytes (bv_len); offset + length must stay within the page. */
  length: number;
}

/** A block-layer bounce in flight: the bounce page stands in for the original in the request. */
export interface BlockBounce {
  /** The bounce page (ordinary memory of the domain): map this one for DMA. */
  page: StructPage;
  /** Same offset as the original segment (bounce keeps bv_offset). */
  offset: number;
  /** Bytes bounced (the original segment's length). */
  length: number;
  /** Guest-physical address of the data in the bounce page. */
  address: number;
  /** TO_DEVICE = a WRITE request (copied at bounce time); FROM_DEVICE = a READ (copied back at completion). */
  dir: Direction;
  /** The segment the bounce stands for. */
  original: { page: StructPage; offset: number };
}

interface LiveBounces {
  byPfn: Map<number, BlockBounce>;
}

const LIVE_BOUNCES = new StateKey<LiveBounces, Domain>("block bounces", () => ({ byPfn: new Map() }));

function bouncesOf(domain: Domain): LiveBounces {
  return domain.state.get(LIVE_BOUNCES);
}

function checkPage(domain: Domain, page: unknown, field: string): StructPage {
  const p = page as StructPage;
  if (typeof page !== "object" || page === null || typeof p.pfn !== "number" || typeof p.domain !== "string") {
    throw new SimError(
      "INVALID_ARGUMENT",
      `${field} must be a struct page from domain.page(pfn) or mapGrant(), got ${describeValue(page)}`,
      field,
    );
  }
  if (p.domain !== domain.name) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `${field} is a page of ${p.domain}; ${domain.name} can only kmap its own struct pages (grant-map a foreign frame first)`,
      field,
    );
  }
  if (!domain.isRam(p.pfn) && !domain.extraP2m.has(p.pfn) && !domain.pageState.has(p.pfn)) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `${field}: ${domain.name} has no struct page at pfn ${hex(p.pfn)} (RAM is pfn ${hex(domain.pfnBase)}-${hex(domain.pfnBase + domain.nrPages - 1)}; a foreign page is gone once its grant is unmapped)`,
      field,
    );
  }
  return p;
}

/**
 * kmap(page): the CPU-addressable (guest-physical) address of the page's data in `domain`.
 * Fails with KMAP_FAILED for a tagged foreign page — it has no mapping in the domain's address
 * space — and for a PFN with no frame behind it (a ballooned-out page).
 */
export function kmap(domain: Domain, page: StructPage, what = "kmap"): number {
  const m = domain.machine;
  m.assertRunning();
  const p = checkPage(domain, page, "page");
  const state = domain.pageState.get(p.pfn);
  const fail = (why: string): never => {
    m.emit("kmap", () => `${what}(pfn ${hex(p.pfn)}) failed: ${why}`, {
      domain: domain.name,
      address: p.pfn * m.pageSize,
      severity: "error",
      code: "KMAP_FAILED",
    });
    throw new SimError("KMAP_FAILED", `${domain.name}: ${what}(pfn ${hex(p.pfn)}) failed: ${why}`, "page");
  };
  if (state?.flags.has("foreign-tagged")) {
    fail(
      `it is a tagged foreign page (PageForeign, page->private = grant handle ${state.private}); the foreign frame was never mapped into ${domain.name}'s address space, so there is no mapping for kmap() to return`,
    );
  }
  if (domain.pfnToMfn(p.pfn) === undefined) fail("no frame backs this pfn (a ballooned-out page): there is nothing to map");
  const address = p.pfn * m.pageSize;
  m.emit("kmap", () => `${what}(pfn ${hex(p.pfn)}) = ${hex(address)} (lowmem: page_address())`, {
    domain: domain.name,
    address,
    cost: m.costs.directMap,
  });
  return address;
}

function checkSegment(domain: Domain, segment: unknown, field: string): { page: StructPage; offset: number; length: number } {
  const s = requireObject(segment, field);
  rejectUnknownKeys(s, ["page", "offset", "length"], field);
  const page = checkPage(domain, s.page, `${field}.page`);
  const offset = s.offset ?? 0;
  const pageSize = domain.machine.pageSize;
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0 || offset >= pageSize) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `${field}.offset must be a whole number from 0 to ${pageSize - 1}, got ${describeValue(s.offset)}`,
      `${field}.offset`,
    );
  }
  const length = s.length;
  if (typeof length !== "number" || !Number.isSafeInteger(length) || length <= 0 || offset + length > pageSize) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `${field}.length must be 1 to ${pageSize - offset} bytes (a segment stays inside its ${formatSize(pageSize)} page), got ${describeValue(length)}`,
      `${field}.length`,
    );
  }
  return { page, offset, length };
}

function checkBioDirection(dir: unknown, fn: string): Direction {
  if (dir === "TO_DEVICE" || dir === "FROM_DEVICE") return dir;
  throw new SimError(
    "INVALID_DIRECTION",
    `${fn}: dir must be "TO_DEVICE" (a WRITE request) or "FROM_DEVICE" (a READ request), got ${describeValue(dir)}`,
    "dir",
  );
}

/**
 * The block layer's own bounce (blk_queue_bounce, mm/highmem.c in 2006, mm/bounce.c later), used
 * when the queue's bounce limit says the device cannot reach the page — i.e. when
 * PCI_DMA_BUS_IS_PHYS is set and the page lies above the device's mask. It takes a page of
 * ordinary memory for the segment and, for a WRITE (TO_DEVICE), copies the data into it at once:
 * `vfrom = kmap(from->bv_page) + from->bv_offset; memcpy(vto, vfrom, to->bv_len)`. A READ copies
 * back at completion ({@link finishBlockBounce}). Deciding WHETHER to bounce is the caller's
 * (the request queue's) job. The bounce page comes from the domain's page allocator.
 */
export function bounceForBlockLayer(domain: Domain, segment: PageSegment, dir: Direction): BlockBounce {
  const m = domain.machine;
  m.assertRunning();
  const seg = checkSegment(domain, segment, "segment");
  const direction = checkBioDirection(dir, "bounceForBlockLayer");
  const bounceBase = domain.alloc(m.pageSize);
  const bounce: BlockBounce = {
    page: domain.page(bounceBase / m.pageSize),
    offset: seg.offset,
    length: seg.length,
    address: bounceBase + seg.offset,
    dir: direction,
    original: { page: { ...seg.page, flags: [...seg.page.flags] }, offset: seg.offset },
  };
  if (direction === "TO_DEVICE") {
    let source: number;
    try {
      source = kmap(domain, seg.page, "blk_queue_bounce: kmap");
    } catch (error) {
      domain.free(bounceBase);
      throw error;
    }
    copyWithCpu(
      domain,
      source + seg.offset,
      bounce.address,
      seg.length,
      `blk_queue_bounce: copied the WRITE data of pfn ${hex(seg.page.pfn)} into bounce page pfn ${hex(bounce.page.pfn)}`,
    );
  }
  bouncesOf(domain).byPfn.set(bounce.page.pfn, bounce);
  return bounce;
}

/**
 * Completes a block-layer bounce: for a READ (FROM_DEVICE) the data the device put in the bounce
 * page is copied back to the original page — bounce_end_io_read → copy_to_high_bio_irq, which
 * kmaps the original page — then the bounce page is freed (also when that kmap fails).
 */
export function finishBlockBounce(domain: Domain, bounce: BlockBounce): void {
  const m = domain.machine;
  m.assertRunning();
  const pfn =
    typeof bounce === "object" && bounce !== null && typeof bounce.page === "object" && bounce.page !== null ? bounce.page.pfn : undefined;
  const live = pfn === undefined ? undefined : bouncesOf(domain).byPfn.get(pfn);
  if (!live) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `finishBlockBounce: bounce must be a bounce returned by bounceForBlockLayer on ${domain.name} and not finished yet, got ${describeValue(bounce)}`,
      "bounce",
    );
  }
  bouncesOf(domain).byPfn.delete(pfn!);
  const bounceBase = live.page.pfn * m.pageSize;
  try {
    if (live.dir === "FROM_DEVICE") {
      const target = kmap(domain, live.original.page, "bounce_end_io_read: kmap");
      copyWithCpu(
        domain,
        live.address,
        target + live.offset,
        live.length,
        `bounce_end_io_read: copied the READ data from bounce page pfn ${hex(live.page.pfn)} back to pfn ${hex(live.original.page.pfn)}`,
      );
    }
  } finally {
    domain.free(bounceBase);
  }
}

function toByteArray(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === "string") return new TextEncoder().encode(data);
  // Bounded: a segment is at most one page (64 KiB), so longer input is refused before copying.
  const length = typeof data === "object" && data !== null ? (data as { length?: unknown }).length : undefined;
  const list =
    typeof length === "number" && Number.isSafeInteger(length) && length >= 0 && length <= 65536
      ? Array.from(data as ArrayLike<unknown>)
      : undefined;
  const bad = list?.findIndex((v) => typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 255);
  if (!list || bad !== -1) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `pioTransfer: options.data must be a Uint8Array, an array of bytes (0-255) or a string, got ${describeValue(list ? list[bad!] : data)}${list ? ` at data[${bad}]` : ""}`,
      "data",
    );
  }
  return Uint8Array.from(list as number[]);
}

function copyWithCpu(domain: Domain, from: number, to: number, length: number, message: string): void {
  const m = domain.machine;
  domain.write(to, domain.read(from, length));
  m.emit("bounce-copy", () => `${message} (${formatSize(length)})`, {
    domain: domain.name,
    address: to,
    bytes: length,
    code: "blk_queue_bounce",
    cost: m.costs.bounceBase + m.costs.memcpyPerByte * length,
  });
}

/** Options of {@link pioTransfer}. */
export interface PioOptions {
  /** FROM_DEVICE: the bytes the device delivers through its data port (exactly `length` of them). */
  data?: Uint8Array | ArrayLike<number> | string;
  /** The PIO device, for the trace. */
  device?: Device;
}

/**
 * A driver that does not DMA, like floppy.c: the CPU moves the data between the request's page
 * and the controller's data port, so the page must be mapped (kmap / page_address). TO_DEVICE
 * reads `length` bytes from the page and returns what the controller received; FROM_DEVICE writes
 * `options.data` into the page and returns it. Fails with KMAP_FAILED for a tagged foreign page.
 */
export function pioTransfer(domain: Domain, segment: PageSegment, dir: Direction, options: PioOptions = {}): Uint8Array {
  const m = domain.machine;
  m.assertRunning();
  const seg = checkSegment(domain, segment, "segment");
  const direction = checkBioDirection(dir, "pioTransfer");
  const o = requireObject(options, "pioTransfer options");
  rejectUnknownKeys(o, ["data", "device"], "pioTransfer");
  const device = o.device as Device | undefined;
  if (device !== undefined && !m.devices.includes(device)) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `pioTransfer: device must be a device attached on this machine, got ${describeValue(typeof device === "object" ? "another object" : device)}`,
      "device",
    );
  }
  let incoming: Uint8Array | undefined;
  if (direction === "FROM_DEVICE") {
    if (o.data === undefined)
      throw new SimError(
        "INVALID_ARGUMENT",
        `pioTransfer FROM_DEVICE needs options.data: the ${seg.length} bytes the device delivers`,
        "data",
      );
    incoming = toByteArray(o.data);
    if (incoming.length !== seg.length) {
      throw new SimError(
        "INVALID_ARGUMENT",
        `pioTransfer: options.data has ${incoming.length} bytes but the segment is ${seg.length}`,
        "data",
      );
    }
  }
  const base = kmap(domain, seg.page, "PIO: kmap");
  const port = device ? `${device.name}'s data port` : "the controller's data port";
  const fields = {
    domain: domain.name,
    device: device?.name,
    address: base + seg.offset,
    bytes: seg.length,
    cost: m.costs.memcpyPerByte * seg.length,
  };
  if (incoming) {
    domain.write(base + seg.offset, incoming);
    m.emit(
      "cpu-copy",
      () => `PIO: the CPU copied ${formatSize(seg.length)} from ${port} into pfn ${hex(seg.page.pfn)} (no DMA: floppy.c-style)`,
      fields,
    );
    return incoming;
  }
  const out = domain.read(base + seg.offset, seg.length);
  m.emit(
    "cpu-copy",
    () => `PIO: the CPU copied ${formatSize(seg.length)} from pfn ${hex(seg.page.pfn)} to ${port} (no DMA: floppy.c-style)`,
    fields,
  );
  return out;
}

declare module "./domain.js" {
  interface Domain {
    /**
     * kmap(page): the CPU-addressable (guest-physical) address of a page's data. Fails with
     * KMAP_FAILED for a tagged foreign page, which has no mapping in this domain.
     */
    kmap(page: StructPage): number;
  }
}

Domain.prototype.kmap = function (this: Domain, page: StructPage): number {
  return kmap(this, page);
};
