import { SimError, describeValue, rejectUnknownKeys, requireObject } from "./errors.js";
import { checkAddress } from "./domain.js";
import type { Domain, StructPage } from "./domain.js";
import type { Device } from "./device.js";
import type { DmaApi, SgEntry } from "./dma/api.js";
import type { Direction, SgSegment } from "./dma/types.js";
import { formatSize, hex, maskLimit } from "./units.js";
import { bounceForBlockLayer, finishBlockBounce } from "./kmap.js";
import { busIsPhysReason } from "./dma/bus-is-phys.js";
import type { BlockBounce } from "./kmap.js";

/**
 * The Linux block layer between a backend driver and the DMA-API, as far as the 2006 thread needs
 * it: bio segments become a request, pages above the device's reach are bounced (when
 * PCI_DMA_BUS_IS_PHYS says the block layer must), adjacent segments merge into one scatterlist
 * entry only when BIOVEC_PHYS_MERGEABLE holds, and the request is mapped with dma_map_sg.
 *
 * Sources: 2.6.16 block/ll_rw_blk.c (blk_rq_map_sg, blk_queue_bounce_limit) and mm/highmem.c
 * (blk_queue_bounce), drivers/scsi/scsi_lib.c (scsi_calculate_bounce_limit), the xenified
 * include/asm-i386/mach-xen/asm/io.h (BIOVEC_PHYS_MERGEABLE: machine- and pseudo-physically
 * contiguous), mainline drivers/xen/biomerge.c (xen_biovec_phys_mergeable).
 */

/** Bytes in one sector: the unit of block I/O (and of blkif segments). */
export const SECTOR_SIZE = 512;

/** Most bio_vecs one request may carry (bounds the work a reader's call can cause). */
export const MAX_BIO_VECS = 4096;

/** One bio segment handed to the block layer: a struct page with offset, or a guest-physical range (split per page). */
export type BioSegment = { page: StructPage; offset?: number; length: number } | { address: number; length: number };

/** A block request's data direction: "write" moves memory to the disk (DMA_TO_DEVICE), "read" the reverse. */
export type BlockOp = "read" | "write";

/**
 * Whether the block layer bounces on its own. "pci-dma-bus-is-phys": the 2.6-era rule — if the
 * DMA-API is physical (PCI_DMA_BUS_IS_PHYS, `dma.isPhys`: per arch, hypervisor and era, see
 * dma/bus-is-phys.ts), scsi_calculate_bounce_limit hands the
 * device's mask to blk_queue_bounce_limit; otherwise BLK_BOUNCE_ANY. "none": Linux >= 4.18
 * ("scsi: reduce use of block bounce buffers", commit 21e07dba9fb1), where the DMA layer alone
 * must cope with the mask.
 */
export type BounceRule = "pci-dma-bus-is-phys" | "none";

/**
 * How the driver turns the merged scatterlist into bus addresses. "dma-api": the backend's
 * dma_map_sg. "first-frame": only the segment's first page is translated and the device runs
 * `length` bytes from there, without a DMA-API mapping, as the January 2006 xenified dma_map_sg
 * did without swiotlb (arch/xen/i386/kernel/pci-dma.c: `sg[i].dma_address =
 * page_to_phys(sg[i].page) + sg[i].offset;`, page_to_phys being a machine address there; the p2m
 * backend's era "2006" mapSg does the same through the DMA-API). Harmless while every merged
 * segment is machine-contiguous — exactly what the Xen merge check guarantees.
 */
export type SgMappingMode = "dma-api" | "first-frame";

/** Options of {@link createRequestQueue}. */
export interface RequestQueueOptions {
  /**
   * The Xen half of BIOVEC_PHYS_MERGEABLE (xen_biovec_phys_mergeable): merge only when the
   * machine frames are contiguous too. Default true. Turn it off to watch a merged request DMA
   * into the wrong frame.
   */
  xenMergeCheck?: boolean;
  /** Default: "pci-dma-bus-is-phys" in era "2006", "none" in era "modern". */
  bounce?: BounceRule;
  /** Default "dma-api". */
  sgMapping?: SgMappingMode;
}

/** One bio_vec of a request (always within one page), after blk_queue_bounce. */
export interface BioVec {
  /** PFN (in the queue's domain) of the page the device will use: the bounce page when bounced. */
  pfn: number;
  /** Byte offset of the data in that page (bv_offset). */
  offset: number;
  /** Bytes (bv_len), never crossing the page's end. */
  length: number;
  /** Guest-physical address the device will use. */
  address: number;
  /** When blk_queue_bounce replaced the page: the guest-physical address of the original data. */
  bouncedFrom?: number;
}

/** A request as the reader sees it: plain data. */
export interface BlockRequest {
  /** The queue's request number, from 1: pass the request back to `map` and `complete`. */
  id: number;
  /** "read" or "write". */
  op: BlockOp;
  /** First sector on the disk. */
  sector: number;
  /** Total bytes of the request (a whole number of 512-byte sectors). */
  bytes: number;
  /** The bio_vecs, one per page touched, after blk_queue_bounce. */
  bvecs: BioVec[];
  /** Physical segments after merging (blk_rq_map_sg): the scatterlist handed to the DMA-API. */
  segments: { address: number; length: number }[];
  /** "queued" after submit, "mapped" after map, "done" after complete, "failed" if mapping failed. */
  state: "queued" | "mapped" | "done" | "failed";
}

/** The bus-address view of a mapped request: what the device is told. */
export interface RequestMapping {
  /** dma_map_sg's count: 0 when mapping failed. */
  count: number;
  /** The bus-address segments the device is told to use, in order. */
  segments: SgSegment[];
}

interface Internal {
  request: BlockRequest;
  /** The scatterlist, kept by identity so dma_unmap_sg gets the original entries. */
  sg: SgEntry[];
  /** first-frame mode: the single-page mappings made. */
  singles: { busAddress: number; size: number }[];
  mapping: RequestMapping | null;
  /** blk_queue_bounce's pages, ended at completion. */
  bounces: BlockBounce[];
}

const QUEUE_KEYS = ["xenMergeCheck", "bounce", "sgMapping"] as const;

/**
 * A request queue of one driver domain's block device (dom0's, in the blkback story). Create with
 * {@link createRequestQueue}. Requests go submit → map → (the device's DMA) → complete.
 */
export class RequestQueue {
  /** The driver domain whose block layer this is (dom0 in the blkback story). */
  readonly domain: Domain;
  /** The block device the queue feeds. */
  readonly device: Device;
  /** Whether merging also requires machine contiguity (xen_biovec_phys_mergeable). */
  readonly xenMergeCheck: boolean;
  /** Whether the block layer bounces on its own (see {@link BounceRule}). */
  readonly bounce: BounceRule;
  /** How merged segments are turned into bus addresses (see {@link SgMappingMode}). */
  readonly sgMapping: SgMappingMode;
  /**
   * Highest guest-physical address the block layer lets the device see directly; pages beyond it
   * are bounced. Infinity is BLK_BOUNCE_ANY.
   */
  readonly bounceLimit: number;
  private readonly requests = new Map<number, Internal>();
  private nextId = 1;

  /**
   * Prefer {@link createRequestQueue}.
   * @param dma The block device's DMA-API in its driver domain: the queue maps requests through it.
   * @param options Merge, bounce and mapping rules; see {@link RequestQueueOptions}.
   */
  constructor(
    readonly dma: DmaApi,
    options: RequestQueueOptions = {},
  ) {
    const o = requireObject(options, "createRequestQueue options");
    rejectUnknownKeys(o, QUEUE_KEYS, "createRequestQueue");
    if (!dma || typeof dma !== "object" || typeof (dma as DmaApi).mapSg !== "function") {
      throw new SimError(
        "INVALID_ARGUMENT",
        `createRequestQueue(dma): dma must be a DMA-API from domain.dmaApi(device, backend), got ${describeValue(dma)}`,
        "dma",
      );
    }
    this.domain = dma.domain;
    this.device = dma.device;
    const m = this.domain.machine;
    m.assertRunning();
    if (o.xenMergeCheck !== undefined && typeof o.xenMergeCheck !== "boolean") {
      throw new SimError("INVALID_CONFIG", `xenMergeCheck must be true or false, got ${describeValue(o.xenMergeCheck)}`, "xenMergeCheck");
    }
    this.xenMergeCheck = (o.xenMergeCheck as boolean | undefined) ?? true;
    const bounce = o.bounce ?? (m.era === "2006" ? "pci-dma-bus-is-phys" : "none");
    if (bounce !== "pci-dma-bus-is-phys" && bounce !== "none") {
      throw new SimError("INVALID_CONFIG", `bounce must be "pci-dma-bus-is-phys" or "none", got ${describeValue(bounce)}`, "bounce");
    }
    this.bounce = bounce;
    const sgMapping = o.sgMapping ?? "dma-api";
    if (sgMapping !== "dma-api" && sgMapping !== "first-frame") {
      throw new SimError("INVALID_CONFIG", `sgMapping must be "dma-api" or "first-frame", got ${describeValue(sgMapping)}`, "sgMapping");
    }
    this.sgMapping = sgMapping;
    this.bounceLimit = this.calculateBounceLimit();
  }

  /**
   * scsi_calculate_bounce_limit + blk_queue_bounce_limit (2.6.16): BLK_BOUNCE_ANY unless the
   * DMA-API is physical; then the device's mask — but on 64-bit kernels (ia64, x86_64) only a mask
   * below 4 GiB makes the block layer bounce ("Assume anything <= 4GB can be handled by IOMMU").
   */
  private calculateBounceLimit(): number {
    const m = this.domain.machine;
    const where = { domain: this.domain.name, device: this.device.name };
    if (this.bounce === "none") {
      m.emit(
        "block",
        () =>
          `${this.device.name}: request queue without block-layer bouncing (Linux >= 4.18: the DMA layer handles the ${this.device.dmaMask}-bit mask)`,
        where,
      );
      return Infinity;
    }
    if (!this.dma.isPhys) {
      m.emit(
        "block",
        () =>
          `${this.device.name}: PCI_DMA_BUS_IS_PHYS is 0 (${busIsPhysReason(m, this.dma.backend)}): scsi_calculate_bounce_limit returns BLK_BOUNCE_ANY, the block layer never bounces on its own`,
        where,
      );
      return Infinity;
    }
    const limit = maskLimit(this.device.dmaMask) - 1;
    if (limit >= 0xffffffff) {
      m.emit(
        "block",
        () =>
          `${this.device.name}: PCI_DMA_BUS_IS_PHYS is 1 (${busIsPhysReason(m, this.dma.backend)}) and the ${this.device.dmaMask}-bit mask reaches 4 GiB: a 64-bit kernel assumes the DMA layer copes (blk_queue_bounce_limit), no bouncing`,
        where,
      );
      return Infinity;
    }
    m.emit(
      "block",
      () =>
        `${this.device.name}: PCI_DMA_BUS_IS_PHYS is 1 (${busIsPhysReason(m, this.dma.backend)}): the block layer bounces pages above ${hex(limit)} (the ${this.device.dmaMask}-bit mask, scsi_calculate_bounce_limit)`,
      where,
    );
    return limit;
  }

  /**
   * submit_bio: builds a request from bio segments — blk_queue_bounce first, then blk_rq_map_sg's
   * merging. A write's bounced data is copied into the low page now (kmap of the source page).
   */
  submit(op: BlockOp, sector: number, segments: readonly BioSegment[]): BlockRequest {
    const m = this.domain.machine;
    m.assertRunning();
    if (op !== "read" && op !== "write")
      throw new SimError("INVALID_ARGUMENT", `op must be "read" or "write", got ${describeValue(op)}`, "op");
    if (typeof sector !== "number" || !Number.isSafeInteger(sector) || sector < 0) {
      throw new SimError("INVALID_ARGUMENT", `sector must be a whole number >= 0, got ${describeValue(sector)}`, "sector");
    }
    const bvecs = this.toBvecs(segments);
    const bytes = bvecs.reduce((n, v) => n + v.length, 0);
    m.checkTransfer(bytes, "request size");
    const id = this.nextId++;
    const internal: Internal = {
      request: { id, op, sector, bytes, bvecs, segments: [], state: "queued" },
      sg: [],
      singles: [],
      mapping: null,
      bounces: [],
    };
    this.requests.set(id, internal);
    try {
      this.bounceBvecs(internal);
    } catch (error) {
      this.requests.delete(id);
      this.endBounces(internal, false);
      throw error;
    }
    internal.request.segments = this.merge(bvecs);
    internal.sg = internal.request.segments.map((s) => ({ address: s.address, length: s.length }));
    m.emit(
      "block",
      () =>
        `request #${id}: ${op} of ${bytes / SECTOR_SIZE} sectors at sector ${sector}: ${bvecs.length} bio_vec${bvecs.length === 1 ? "" : "s"} → ${internal.request.segments.length} segment${internal.request.segments.length === 1 ? "" : "s"}`,
      { domain: this.domain.name, device: this.device.name, address: bvecs[0]?.address, bytes },
    );
    return clone(internal.request);
  }

  /** Maps a submitted request for the device (dma_map_sg, or the first-frame shortcut). */
  map(request: BlockRequest): RequestMapping {
    const internal = this.lookup(request, "map");
    const m = this.domain.machine;
    m.assertRunning();
    if (internal.request.state !== "queued") {
      throw new SimError(
        "INVALID_ARGUMENT",
        `request #${internal.request.id} is ${internal.request.state}; only a queued request can be mapped`,
        "request",
      );
    }
    const dir = this.direction(internal.request.op);
    let mapping: RequestMapping;
    if (this.sgMapping === "dma-api") {
      mapping = this.dma.mapSg(internal.sg, dir);
    } else {
      mapping = this.mapFirstFrames(internal, dir);
    }
    internal.mapping = mapping;
    internal.request.state = mapping.count === 0 ? "failed" : "mapped";
    if (mapping.count === 0) {
      m.emit(
        "block",
        () =>
          `request #${internal.request.id}: mapping failed, end_request: I/O error, dev ${this.device.name}, sector ${internal.request.sector}`,
        { domain: this.domain.name, device: this.device.name, severity: "error" },
      );
    }
    return { count: mapping.count, segments: mapping.segments.map((s) => ({ ...s })) };
  }

  /**
   * End of the request: unmaps it (dma_unmap_sg with the original entries), copies a read's
   * bounced data back to the original pages (bounce_end_io_read: kmap of the destination page)
   * and frees the bounce pages. A failed request only releases what it holds.
   */
  complete(request: BlockRequest): void {
    const internal = this.lookup(request, "complete");
    const m = this.domain.machine;
    m.assertRunning();
    const r = internal.request;
    const dir = this.direction(r.op);
    const mapped = r.state === "mapped";
    this.requests.delete(r.id);
    r.state = "done";
    let ok = false;
    try {
      if (mapped && this.sgMapping === "dma-api") this.dma.unmapSg(internal.sg, dir);
      for (const s of internal.singles.splice(0)) this.dma.unmapSingle(s.busAddress, s.size, dir);
      this.endBounces(internal, mapped);
      ok = mapped;
    } finally {
      if (m.halted === undefined) {
        m.emit("block", () => `request #${r.id} ${ok ? "completed" : "ended with an I/O error"}`, {
          domain: this.domain.name,
          device: this.device.name,
          bytes: r.bytes,
          severity: ok ? "info" : "error",
        });
      }
    }
  }

  /** Requests submitted and not yet completed. */
  pending(): BlockRequest[] {
    return [...this.requests.values()].map((i) => clone(i.request));
  }

  private direction(op: BlockOp): Direction {
    return op === "write" ? "TO_DEVICE" : "FROM_DEVICE";
  }

  private lookup(request: BlockRequest, fn: string): Internal {
    const id = typeof request === "object" && request !== null ? (request as BlockRequest).id : undefined;
    const internal = id === undefined ? undefined : this.requests.get(id);
    if (!internal) {
      throw new SimError(
        "INVALID_ARGUMENT",
        `queue.${fn}(request): not a pending request of this queue, got ${describeValue(request)}`,
        "request",
      );
    }
    return internal;
  }

  /** Normalises bio segments into per-page bio_vecs, sector-granular as block I/O is. */
  private toBvecs(segments: readonly BioSegment[]): BioVec[] {
    if (!Array.isArray(segments) || segments.length === 0) {
      throw new SimError(
        "INVALID_ARGUMENT",
        `segments must be a non-empty array of { page, offset, length } or { address, length }, got ${describeValue(segments)}`,
        "segments",
      );
    }
    const pageSize = this.domain.machine.pageSize;
    const bvecs: BioVec[] = [];
    segments.forEach((segment, i) => {
      const field = `segments[${i}]`;
      if (typeof segment !== "object" || segment === null)
        throw new SimError(
          "INVALID_ARGUMENT",
          `${field} must be { page, offset, length } or { address, length }, got ${describeValue(segment)}`,
          field,
        );
      const length = (segment as { length: unknown }).length;
      if (typeof length !== "number" || !Number.isSafeInteger(length) || length <= 0 || length % SECTOR_SIZE !== 0) {
        throw new SimError(
          "INVALID_ARGUMENT",
          `${field}.length must be a whole number of ${SECTOR_SIZE}-byte sectors (> 0), got ${describeValue(length)}`,
          `${field}.length`,
        );
      }
      let address: number;
      if ("page" in segment) {
        const page = segment.page;
        if (typeof page !== "object" || page === null || typeof page.pfn !== "number" || page.domain !== this.domain.name) {
          throw new SimError(
            "INVALID_ARGUMENT",
            `${field}.page must be a struct page of ${this.domain.name} (domain.page(pfn), or a foreign page mapGrant gave it), got ${describeValue(page)}`,
            `${field}.page`,
          );
        }
        const offset = segment.offset ?? 0;
        if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0 || offset + length > pageSize) {
          throw new SimError(
            "INVALID_ARGUMENT",
            `${field}: a bio_vec lies within one page: offset + length must be at most ${pageSize}, got offset ${describeValue(offset)} + length ${length}`,
            `${field}.offset`,
          );
        }
        address = page.pfn * pageSize + offset;
      } else {
        checkAddress((segment as { address: unknown }).address, `${field}.address`);
        address = segment.address;
      }
      if (address % SECTOR_SIZE !== 0) {
        throw new SimError("INVALID_ARGUMENT", `${field} starts at ${hex(address)}, not on a ${SECTOR_SIZE}-byte sector boundary`, field);
      }
      let done = 0;
      while (done < length) {
        const at = address + done;
        const pfn = Math.floor(at / pageSize);
        const offset = at - pfn * pageSize;
        const chunk = Math.min(length - done, pageSize - offset);
        if (bvecs.length >= MAX_BIO_VECS) {
          throw new SimError("RESOURCE_LIMIT", `a request may carry at most ${MAX_BIO_VECS} bio_vecs (one per page touched)`, "segments");
        }
        bvecs.push({ pfn, offset, length: chunk, address: at });
        done += chunk;
      }
    });
    return bvecs;
  }

  /**
   * blk_queue_bounce (2.6.16 mm/highmem.c): every bio_vec whose page_to_pfn lies above the bounce
   * limit gets a low page (kmap.ts's bounceForBlockLayer: a WRITE's data is copied there at once,
   * through kmap of the source page). The test is on the PSEUDO-physical frame, as the kernel's
   * is: under P2M a low PFN may still sit on a high machine frame, and then the DMA-API has to
   * refuse it.
   */
  private bounceBvecs(internal: Internal): void {
    if (this.bounceLimit === Infinity) return;
    const m = this.domain.machine;
    const pageSize = m.pageSize;
    const limitPfn = Math.floor(this.bounceLimit / pageSize);
    const dir = this.direction(internal.request.op);
    for (const bvec of internal.request.bvecs) {
      if (bvec.pfn <= limitPfn) continue;
      const original = bvec.address;
      m.emit(
        "block",
        () => `blk_queue_bounce: pfn ${hex(bvec.pfn)} is above the bounce limit (pfn ${hex(limitPfn)}): bounce it through a low page`,
        { domain: this.domain.name, device: this.device.name, address: original, bytes: bvec.length },
      );
      const bounce = bounceForBlockLayer(this.domain, { page: this.domain.page(bvec.pfn), offset: bvec.offset, length: bvec.length }, dir);
      internal.bounces.push(bounce);
      if (bounce.page.pfn > limitPfn) {
        // The kernel's bounce pool holds pages below the limit (GFP_DMA); this domain has none free.
        throw new SimError(
          "OUT_OF_MEMORY",
          `blk_queue_bounce: ${this.domain.name} has no free page below ${hex(this.bounceLimit)} for the bounce pool`,
          "segments",
        );
      }
      bvec.pfn = bounce.page.pfn;
      bvec.address = bounce.address;
      bvec.bouncedFrom = original;
    }
  }

  /**
   * Ends the request's bounces. On success a READ's data goes back to the original page
   * (bounce_end_io_read → copy_to_high_bio_irq, kmap of the destination); a failed request only
   * frees the pages ("if (test_bit(BIO_UPTODATE, &bio->bi_flags)) copy_to_high_bio_irq(...)").
   */
  private endBounces(internal: Internal, uptodate: boolean): void {
    const m = this.domain.machine;
    const bounces = internal.bounces.splice(0);
    let failure: unknown;
    for (const bounce of bounces) {
      if (m.halted !== undefined) return;
      try {
        if (uptodate || bounce.dir === "TO_DEVICE") finishBlockBounce(this.domain, bounce);
        // kmap.ts's finishBlockBounce always copies a READ back; skipping the copy means freeing
        // the page here (its bookkeeping entry for this pfn is overwritten on the page's next use).
        else this.domain.free(bounce.page.pfn * m.pageSize);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }

  /**
   * blk_rq_map_sg: walks the bio_vecs, growing the current segment while BIOVEC_PHYS_MERGEABLE
   * holds and the device's max segment size and segment boundary allow.
   */
  private merge(bvecs: BioVec[]): { address: number; length: number }[] {
    const m = this.domain.machine;
    const device = this.device;
    const segments: { address: number; length: number }[] = [];
    const frames = new Map<number, number | undefined>();
    let prev: BioVec | undefined;
    for (const bvec of bvecs) {
      const current = segments[segments.length - 1];
      if (prev && current) {
        const verdict = this.mergeable(prev, bvec, current, frames);
        m.emit("block", `merge bio_vec at ${hex(prev.address)}+${prev.length} with ${hex(bvec.address)}: ${verdict.reason}`, {
          domain: this.domain.name,
          device: device.name,
          address: bvec.address,
          bytes: bvec.length,
          code: verdict.merge ? "merged" : "not-merged",
        });
        if (verdict.merge) {
          current.length += bvec.length;
          prev = bvec;
          continue;
        }
      }
      segments.push({ address: bvec.address, length: bvec.length });
      prev = bvec;
    }
    return segments;
  }

  /**
   * BIOVEC_PHYS_MERGEABLE as the xenified asm/io.h defines it: pseudo-physically contiguous and,
   * under Xen, machine-contiguous too (xen_biovec_phys_mergeable: mfn1 == mfn2 || mfn1 + 1 == mfn2,
   * drivers/xen/biomerge.c); then the queue's max segment size and segment boundary.
   */
  private mergeable(
    prev: BioVec,
    next: BioVec,
    current: { address: number; length: number },
    frames: Map<number, number | undefined>,
  ): { merge: boolean; reason: string } {
    if (prev.address + prev.length !== next.address) {
      return { merge: false, reason: "not pseudo-physically contiguous (__BIOVEC_PHYS_MERGEABLE fails)" };
    }
    if (this.xenMergeCheck) {
      const mfn1 = this.frameOf(prev.pfn, frames);
      const mfn2 = this.frameOf(next.pfn, frames);
      if (mfn1 === undefined || mfn2 === undefined) {
        return {
          merge: false,
          reason: `Xen check: the machine frame of pfn ${hex(mfn1 === undefined ? prev.pfn : next.pfn)} is not known to ${this.domain.name} (a tagged foreign page): not merged`,
        };
      }
      if (!(mfn1 === mfn2 || mfn1 + 1 === mfn2)) {
        return {
          merge: false,
          reason: `Xen check: pfn ${hex(prev.pfn)} → mfn ${hex(mfn1)} but pfn ${hex(next.pfn)} → mfn ${hex(mfn2)}, not machine-contiguous (xen_biovec_phys_mergeable fails)`,
        };
      }
    }
    if (current.length + next.length > this.device.maxSegmentSize) {
      return { merge: false, reason: `segment would exceed the max segment size (${formatSize(this.device.maxSegmentSize)})` };
    }
    const boundary = this.device.segmentBoundary;
    if (boundary !== Infinity && Math.floor(current.address / boundary) !== Math.floor((next.address + next.length - 1) / boundary)) {
      return { merge: false, reason: `segment would cross a ${formatSize(boundary)} segment boundary` };
    }
    const contiguity = this.xenMergeCheck
      ? "pseudo-physically and machine-contiguous"
      : `pseudo-physically contiguous (Xen check off: machine frames not consulted)`;
    return { merge: true, reason: `${contiguity}: merged` };
  }

  /**
   * pfn_to_mfn for the merge check, charged as the domain pays for it: free in P==M (identity),
   * a p2m read in P2M, a hypercall in VP (machine addresses are hidden).
   */
  private frameOf(pfn: number, frames: Map<number, number | undefined>): number | undefined {
    if (frames.has(pfn)) return frames.get(pfn);
    const d = this.domain;
    const m = d.machine;
    const state = d.pageState.get(pfn);
    const mfn = state?.flags.has("foreign-tagged") ? undefined : d.pfnToMfn(pfn);
    frames.set(pfn, mfn);
    if (mfn === undefined || d.mode === "P==M") return mfn;
    const where = { domain: d.name, device: this.device.name, address: pfn * m.pageSize, machineAddress: mfn * m.pageSize };
    if (d.mode === "P2M")
      m.emit("translate", () => `xen_biovec_phys_mergeable: p2m read pfn ${hex(pfn)} → mfn ${hex(mfn)}`, {
        ...where,
        cost: m.costs.p2mRead,
      });
    else
      m.emit(
        "hypercall",
        () => `xen_biovec_phys_mergeable: hypercall to learn the machine frame of pfn ${hex(pfn)} → mfn ${hex(mfn)} (VP)`,
        { ...where, cost: m.costs.hypercall },
      );
    return mfn;
  }

  /**
   * nommu_map_sg on a xenified kernel: map each segment's first page only (so the DMA-API, and
   * dma-debug, see a valid single-page mapping) and hand the device the whole segment length.
   */
  private mapFirstFrames(internal: Internal, dir: Direction): RequestMapping {
    const m = this.domain.machine;
    const pageSize = m.pageSize;
    const segments: SgSegment[] = [];
    for (const s of internal.request.segments) {
      const firstChunk = Math.min(s.length, pageSize - (s.address % pageSize));
      const bus = this.dma.mapSingle(s.address, firstChunk, dir);
      if (this.dma.mappingError(bus)) {
        for (const done of internal.singles.splice(0)) this.dma.unmapSingle(done.busAddress, done.size, dir);
        return { count: 0, segments: [] };
      }
      internal.singles.push({ busAddress: bus, size: firstChunk });
      if (firstChunk < s.length) {
        m.emit(
          "block",
          () =>
            `nommu_map_sg: segment at ${hex(s.address)} is ${formatSize(s.length)} but only its first page was translated (bus ${hex(bus)}); the device will run ${formatSize(s.length)} from there`,
          { domain: this.domain.name, device: this.device.name, address: s.address, busAddress: bus, bytes: s.length, severity: "warning" },
        );
      }
      segments.push({ busAddress: bus, length: s.length });
    }
    return { count: segments.length, segments };
  }
}

function clone(request: BlockRequest): BlockRequest {
  return { ...request, bvecs: request.bvecs.map((v) => ({ ...v })), segments: request.segments.map((s) => ({ ...s })) };
}

/**
 * Creates the request queue of a block device for the driver domain that owns `dma`.
 * @example
 * const q = createRequestQueue(dom0.dmaApi(disk, "p2m"), { xenMergeCheck: true });
 * const rq = q.submit("write", 0, [{ address: buf, length: 8192 }]);
 * const { segments } = q.map(rq); // the device DMAs here
 * q.complete(rq);
 */
export function createRequestQueue(dma: DmaApi, options?: RequestQueueOptions): RequestQueue {
  return new RequestQueue(dma, options);
}
