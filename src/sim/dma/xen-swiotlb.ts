import { ownerOf } from "../frames.js";
import { makeMachineContiguous } from "../exchange.js";
import { formatSize, hex } from "../units.js";
import type { BackendContext, CoherentResult, MapResult, PhysRange } from "./backend.js";
import { SwiotlbBackend, type Translation } from "./swiotlb.js";
import { firstDiscontinuity, lookupFrames, naturalVia } from "./translate.js";

/**
 * Xen's swiotlb (drivers/xen/swiotlb-xen.c, Konrad Rzeszutek Wilk 2010; in 2006 the xenified
 * copy arch/i386/kernel/swiotlb.c, Keir Fraser 2005): the swiotlb for a PV domain whose
 * pseudo-physical pages are not machine-contiguous.
 *
 * Translation: xen_phys_to_bus = pfn_to_bfn(pfn) << PAGE_SHIFT | offset, one p2m read per page in
 * a P2M domain, one hypercall per page in a VP domain (machine addresses are hidden there).
 * xen_swiotlb_map_page maps directly iff `dma_capable && !range_straddles_page_boundary &&
 * !swiotlb_force`; otherwise it bounces through the pool, whose 256 KiB segments
 * xen_swiotlb_fixup made machine-contiguous below 4 GiB — so every bounce buffer is. If the bounce
 * address is still beyond the mask, the slots are released (DMA_ATTR_SKIP_CPU_SYNC) and the map
 * fails. Unmap and sync copy only when the bus address is in the pool (is_xen_swiotlb_buffer:
 * bfn → local pfn, trusted only if it is this domain's own page).
 *
 * Modern Linux vs 2006 (besides the copy and full-pool rules of generic swiotlb, which apply
 * here too, with the xenified "PCI-DMA:" prefix on 2006 messages):
 * - swiotlb=force: the 2006 Xen copy's "'force' enables the swiotlb, but doesn't force its use
 *   for every DMA like it does on native Linux" — era 2006 ignores `swiotlb.force` here; modern
 *   is_swiotlb_force_bounce bounces everything.
 * - dma_alloc_coherent: 2006 (arch/xen/i386/kernel/pci-dma.c, later pci-dma-xen.c) always called xen_create_contiguous_region;
 *   modern xen_swiotlb_alloc_coherent only when the pages are beyond the coherent mask or
 *   straddle machine frames.
 * - The 2006 copy had no "bounce buffer not DMA'ble" check (its pool sat below 2^31); the
 *   simulator applies modern's release-and-fail in both eras rather than hand a device an address
 *   it cannot emit.
 * - map_sg: the 2006 Xen copy's swiotlb_map_sg tested only address_needs_mapping, not
 *   straddling (its callers' entries were single pages), and so does era "2006" here: a
 *   multi-page entry over machine-discontiguous frames is handed to the device as one bus
 *   address, and the device's access runs into whatever frames follow the first. Modern
 *   xen_swiotlb_map_sg maps each entry with xen_swiotlb_map_page's full test.
 * Simplifications: xen_destroy_contiguous_region at free is not modelled (the frames stay
 * contiguous); 2006 swiotlb_map_page also tested only the mask, but the backend interface does
 * not tell map_page from map_single, so both get map_single's straddle test.
 */
export class XenSwiotlbBackend extends SwiotlbBackend {
  /** The backend's name. */
  override readonly name = "xen-swiotlb";
  protected override readonly messagePrefix = "PCI-DMA:";

  constructor(ctx: BackendContext) {
    super(ctx, "xen-swiotlb");
  }

  /** xen_phys_to_dma through the p2m (P2M, P==M) or Xen (VP), and the bounce decision. */
  protected override translate(range: PhysRange, inSg: boolean): Translation {
    const { machine, domain, device } = this.ctx;
    const pageSize = machine.pageSize;
    const frames = lookupFrames(this.ctx, range.gpa, range.length, naturalVia(this.ctx));
    if (typeof frames === "string") return { failure: frames };
    const busAddress = frames[0]! * pageSize + (range.gpa % pageSize);
    // 2006 swiotlb_map_sg tested address_needs_mapping only: a straddling entry went to the
    // device as one bus address, whose later pages are other machine frames.
    const gap = inSg && this.era === "2006" ? -1 : firstDiscontinuity(frames);
    if (gap >= 0) {
      const pfn = Math.floor(range.gpa / pageSize) + gap;
      return {
        busAddress,
        bounce: `range_straddles_page_boundary: ${domain.name} pfn ${hex(pfn - 1)} → mfn ${hex(frames[gap - 1]!)} but pfn ${hex(pfn)} → mfn ${hex(frames[gap]!)}`,
      };
    }
    if (!this.dmaCapable(busAddress, range.length)) {
      return {
        busAddress,
        bounce: `dma_capable fails: bus ${hex(busAddress)}+${range.length} is beyond ${device.name}'s ${device.dmaMask}-bit mask`,
      };
    }
    if (machine.swiotlbConfig.force && this.era === "modern") return { busAddress, bounce: "swiotlb=force bounces every mapping" };
    return { busAddress };
  }

  /** is_xen_swiotlb_buffer: bus frame → this domain's pfn (M2P), then is that pfn in the pool? */
  protected override poolSlot(busAddress: number): number | undefined {
    const { machine, domain } = this.ctx;
    const mfn = Math.floor(busAddress / machine.pageSize);
    if (mfn >= machine.frameCount || machine.store.owner(mfn) !== ownerOf(domain.domid)) return undefined;
    const pfn = machine.store.pfnOf(mfn);
    if (pfn === undefined) return undefined;
    return this.pool.slotOf(pfn * machine.pageSize + (busAddress % machine.pageSize));
  }

  /** xen_swiotlb_map_page: swiotlb_tbl_unmap_single(..., DMA_ATTR_SKIP_CPU_SYNC) and DMA_MAPPING_ERROR. */
  protected override bounceUnreachable(index: number, nslots: number, busAddress: number, range: PhysRange): MapResult<undefined> {
    const device = this.ctx.device;
    this.pool.release(index, nslots);
    return {
      ok: false,
      reason: `the bounce buffer at bus ${hex(busAddress)}+${range.length} is not dma_capable for ${device.name}'s ${device.dmaMask}-bit mask either (the pool ends at ${hex(this.pool.lastBusAddress)})`,
    };
  }

  /**
   * Pages from the allocator, then xen_create_contiguous_region(phys, order, fls64(dma_mask)) —
   * modern only when they are beyond the mask or straddle machine frames, 2006 always. The
   * exchange returns the new machine address, so no further translation is charged.
   */
  override allocCoherent(size: number): CoherentResult<undefined> {
    const { machine, domain, device } = this.ctx;
    const gpa = this.allocCoherentPages(size);
    if (gpa === undefined) return { ok: false, reason: `${domain.name} has no free memory for ${formatSize(size)}` };
    const pageSize = machine.pageSize;
    const bytes = 2 ** Math.ceil(Math.log2(Math.max(size, pageSize)));
    const pages = bytes / pageSize;
    const pfn = gpa / pageSize;
    const frames = lookupFrames(this.ctx, gpa, bytes, naturalVia(this.ctx)) as number[];
    const reachable = frames[0]! * pageSize + bytes <= device.dmaLimit;
    if (this.era === "2006" || !reachable || firstDiscontinuity(frames) >= 0) {
      // 2006 pci-dma.c: "Hardcode 31 address bits for now: aacraid limitation."
      const bits = this.era === "2006" ? 31 : device.dmaMask;
      if (!makeMachineContiguous(domain, pfn, pages, bits)) {
        domain.free(gpa);
        return {
          ok: false,
          reason: `xen_create_contiguous_region found no machine-contiguous ${formatSize(bytes)} below ${this.era === "2006" ? "2^31 (hardcoded)" : `the ${device.dmaMask}-bit mask`}`,
        };
      }
    }
    return { ok: true, cpuAddress: gpa, busAddress: domain.pfnToMfn(pfn)! * pageSize };
  }
}
