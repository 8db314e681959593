import { SimError } from "./errors.js";
import { CHUNK_FRAMES, type FrameStore, ownerOf } from "./frames.js";
import { findAlignedFreeRun, findFreeRun, lowestFreeFrames } from "./frame-alloc.js";
import { GiB, MiB, formatSize, hex } from "./units.js";
import type { Domain } from "./domain.js";
import { IO_TLB_OVERFLOW, IO_TLB_SEGMENT_BYTES, IO_TLB_SEGSIZE, IO_TLB_SHIFT, type SwiotlbKind, SwiotlbPool } from "./swiotlb-pool.js";

/** swiotlb_init(): "default to 64MB". */
export const SWIOTLB_DEFAULT_SIZE = 64 * MiB;
/** The pool comes from memory below the 4 GiB line (alloc_bootmem_low; xen_swiotlb_fixup's MAX_DMA_BITS 32). */
const POOL_LIMIT = 4 * GiB;
/** xen_swiotlb_fixup starts at dma_bits = get_order(256 KiB) + PAGE_SHIFT, i.e. 2^18, and widens to 32. */
const FIRST_DMA_BITS = Math.log2(IO_TLB_SEGMENT_BYTES);

/**
 * The bounce pool of `domain` for `kind`, set aside on first use (when the first swiotlb or
 * xen-swiotlb DMA-API of the domain is created).
 *
 * One pool per driver domain and kind. A real kernel has a single pool (io_tlb_default_mem) and
 * one set of dma_map_ops for all its devices; the simulator lets a reader put both backends side
 * by side in one domain, and keeps their pools apart because xen-swiotlb's pool is reshaped by
 * xen_swiotlb_fixup and generic swiotlb's is not.
 *
 * Size: `swiotlb.size` from the machine config, else 64 MiB (swiotlb_init's default), reduced to
 * 1/16 of machine memory on a small machine (a model assumption: the xenified dom0 of January 2006 used
 * 2 MiB below 2 GiB of RAM, and modern confidential guests size it ~6% of memory) and then halved
 * while it does not fit, as swiotlb_late_init_with_default_size does ("Warning: only able to
 * allocate ..."). An explicit size that does not fit throws SWIOTLB_NO_ROOM.
 *
 * Placement, always from free frames below 4 GiB, lowest first (alloc_bootmem_low), at fresh
 * PFNs above the domain's RAM (it belongs to the domain but is not part of its `memory`; frames
 * other domains own, explicit layouts included, are never touched):
 * - P==M (both kinds): one machine-contiguous run, so PFN == MFN holds for the pool too
 *   (xen_create_contiguous_region has nothing to exchange there).
 * - `swiotlb` in P2M/VP: the lowest free frames, contiguous or not: generic swiotlb never asks
 *   where its pages are in machine memory.
 * - `xen-swiotlb` in P2M/VP: xen_swiotlb_fixup makes each 128-slot (256 KiB) segment
 *   machine-contiguous with one XENMEM_exchange (xen_create_contiguous_region), retrying with
 *   dma_bits from 18 up to 32. Simplification: the simulator finds the lowest free run at once
 *   and traces one `exchange` event per segment (its cost, and the dma_bits the retries would
 *   end at), not each failed attempt. Each segment is one extent of its order, so it starts at
 *   a multiple of 256 KiB in machine memory.
 * - `xen-swiotlb` in era "2006": see {@link placeXen2006Pool} (one exchange for the whole pool).
 *
 * Era "2006" also sets aside the 32 KiB io_tlb_overflow_buffer (alloc_bootmem_low: never
 * exchanged, so in P2M/VP its frames need not be machine-contiguous).
 */
export function swiotlbPoolFor(domain: Domain, kind: SwiotlbKind): SwiotlbPool<Domain> {
  const m = domain.machine;
  const existing = m.swiotlbPools.find((p) => p.domain === domain && p.kind === kind);
  if (existing) return existing;
  if (kind === "xen-swiotlb" && m.era === "2006") return placeXen2006Pool(domain);
  const configured = m.swiotlbConfig.size;
  const scaled = Math.max(IO_TLB_SEGMENT_BYTES, Math.min(SWIOTLB_DEFAULT_SIZE, segmentsIn(m.memory / 16) * IO_TLB_SEGMENT_BYTES));
  const wanted = configured ?? scaled;
  let size = wanted;
  for (;;) {
    const pool = tryPlace(domain, kind, size);
    if (pool) {
      announce(pool, configured, scaled, wanted);
      m.swiotlbPools.push(pool);
      return pool;
    }
    if (configured !== undefined || size <= IO_TLB_SEGMENT_BYTES) break;
    size = Math.max(IO_TLB_SEGMENT_BYTES, segmentsIn(size / 2) * IO_TLB_SEGMENT_BYTES);
  }
  const need =
    domain.mode === "P==M" ? "one machine-contiguous run" : kind === "xen-swiotlb" ? "machine-contiguous 256 KiB segments" : "free frames";
  throw new SimError(
    "SWIOTLB_NO_ROOM",
    `Cannot allocate SWIOTLB buffer: the ${kind} pool of ${domain.name} needs ${formatSize(size)} of ${need} below 4 GiB` +
      `${m.era === "2006" ? " (plus the 32 KiB overflow buffer)" : ""}, and free machine memory there does not have it` +
      `${configured !== undefined ? "; choose a smaller swiotlb.size (a multiple of 256 KiB)" : ""}`,
    "swiotlb.size",
  );
}

/** The xenified swiotlb.c of January 2006 never took more than one exchange below this line. */
const XEN_2006_POOL_BITS = 31;

/**
 * Era "2006" xen-swiotlb: the xenified linux-2.6-xen-sparse/arch/xen/i386/kernel/swiotlb.c of
 * the Jan 2006 tree. Size: `swiotlb.size` if given, else swiotlb_init's 64 MiB, or 2 MiB when
 * dom0's machine has RAM ending below 2 GiB (XENMEM_maximum_ram_page <= 0x7ffff); either way rounded
 * up to a power of two ("Round up to power of two (xen_create_contiguous_region)"). Placement:
 * the whole pool in one xen_create_contiguous_region(..., get_order(bytes), 31) ("Hardcode 31
 * address bits for now: aacraid limitation"): one extent, so one machine-contiguous run aligned
 * to its own size below 2^31. There is no shrinking: if no such run is free the kernel hit
 * BUG_ON(rc), here SWIOTLB_NO_ROOM.
 */
function placeXen2006Pool(domain: Domain): SwiotlbPool<Domain> {
  const m = domain.machine;
  const configured = m.swiotlbConfig.size;
  // The 2 MiB rule is in Domain 0's branch; a domU booted with swiotlb=force keeps 64 MiB.
  const wanted = configured ?? (domain.domid === 0 && m.memory <= 2 * GiB ? 2 * MiB : SWIOTLB_DEFAULT_SIZE);
  const size = 2 ** Math.ceil(Math.log2(Math.ceil(wanted / IO_TLB_SEGMENT_BYTES) * IO_TLB_SEGMENT_BYTES));
  const pool = tryPlace(domain, "xen-swiotlb", size);
  if (!pool) {
    throw new SimError(
      "SWIOTLB_NO_ROOM",
      `Cannot allocate SWIOTLB buffer: xen_create_contiguous_region found no machine-contiguous ${formatSize(size)} (one extent, aligned to its size) below 2^${XEN_2006_POOL_BITS} for ${domain.name}'s swiotlb (BUG_ON(rc))` +
        `${configured !== undefined ? "; choose a smaller swiotlb.size" : ""}`,
      "swiotlb.size",
    );
  }
  const where = { domain: domain.name, address: pool.address, bytes: pool.bytes };
  if (configured === undefined && wanted < SWIOTLB_DEFAULT_SIZE) {
    m.emit(
      "setup",
      `swiotlb: ${formatSize(wanted)} instead of the ${formatSize(SWIOTLB_DEFAULT_SIZE)} default: this machine's RAM ends below 2 GiB ("2MB on <2GB on systems", Domain 0's swiotlb_init)`,
      where,
    );
  }
  if (size !== wanted) {
    m.emit(
      "setup",
      `swiotlb: ${formatSize(wanted)} rounded up to ${formatSize(size)}, a power of two, for xen_create_contiguous_region`,
      where,
    );
  }
  // Sizes were explained above; announce() only prints the kernel's banner.
  announce(pool, configured, SWIOTLB_DEFAULT_SIZE, size);
  m.swiotlbPools.push(pool);
  return pool;
}

function segmentsIn(bytes: number): number {
  return Math.floor(bytes / IO_TLB_SEGMENT_BYTES);
}

interface Placement {
  /** Machine frame of each pool page, in PFN order. */
  frames: number[];
  /** For xen-swiotlb in P2M/VP: the dma_bits each segment's exchange ended at. */
  exchangeBits?: number[];
}

/** Places a pool of `size` bytes (and the 2006 overflow buffer), or returns undefined with nothing changed. */
function tryPlace(domain: Domain, kind: SwiotlbKind, size: number): SwiotlbPool<Domain> | undefined {
  const m = domain.machine;
  const pageSize = m.pageSize;
  const limit = Math.min(m.domainFrameLimit, Math.floor(POOL_LIMIT / pageSize));
  const pages = size / pageSize;
  const placement = planPool(domain, kind, pages, limit);
  if (!placement) return undefined;
  const owner = ownerOf(domain.domid);
  // Claim the pool's frames first so the overflow buffer is placed around them.
  for (const mfn of placement.frames) m.store.assign(mfn, owner, undefined);
  let overflowFrames: number[] | undefined;
  if (m.era === "2006") {
    const overflowPages = Math.ceil(IO_TLB_OVERFLOW / pageSize);
    overflowFrames =
      domain.mode === "P==M"
        ? run(findFreeRun(m.store, overflowPages, limit), overflowPages)
        : lowestFreeFrames(m.store, overflowPages, limit);
    if (!overflowFrames) {
      for (const mfn of placement.frames) m.store.release(mfn);
      return undefined;
    }
  }
  const firstPfn = domain.addExtraFrames(placement.frames);
  placement.frames.forEach((mfn, i) => m.store.assign(mfn, owner, domain.mode === "P==M" ? mfn : firstPfn + i));
  const address = firstPfn * pageSize;
  const pagesPerSegment = IO_TLB_SEGMENT_BYTES / pageSize;
  const segmentBus = Array.from({ length: size / IO_TLB_SEGMENT_BYTES }, (_, s) =>
    kind === "swiotlb" ? address + s * IO_TLB_SEGMENT_BYTES : placement.frames[s * pagesPerSegment]! * pageSize,
  );
  const pool = new SwiotlbPool(domain, kind, size >> IO_TLB_SHIFT, address, segmentBus);
  if (placement.exchangeBits && m.era === "2006") {
    m.emit(
      "exchange",
      `swiotlb_init: XENMEM_exchange (xen_create_contiguous_region, order ${Math.log2(pages)}) made ${domain.name} pfn ${hex(firstPfn)}-${hex(firstPfn + pages - 1)} (the whole ${formatSize(size)} aperture) machine-contiguous at mfn ${hex(placement.frames[0]!)}-${hex(placement.frames[0]! + pages - 1)}, below 2^${XEN_2006_POOL_BITS}`,
      {
        domain: domain.name,
        address: firstPfn * pageSize,
        machineAddress: placement.frames[0]! * pageSize,
        bytes: size,
        cost: m.costs.memoryExchange,
      },
    );
  } else
    placement.exchangeBits?.forEach((bits, s) => {
      const pfn = firstPfn + s * pagesPerSegment;
      const mfn = placement.frames[s * pagesPerSegment]!;
      m.emit(
        "exchange",
        `xen_swiotlb_fixup: XENMEM_exchange (xen_create_contiguous_region) made ${domain.name} pfn ${hex(pfn)}-${hex(pfn + pagesPerSegment - 1)} (swiotlb segment ${s}, ${IO_TLB_SEGSIZE} slots) machine-contiguous at mfn ${hex(mfn)}-${hex(mfn + pagesPerSegment - 1)}, below 2^${bits}`,
        {
          domain: domain.name,
          address: pfn * pageSize,
          machineAddress: mfn * pageSize,
          bytes: IO_TLB_SEGMENT_BYTES,
          cost: m.costs.memoryExchange,
        },
      );
    });
  if (overflowFrames) {
    const overflowPfn = domain.addExtraFrames(overflowFrames);
    overflowFrames.forEach((mfn, i) => m.store.assign(mfn, owner, domain.mode === "P==M" ? mfn : overflowPfn + i));
    const overflowAddress = overflowPfn * pageSize;
    // virt_to_bus(io_tlb_overflow_buffer): the pseudo-physical address for generic swiotlb, the machine address under Xen.
    pool.overflow = {
      address: overflowAddress,
      busAddress: kind === "swiotlb" ? overflowAddress : overflowFrames[0]! * pageSize,
      bytes: IO_TLB_OVERFLOW,
    };
  }
  return pool;
}

function planPool(domain: Domain, kind: SwiotlbKind, pages: number, limit: number): Placement | undefined {
  const store = domain.machine.store;
  if (domain.mode === "P==M") {
    const frames = run(findFreeRun(store, pages, limit), pages);
    return frames && { frames };
  }
  if (kind === "swiotlb") {
    const frames = lowestFreeFrames(store, pages, limit);
    return frames && { frames };
  }
  if (domain.machine.era === "2006") {
    const below = Math.min(limit, Math.floor(2 ** XEN_2006_POOL_BITS / domain.machine.pageSize));
    const frames = run(findAlignedFreeRun(store, pages, below, pages), pages);
    return frames && { frames, exchangeBits: [XEN_2006_POOL_BITS] };
  }
  return planSegments(store, pages, IO_TLB_SEGMENT_BYTES / domain.machine.pageSize, limit, domain.machine.pageSize);
}

function run(start: number | undefined, count: number): number[] | undefined {
  return start === undefined ? undefined : Array.from({ length: count }, (_, i) => start + i);
}

/**
 * One machine-contiguous run of `pagesPerSegment` frames per 256 KiB segment, each the lowest
 * free run left (what successive XENMEM_exchange calls with widening dma_bits end up with). Each
 * exchange asks for one extent of the segment's order, so every segment starts at a multiple of
 * 256 KiB in machine memory.
 */
function planSegments(store: FrameStore, pages: number, pagesPerSegment: number, limit: number, pageSize: number): Placement | undefined {
  const segments = pages / pagesPerSegment;
  const frames: number[] = [];
  const exchangeBits: number[] = [];
  let runStart = 0;
  let i = 0;
  const aligned = () => Math.ceil(runStart / pagesPerSegment) * pagesPerSegment;
  const take = (start: number) => {
    for (let f = start; f < start + pagesPerSegment; f++) frames.push(f);
    exchangeBits.push(Math.max(FIRST_DMA_BITS, Math.ceil(Math.log2((start + pagesPerSegment) * pageSize))));
    runStart = start + pagesPerSegment;
  };
  while (i < limit && exchangeBits.length < segments) {
    if (store.chunkFree(i)) i = Math.min(limit, (Math.floor(i / CHUNK_FRAMES) + 1) * CHUNK_FRAMES);
    else if (store.isFree(i)) i++;
    else {
      runStart = ++i;
      continue;
    }
    while (i - aligned() >= pagesPerSegment && exchangeBits.length < segments) take(aligned());
  }
  return exchangeBits.length === segments ? { frames, exchangeBits } : undefined;
}

/** The "setup" events: where the pool went, in the kernel's words for the era, and why its size. */
function announce(pool: SwiotlbPool<Domain>, configured: number | undefined, scaled: number, wanted: number): void {
  const m = pool.domain.machine;
  const where = { domain: pool.domain.name, address: pool.address, bytes: pool.bytes };
  if (configured === undefined && scaled < SWIOTLB_DEFAULT_SIZE) {
    m.emit(
      "setup",
      `swiotlb: the ${formatSize(SWIOTLB_DEFAULT_SIZE)} default pool is reduced to ${formatSize(scaled)} on this ${formatSize(m.memory)} machine (1/16 of memory, a simulator rule)`,
      where,
    );
  }
  if (pool.bytes < wanted) {
    m.emit(
      "setup",
      `Warning: only able to allocate ${pool.bytes / MiB} MB for software IO TLB (${formatSize(wanted)} did not fit below 4 GiB)`,
      { ...where, severity: "warning" },
    );
  }
  const end = pool.address + pool.bytes;
  const mb = Math.round((pool.bytes / MiB) * 100) / 100;
  let text: string;
  if (pool.kind === "xen-swiotlb" && m.era === "2006") {
    text = `Software IO TLB enabled: Aperture: ${mb} megabytes, Bus range: ${segmentsText(pool)}, Kernel range: ${hex(pool.address)} - ${hex(end)}`;
  } else if (m.era === "2006") {
    text = `Placing ${mb}MB software IO TLB between ${hex(pool.address)} - ${hex(end)}`;
  } else {
    text = `software IO TLB: mapped [mem ${hex(pool.address)}-${hex(end - 1)}] (${mb}MB)`;
  }
  const owner =
    pool.domain.mode === "P==M"
      ? "PFN == MFN"
      : pool.kind === "xen-swiotlb"
        ? "each 256 KiB segment machine-contiguous"
        : "machine frames wherever they were free";
  m.emit(
    "setup",
    `${pool.domain.name}: ${text} — ${pool.nslabs} slots of 2 KiB for ${pool.kind}, ${owner}${pool.overflow ? `; io_tlb_overflow_buffer (32 KiB) at ${hex(pool.overflow.address)}` : ""}`,
    where,
  );
}

function segmentsText(pool: SwiotlbPool<Domain>): string {
  const first = pool.segmentBus[0]!;
  const contiguous = pool.segmentBus.every((bus, s) => bus === first + s * IO_TLB_SEGMENT_BYTES);
  return contiguous ? `${hex(first)} - ${hex(first + pool.bytes)}` : `${pool.segmentBus.length} segments from ${hex(first)}`;
}
