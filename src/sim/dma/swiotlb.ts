import { SimError } from "../errors.js";
import { formatSize, hex } from "../units.js";
import { IO_TLB_OVERFLOW, IO_TLB_SEGMENT_BYTES, IO_TLB_SIZE, type SwiotlbKind, type SwiotlbPool } from "../swiotlb-pool.js";
import { swiotlbPoolFor } from "../swiotlb-setup.js";
import type { BackendContext, CoherentResult, Direction, MapResult, PhysRange, SgResult, SgSegment } from "./backend.js";
import { EntryWiseBackend } from "./base.js";

/** Where a buffer is for the device without bouncing, and why it must bounce (if it must). */
export type Translation = { busAddress: number; bounce?: string } | { failure: string };

const DIR_NAME: Record<Direction, string> = {
  TO_DEVICE: "DMA_TO_DEVICE",
  FROM_DEVICE: "DMA_FROM_DEVICE",
  BIDIRECTIONAL: "DMA_BIDIRECTIONAL",
};

/** Coherent memory that came from the bounce pool (2006's fallback): its first slot. */
interface PoolCoherent {
  poolSlot: number;
}

/**
 * Generic swiotlb, the software IOMMU of lib/swiotlb.c (2006) and kernel/dma/swiotlb.c with
 * dma-direct (modern): the bus address is phys_to_dma(guest-physical address) — it has no idea of
 * a p2m. A buffer is bounced through the pool iff its end is beyond the device's mask or
 * `swiotlb.force` is set (2006 swiotlb_map_single: `!address_needs_mapping(...) && !swiotlb_force`;
 * modern dma_direct_map_page: `is_swiotlb_force_bounce || !dma_capable`).
 *
 * Right in P==M, where guest-physical == machine. In a P2M or VP domain it hands the device
 * pseudo-physical addresses — the pool's too — and the DMA lands in whatever machine frame has
 * that number: the thread's point, shown by the device's stray/unmapped-DMA reports.
 *
 * Copies (swiotlb_bounce / memcpy, traced as `bounce-copy`):
 * - map: era "2006" copies into the bounce buffer only for TO_DEVICE and BIDIRECTIONAL
 *   (`if (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL) memcpy(...)`); modern
 *   swiotlb_tbl_map_single always copies, so a FROM_DEVICE bounce starts with the original's
 *   contents and a partial device write cannot clobber the rest with stale pool bytes.
 * - unmap and sync-for-cpu: back to the original for FROM_DEVICE and BIDIRECTIONAL.
 * - sync-for-device: to the bounce buffer for TO_DEVICE and BIDIRECTIONAL. Partial syncs use
 *   the offset, through io_tlb_orig_addr of the slot the address falls in.
 *
 * A full pool: modern returns DMA_MAPPING_ERROR after "swiotlb buffer is full (sz: %zd bytes),
 * total %lu (slots), used %lu (slots)". 2006 swiotlb_full prints "DMA: Out of SW-IOMMU space for
 * %zu bytes at device %s" and map_single returns the 32 KiB io_tlb_overflow_buffer (which
 * `mappingError()` recognises, as swiotlb_dma_mapping_error did) — or panics above 32 KiB:
 * "DMA: Memory would be corrupted" (FROM_DEVICE, BIDIRECTIONAL) or "DMA: Random memory would be
 * DMAed" (TO_DEVICE); map_sg does not panic and returns 0. No bounce can exceed 256 KiB.
 *
 * Simplifications: 2.6.16's address_needs_mapping tested only the buffer's start against the mask;
 * later kernels (and the simulator, in both eras) test its end. Modern's min_align_mask and
 * per-CPU areas are not modelled.
 */
export class SwiotlbBackend extends EntryWiseBackend<PoolCoherent | undefined> {
  readonly name: "swiotlb" | "xen-swiotlb" = "swiotlb";
  /** The domain's bounce pool for this kind of swiotlb. */
  readonly pool: SwiotlbPool<unknown>;
  /** Prefix of the 2006 printk/panic texts: "DMA:" in lib/swiotlb.c. */
  protected readonly messagePrefix: string = "DMA:";

  constructor(ctx: BackendContext, kind: SwiotlbKind = "swiotlb") {
    super(ctx);
    this.pool = swiotlbPoolFor(ctx.domain, kind);
  }

  protected get era() {
    return this.ctx.machine.era;
  }

  /** swiotlb_max_mapping_size(): IO_TLB_SIZE × IO_TLB_SEGSIZE = 256 KiB. */
  override maxMappingSize(): number {
    return IO_TLB_SEGMENT_BYTES;
  }

  /** swiotlb_dma_supported: `virt_to_bus(io_tlb_end - 1) <= mask` — the whole pool must be reachable. */
  override dmaSupported(maskBits: number): boolean {
    return this.pool.lastBusAddress < 2 ** maskBits;
  }

  /** 2006 swiotlb_dma_mapping_error: the overflow buffer's address is the failure value. */
  isMappingError(busAddress: number): boolean {
    return this.pool.overflow !== null && busAddress === this.pool.overflow.busAddress;
  }

  /** phys_to_dma: the guest-physical address, unchanged. `inSg`: one scatterlist entry. */
  protected translate(range: PhysRange, _inSg: boolean): Translation {
    const { machine, device } = this.ctx;
    if (machine.swiotlbConfig.force) return { busAddress: range.gpa, bounce: "swiotlb=force bounces every mapping" };
    if (!this.dmaCapable(range.gpa, range.length)) {
      return {
        busAddress: range.gpa,
        bounce: `address_needs_mapping: ${hex(range.gpa)}+${range.length} is beyond ${device.name}'s ${device.dmaMask}-bit mask`,
      };
    }
    return { busAddress: range.gpa };
  }

  /** The pool slot a bus address falls in (is_swiotlb_buffer: dma_to_phys is the identity here). */
  protected poolSlot(busAddress: number): number | undefined {
    return this.pool.slotOf(busAddress);
  }

  /** map_page / map_single: direct when the device can reach the buffer, else a bounce. */
  map(range: PhysRange, dir: Direction): MapResult<undefined> {
    return this.mapOne(range, dir, false);
  }

  /** map_page / map_single, or one scatterlist entry (`inSg`: no panic, no overflow buffer). */
  protected mapOne(range: PhysRange, dir: Direction, inSg: boolean): MapResult<undefined> {
    const t = this.translate(range, inSg);
    if ("failure" in t) return { ok: false, reason: t.failure };
    if (t.bounce === undefined) return { ok: true, busAddress: t.busAddress };
    return this.bounce(range, dir, t.bounce, inSg);
  }

  /** swiotlb_tbl_map_single / map_single: take slots, record the original, copy by era, check the result. */
  private bounce(range: PhysRange, dir: Direction, why: string, inSg: boolean): MapResult<undefined> {
    const { machine, domain, device } = this.ctx;
    const pool = this.pool;
    const nslots = Math.ceil(range.length / IO_TLB_SIZE);
    // Page-aligned bounce buffers for mappings bigger than a page (2006: size > PAGE_SIZE;
    // modern: alloc_size >= PAGE_SIZE).
    const pageAligned = this.era === "2006" ? range.length > machine.pageSize : range.length >= machine.pageSize;
    const stride = pageAligned ? machine.pageSize / IO_TLB_SIZE : 1;
    const index = pool.find(nslots, stride, this.era === "2006" ? undefined : this.spansBoundary());
    if (index < 0) return this.poolFull(range, dir, inSg);
    pool.occupy(index, nslots, range.gpa, range.length);
    const busAddress = pool.slotBus(index);
    machine.emit(
      "bounce",
      () =>
        `swiotlb_bounced: ${device.name}: ${formatSize(range.length)} at ${hex(range.gpa)} bounces through slots ${index}-${index + nslots - 1} (bus ${hex(busAddress)}): ${why}`,
      { domain: domain.name, device: device.name, address: range.gpa, busAddress, bytes: range.length },
    );
    if (this.era === "modern" || dir !== "FROM_DEVICE") {
      try {
        this.bounceCopy(true, range.gpa, pool.slotAddress(index), busAddress, range.length);
      } catch (error) {
        pool.release(index, nslots);
        throw error;
      }
    }
    if (!this.dmaCapable(busAddress, range.length)) return this.bounceUnreachable(index, nslots, busAddress, range, inSg);
    return { ok: true, busAddress };
  }

  /**
   * The bounce buffer itself is beyond the mask. 2006 swiotlb_map_single:
   * panic("map_single: bounce buffer is not DMA'ble") (its map_sg did not check). Modern
   * swiotlb_map: unmap with DMA_ATTR_SKIP_CPU_SYNC, dev_WARN_ONCE "swiotlb addr %pad+%zu overflow
   * (mask %llx, bus limit %llx)." and DMA_MAPPING_ERROR.
   */
  protected bounceUnreachable(index: number, nslots: number, busAddress: number, range: PhysRange, inSg: boolean): MapResult<undefined> {
    const { machine, domain, device } = this.ctx;
    if (this.era === "2006") {
      if (inSg) return { ok: true, busAddress };
      machine.panic("map_single: bounce buffer is not DMA'ble", { domain: domain.name, device: device.name, busAddress });
    }
    this.pool.release(index, nslots);
    return {
      ok: false,
      reason: `swiotlb addr ${hex(busAddress)}+${range.length} overflow (mask ${hex(device.dmaLimit - 1)}, bus limit 0)`,
    };
  }

  /**
   * Modern only: iommu_is_span_boundary against the device's segment boundary, counted from the
   * pool's phys_to_dma start (2.6.16's map_single had no boundary check; it came in 2008).
   */
  private spansBoundary(): ((index: number, nslots: number) => boolean) | undefined {
    const boundary = this.ctx.device.segmentBoundary;
    if (boundary === Infinity) return undefined;
    const maxSlots = boundary / IO_TLB_SIZE;
    const offsetSlots = (this.pool.address % boundary) / IO_TLB_SIZE;
    return (index, nslots) => ((offsetSlots + index) % maxSlots) + nslots > maxSlots;
  }

  /** No free run of slots: modern "swiotlb buffer is full"; 2006 swiotlb_full, the overflow buffer or a panic. */
  private poolFull(range: PhysRange, dir: Direction, inSg: boolean): MapResult<undefined> {
    const { machine, domain, device } = this.ctx;
    const pool = this.pool;
    const tooBig =
      range.length > IO_TLB_SEGMENT_BYTES ? ` (no bounce buffer can exceed ${formatSize(IO_TLB_SEGMENT_BYTES)}: 128 slots of 2 KiB)` : "";
    if (this.era === "modern") {
      return {
        ok: false,
        reason: `swiotlb buffer is full (sz: ${range.length} bytes), total ${pool.nslabs} (slots), used ${pool.usedSlots} (slots)${tooBig}`,
      };
    }
    const printk = `${this.messagePrefix} Out of SW-IOMMU space for ${range.length} bytes at device ${device.name}${tooBig}`;
    if (inSg) return { ok: false, reason: printk };
    if (range.length > IO_TLB_OVERFLOW) {
      machine.emit("mapping-error", printk, { domain: domain.name, device: device.name, address: range.gpa, bytes: range.length });
      const corrupt = dir === "FROM_DEVICE" || dir === "BIDIRECTIONAL";
      machine.panic(`${this.messagePrefix} ${corrupt ? "Memory would be corrupted" : "Random memory would be DMAed"}`, {
        domain: domain.name,
        device: device.name,
        bytes: range.length,
      });
    }
    return {
      ok: false,
      reason: `${printk}; map_single returns the 32 KiB io_tlb_overflow_buffer`,
      errorAddress: pool.overflow!.busAddress,
    };
  }

  /**
   * unmap_single: only an address inside the pool is a bounce (is_swiotlb_buffer); copy back for
   * FROM_DEVICE/BIDIRECTIONAL unless DMA_ATTR_SKIP_CPU_SYNC, then free the slots.
   */
  unmap(busAddress: number, size: number, dir: Direction, _state: undefined, skipCpuSync = false): void {
    const index = this.poolSlot(busAddress);
    if (index === undefined) return; // a direct mapping: nothing to undo
    const orig = this.pool.original(index);
    if (!skipCpuSync && orig !== undefined && (dir === "FROM_DEVICE" || dir === "BIDIRECTIONAL")) {
      this.bounceCopy(false, orig, this.pool.slotAddress(index), busAddress, size);
    }
    this.pool.release(index, this.pool.slotsToRelease(index, size, this.era));
  }

  /** sync_single_for_cpu: bounce → original for FROM_DEVICE and BIDIRECTIONAL; nothing for TO_DEVICE. */
  override syncForCpu(busAddress: number, offset: number, size: number, dir: Direction): void {
    if (dir === "FROM_DEVICE" || dir === "BIDIRECTIONAL") this.syncPart(busAddress + offset, size, false);
  }

  /** sync_single_for_device: original → bounce for TO_DEVICE and BIDIRECTIONAL; nothing for FROM_DEVICE. */
  override syncForDevice(busAddress: number, offset: number, size: number, dir: Direction): void {
    if (dir === "TO_DEVICE" || dir === "BIDIRECTIONAL") this.syncPart(busAddress + offset, size, true);
  }

  /** sync_single: the original is io_tlb_orig_addr of the slot plus the offset inside that slot. */
  private syncPart(at: number, size: number, toDevice: boolean): void {
    const index = this.poolSlot(at);
    if (index === undefined || size === 0) return;
    const orig = this.pool.original(index);
    if (orig === undefined) return;
    const inner = at - this.pool.slotBus(index);
    this.bounceCopy(toDevice, orig + inner, this.pool.slotAddress(index) + inner, at, size);
  }

  /**
   * Per entry, never merged (swiotlb_map_sg / xen_swiotlb_map_sg return nelems). On failure the
   * entries already mapped are unmapped and 0 returned: modern with DMA_ATTR_SKIP_CPU_SYNC; 2006
   * swiotlb_unmap_sg had no such attribute and copied FROM_DEVICE bounces back — over the
   * original, with pool contents the device never wrote.
   */
  override mapSg(entries: PhysRange[], dir: Direction): SgResult<undefined> {
    const segments: SgSegment[] = [];
    for (const entry of entries) {
      const result = this.mapOne(entry, dir, true);
      if (!result.ok) {
        for (const s of segments) this.unmap(s.busAddress, s.length, dir, undefined, this.era === "modern");
        return { ok: false, reason: result.reason };
      }
      segments.push({ busAddress: result.busAddress, length: entry.length });
    }
    return { ok: true, segments };
  }

  /**
   * 2006 swiotlb_alloc_coherent: pages from the allocator; if the device cannot reach them, a
   * FROM_DEVICE-style slot run from the pool instead (map_single(hwdev, NULL, size, ...)), zeroed;
   * if even that is out of reach, panic("swiotlb_alloc_coherent: allocated memory is out of range
   * for device"). Modern generic swiotlb allocates through dma_direct_alloc, which never takes
   * pool slots: memory the device cannot reach is a NULL return (the simulator's allocator has no
   * GFP_DMA/GFP_DMA32 zones to retry in).
   */
  allocCoherent(size: number): CoherentResult<PoolCoherent | undefined> {
    const { machine, domain, device } = this.ctx;
    let gpa = this.allocCoherentPages(size);
    if (gpa !== undefined && !this.dmaCapable(gpa, size)) {
      domain.free(gpa);
      if (this.era === "modern")
        return {
          ok: false,
          reason: `dma_direct_alloc: the free pages at ${hex(gpa)} are beyond ${device.name}'s ${device.dmaMask}-bit coherent mask`,
        };
      gpa = undefined;
    }
    if (gpa !== undefined) return { ok: true, cpuAddress: gpa, busAddress: gpa };
    if (this.era === "modern") return { ok: false, reason: `${domain.name} has no free memory for ${formatSize(size)}` };
    const nslots = Math.ceil(size / IO_TLB_SIZE);
    const stride = size > machine.pageSize ? machine.pageSize / IO_TLB_SIZE : 1;
    const index = this.pool.find(nslots, stride);
    if (index < 0) return { ok: false, reason: `map_single found no ${nslots} free slots for the coherent fallback` };
    this.pool.occupy(index, nslots, null, size);
    const cpuAddress = this.pool.slotAddress(index);
    domain.write(cpuAddress, new Uint8Array(size));
    const busAddress = this.pool.slotBus(index);
    if (!this.dmaCapable(busAddress, size)) {
      machine.emit("mapping-error", () => `hwdev DMA mask = ${hex(device.dmaLimit - 1)}, dev_addr = ${hex(busAddress)}`, {
        domain: domain.name,
        device: device.name,
        busAddress,
      });
      machine.panic("swiotlb_alloc_coherent: allocated memory is out of range for device", {
        domain: domain.name,
        device: device.name,
        busAddress,
      });
    }
    return { ok: true, cpuAddress, busAddress, state: { poolSlot: index } };
  }

  /** swiotlb_free_coherent: slots go back to the pool (as a DMA_TO_DEVICE unmap: no copy), pages to the allocator. */
  override freeCoherent(cpuAddress: number, size: number, _busAddress: number, state: PoolCoherent | undefined): void {
    const slot = state?.poolSlot;
    if (slot === undefined) this.ctx.domain.free(cpuAddress);
    else this.pool.release(slot, this.pool.slotsToRelease(slot, size, this.era));
  }

  /**
   * One swiotlb_bounce: a CPU memcpy between the original buffer and its bounce buffer, both in
   * the driver domain's pseudo-physical space, page by page through its p2m (so neither needs to
   * be machine-contiguous). Traced with cost bounceBase + memcpyPerByte × bytes.
   */
  protected bounceCopy(toDevice: boolean, orig: number, bounce: number, busAddress: number, length: number): void {
    const { machine, domain, device } = this.ctx;
    if (toDevice) this.copyGuest(orig, bounce, length);
    else this.copyGuest(bounce, orig, length);
    const what = () =>
      toDevice ? `${hex(orig)} into the bounce buffer at ${hex(bounce)}` : `the bounce buffer at ${hex(bounce)} back to ${hex(orig)}`;
    machine.emit(
      "bounce-copy",
      () => `swiotlb_bounce (${DIR_NAME[toDevice ? "TO_DEVICE" : "FROM_DEVICE"]}): copied ${formatSize(length)} from ${what()}`,
      {
        domain: domain.name,
        device: device.name,
        address: orig,
        busAddress,
        bytes: length,
        cost: machine.costs.bounceBase + machine.costs.memcpyPerByte * length,
      },
    );
  }

  /** Frame-to-frame copy without intermediate buffers; never-written frames read as zeros. */
  private copyGuest(from: number, to: number, length: number): void {
    const store = this.ctx.machine.store;
    const pageSize = this.ctx.machine.pageSize;
    let done = 0;
    while (done < length) {
      const src = from + done;
      const dst = to + done;
      const srcOffset = src % pageSize;
      const dstOffset = dst % pageSize;
      const chunk = Math.min(length - done, pageSize - srcOffset, pageSize - dstOffset);
      const srcFrame = store.peek(this.cpuFrame(src));
      const dstMfn = this.cpuFrame(dst);
      if (!srcFrame) store.peek(dstMfn)?.fill(0, dstOffset, dstOffset + chunk);
      // Whole frames (page-aligned bounce buffers) copy without a subarray view: half the cost.
      else if (chunk === pageSize) store.frameForWrite(dstMfn).set(srcFrame);
      else store.frameForWrite(dstMfn).set(srcFrame.subarray(srcOffset, srcOffset + chunk), dstOffset);
      done += chunk;
    }
  }

  /** The machine frame the CPU reaches at a guest-physical address, refusing what kmap could not map. */
  private cpuFrame(gpa: number): number {
    const domain = this.ctx.domain;
    const pfn = Math.floor(gpa / this.ctx.machine.pageSize);
    const state = domain.pageState.size === 0 ? undefined : domain.pageState.get(pfn);
    if (state?.flags.has("foreign-tagged")) {
      throw new SimError(
        "KMAP_FAILED",
        `${domain.name}: swiotlb cannot copy pfn ${hex(pfn)}: it is a tagged foreign page (grant handle ${state.private}) with no mapping in ${domain.name}'s address space, so kmap() has nothing to map`,
        "address",
      );
    }
    const mfn = domain.pfnToMfn(pfn);
    if (mfn === undefined) {
      throw new SimError(
        "INVALID_ADDRESS",
        `${domain.name}: swiotlb cannot copy guest-physical ${hex(gpa)}: pfn ${hex(pfn)} is not populated`,
        "address",
      );
    }
    return mfn;
  }
}
