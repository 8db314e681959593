import { SimError } from "../errors.js";
import { hex } from "../units.js";
import { makeMachineContiguous } from "../exchange.js";
import type { BackendContext, CoherentResult, Direction, MapResult, PhysRange } from "./backend.js";
import { EntryWiseBackend } from "./base.js";
import { type TranslateVia, firstDiscontinuity, lookupFrames } from "./translate.js";

/**
 * A P2M driver domain that reads its own p2m table: bus address = p2m[pfn] << PAGE_SHIFT | offset,
 * as the xenified arch/xen/i386/kernel/pci-dma.c of January 2006 did (virt_to_bus =
 * phys_to_machine(__pa(x)); renamed arch/i386/kernel/pci-dma-xen.c on 2006-01-30). It cannot
 * bounce, so a buffer whose pages are not machine-contiguous, or that lies beyond the mask,
 * cannot be mapped: era "2006" hits IOMMU_BUG_ON ("Fatal DMA error! Please use 'swiotlb=force'",
 * then BUG), era "modern" returns DMA_MAPPING_ERROR. Drivers must split such buffers (mapSg per page).
 */
export class P2mBackend extends EntryWiseBackend {
  readonly name: "p2m" | "hypercall" = "p2m";

  /** @param via how a page's machine frame is found: "p2m" reads the table, "hypercall" asks Xen. */
  constructor(
    ctx: BackendContext,
    protected readonly via: TranslateVia = "p2m",
  ) {
    super(ctx);
    if (via === "p2m" && ctx.domain.mode === "VP") {
      throw new SimError(
        "BACKEND_UNSUITABLE",
        `the p2m backend reads the domain's p2m table, but ${ctx.domain.name} is VP: its machine addresses are hidden (use "hypercall", "xen-swiotlb" or "iommu")`,
        "backend",
      );
    }
    // Jan 2006 swiotlb.c swiotlb_init: "Domain 0 always has a swiotlb" unless booted swiotlb=off.
    if (via === "p2m" && ctx.machine.era === "2006" && ctx.domain.domid === 0) {
      ctx.machine.emit(
        "setup",
        () =>
          `${ctx.domain.name} without a swiotlb: in 2006 "Domain 0 always has a swiotlb" unless booted with swiotlb=off, so this is that dom0; pci-dma.c maps through the p2m alone (the "xen-swiotlb" backend is dom0's default)`,
        { domain: ctx.domain.name, device: ctx.device.name },
      );
    }
  }

  map(range: PhysRange, _dir: Direction): MapResult<undefined> {
    return this.translate(range, false);
  }

  /**
   * The January 2006 dma_map_sg without swiotlb set each entry's dma_address to page_to_phys (a
   * machine address in the xenified kernel) + offset and tested only address_needs_mapping of
   * that first byte: a multi-page entry over machine-discontiguous frames went to the device as
   * one bus address, and its access ran on into whatever frames follow the first. Only
   * dma_map_single tested range_straddles_page_boundary. (The Xen merge check kept such entries
   * from being built.) Era "modern" and the hypercall backend test every entry in full.
   */
  protected override mapSgEntry(entry: PhysRange, dir: Direction): MapResult<undefined> {
    return this.via === "p2m" && this.ctx.machine.era === "2006" ? this.translate(entry, true) : this.map(entry, dir);
  }

  /** `firstByteOnly`: 2006 map_sg's tests (the mask on the first byte, no straddling test). */
  private translate(range: PhysRange, firstByteOnly: boolean): MapResult<undefined> {
    const pageSize = this.ctx.machine.pageSize;
    const frames = lookupFrames(this.ctx, range.gpa, range.length, this.via);
    if (typeof frames === "string") return { ok: false, reason: frames };
    const busAddress = frames[0]! * pageSize + (range.gpa % pageSize);
    if (firstByteOnly) {
      if (this.dmaCapable(busAddress, 1)) return { ok: true, busAddress };
      const { name, dmaMask } = this.ctx.device;
      return this.fail(`address_needs_mapping: dma_address ${hex(busAddress)} is beyond ${name}'s ${dmaMask}-bit mask`);
    }
    const gap = firstDiscontinuity(frames);
    if (gap >= 0) {
      const pfn = Math.floor(range.gpa / pageSize) + gap;
      return this.fail(
        `range_straddles_page_boundary: pfn ${hex(pfn - 1)} → mfn ${hex(frames[gap - 1]!)} but pfn ${hex(pfn)} → mfn ${hex(frames[gap]!)}; the buffer is pseudo-physically contiguous but not machine-contiguous`,
      );
    }
    if (!this.dmaCapable(busAddress, range.length))
      return this.fail(`address_needs_mapping: ${this.overflowReason(busAddress, range.length)}`);
    return { ok: true, busAddress };
  }

  /** 2006: IOMMU_BUG_ON prints the advice and BUG()s; modern: a mapping error. */
  private fail(reason: string): MapResult<undefined> {
    if (this.ctx.machine.era === "2006") {
      this.ctx.machine.panic(
        `Fatal DMA error! Please use 'swiotlb=force'\nkernel BUG in arch/xen/i386/kernel/pci-dma.c (IOMMU_BUG_ON): ${reason}`,
        { domain: this.ctx.domain.name, device: this.ctx.device.name },
      );
    }
    return { ok: false, reason };
  }

  unmap(): void {}

  /**
   * xen_alloc_coherent: pages from the allocator, then xen_create_contiguous_region to make them
   * machine-contiguous below the coherent mask when they are not already. Era "2006" is
   * arch/xen/i386/kernel/pci-dma.c's dma_alloc_coherent (Jan 2006 tree): it always calls
   * xen_create_contiguous_region(vstart, order, 31) ("Hardcode 31 address bits for now: aacraid
   * limitation").
   */
  allocCoherent(size: number): CoherentResult<undefined> {
    const { machine, domain, device } = this.ctx;
    const gpa = this.allocCoherentPages(size);
    if (gpa === undefined) return { ok: false, reason: `${domain.name} has no free memory for ${this.describe(size)}` };
    const bytes = 2 ** Math.ceil(Math.log2(Math.max(size, machine.pageSize)));
    const pages = bytes / machine.pageSize;
    const frames = lookupFrames(this.ctx, gpa, bytes, this.via) as number[];
    const reachable = (frames[0]! + pages) * machine.pageSize <= device.dmaLimit;
    const era2006 = machine.era === "2006";
    if (era2006 || firstDiscontinuity(frames) >= 0 || !reachable) {
      const bits = era2006 ? 31 : device.dmaMask;
      if (!makeMachineContiguous(domain, gpa / machine.pageSize, pages, bits)) {
        domain.free(gpa);
        return {
          ok: false,
          reason: `xen_create_contiguous_region found no machine-contiguous ${this.describe(bytes)} below ${era2006 ? "2^31 (hardcoded)" : `the ${device.dmaMask}-bit mask`}`,
        };
      }
      // xen_create_contiguous_region hands back the new machine address: no second lookup to charge.
      return { ok: true, cpuAddress: gpa, busAddress: domain.toMachine(gpa)! };
    }
    return { ok: true, cpuAddress: gpa, busAddress: frames[0]! * machine.pageSize };
  }
}
