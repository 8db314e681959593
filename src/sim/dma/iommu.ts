import { SimError } from "../errors.js";
import { IOVA_BITS, protFromDirection } from "../iommu.js";
import type { IommuDomain, IovaRange } from "../iommu.js";
import { formatSize, hex } from "../units.js";
import type { BackendContext, CoherentResult, Direction, MapResult, PhysRange, SgResult, SgSegment } from "./backend.js";
import { BaseBackend } from "./base.js";

/** One scatterlist entry laid out in IOVA space (iommu_dma_map_sg's first pass). */
interface SgLayout {
  /** Offset of the data in its first IOVA granule (s_iova_off). */
  offset: number;
  /** Bytes of data (s_length). */
  length: number;
  /** IOVA bytes the entry occupies: granule-aligned, plus any boundary padding added after it (s_iova_len). */
  span: number;
  /** Machine frames behind the entry's pages. */
  frames: number[];
}

/**
 * "VP with hardware IOMMU: Xen maps IOVA → MFN" — Muli's fourth option: the DMA-API "call[s] into
 * Xen to establish an IOMMU mapping". The bus address the device gets is an IOVA of its own
 * protection domain, so a buffer whose pages are scattered in machine memory still maps as ONE
 * contiguous IOVA range, and the device can reach nothing else.
 *
 * Layout follows Linux's dma-iommu (drivers/iommu/dma-iommu.c): __iommu_dma_map allocates one IOVA
 * range per mapping (iommu_dma_alloc_iova) and writes one PTE per page with permissions from the
 * direction (dma_info_to_prot); iommu_dma_map_sg allocates ONE range for the whole list and
 * __finalise_sg merges segments. Unmap follows __iommu_dma_unmap and the strict/lazy policy.
 *
 * Model assumption, all domain modes: the driver domain picks IOVAs itself (the dma-iommu layer),
 * but the page-table writes need Xen, so every map, unmap, map_sg, unmap_sg and coherent
 * alloc/free costs ONE hypercall (batched: not one per page). That holds for P==M and P2M too:
 * under Xen the IOMMU is the hypervisor's ("Zap ACPI DMAR signature to prevent dom0 using vt-d HW",
 * xen/drivers/passthrough/vtd/dmar.c), so no domain programs it directly. Xen translates each
 * pfn → mfn inside that hypercall; a VP domain never learns the MFNs.
 *
 * Era: no 2006 Linux had this path (the thread only proposed it; VT-d support came in 2.6.24), so
 * both eras behave the same here except for the wording of IOMMU faults.
 *
 * Simplifications: untrusted-device bouncing (iommu_dma_map_sg_swiotlb) is not modelled; boundary
 * padding between sg segments is left unmapped (Linux maps the physically following memory there);
 * unmap releases what was mapped, whatever size the driver passes (dma-debug reports a mismatch).
 */
export class IommuBackend extends BaseBackend<IovaRange, IovaRange, IovaRange> {
  readonly name = "iommu";
  /** Xen programs this IOMMU for the domain, per the grant's permissions. */
  override readonly enforcesGrantPermissions = true;
  private readonly iommu: IommuDomain;

  constructor(ctx: BackendContext) {
    super(ctx);
    if (!ctx.device.iommu) {
      throw new SimError(
        "BACKEND_UNSUITABLE",
        `the iommu backend programs the hardware IOMMU in front of the device, but ${ctx.device.name} is not behind one: attach it with iommu: true (or pick a backend that needs no IOMMU: "hypercall", "xen-swiotlb", ...)`,
        "backend",
      );
    }
    this.iommu = ctx.device.iommu;
  }

  /**
   * dma-iommu has no dma_supported hook (Linux accepts any mask); the simulator refuses a mask
   * that leaves no usable IOVA page (page 0 is never used), since every mapping would fail.
   */
  override dmaSupported(maskBits: number): boolean {
    return 2 ** Math.min(maskBits, IOVA_BITS) >= 2 * this.ctx.machine.pageSize;
  }

  map(range: PhysRange, dir: Direction): MapResult<IovaRange> {
    const mapped = this.mapBuffer(range.gpa, range.length, dir, "dma_map");
    if (typeof mapped === "string") return { ok: false, reason: mapped };
    return { ok: true, busAddress: mapped.iovaPage * this.ctx.machine.pageSize + (range.gpa % this.ctx.machine.pageSize), state: mapped };
  }

  unmap(_busAddress: number, _size: number, _dir: Direction, state: IovaRange): void {
    this.unmapRange(state, "dma_unmap");
  }

  /**
   * iommu_dma_map_sg: pass 1 pads every entry to IOVA granules (and pads the previous entry so
   * none crosses the segment boundary), then ONE IOVA allocation and the PTE writes, then
   * __finalise_sg concatenates entry i into the previous output segment iff that segment has
   * length and ended on a granule, entry i starts on a granule, its IOVA is not at a segment
   * boundary, and the merged length stays within max_segment_size.
   */
  mapSg(entries: PhysRange[], dir: Direction): SgResult<IovaRange> {
    const { machine, device } = this.ctx;
    const pageSize = machine.pageSize;
    const boundary = device.segmentBoundary;
    const layout: SgLayout[] = [];
    let iovaLength = 0;
    for (const entry of entries) {
      const frames = this.framesOf(entry.gpa, entry.length);
      if (typeof frames === "string") return { ok: false, reason: frames };
      const offset = entry.gpa % pageSize;
      const span = Math.ceil((offset + entry.length) / pageSize) * pageSize;
      // pad_len = (mask - iova_len + 1) & mask: the distance to the next boundary. If this entry
      // would cross it, the previous entry is padded so this one starts on the boundary.
      const pad = boundary === Infinity ? 0 : (boundary - (iovaLength % boundary)) % boundary;
      if (pad > 0 && pad < span - 1) {
        layout[layout.length - 1]!.span += pad;
        iovaLength += pad;
      }
      layout.push({ offset, length: entry.length, span, frames });
      iovaLength += span;
    }
    const pages = iovaLength / pageSize;
    const range = this.iommu.allocIova(pages, device);
    if (!range) return { ok: false, reason: this.noIovaReason(pages) };
    this.hypercall(`map a ${entries.length}-entry scatterlist (${pages} IOVA pages)`, range);
    const prot = protFromDirection(dir);
    let page = range.iovaPage;
    for (const s of layout) {
      s.frames.forEach((mfn, i) => this.iommu.map(page + i, mfn, prot, device));
      page += s.span / pageSize;
    }
    return { ok: true, segments: finaliseSg(layout, range.iovaPage * pageSize, boundary, device.maxSegmentSize), state: range };
  }

  /** iommu_dma_unmap_sg: the list was one IOVA allocation, so one unmap frees it all. */
  unmapSg(_entries: PhysRange[], _segments: SgSegment[], _dir: Direction, state: IovaRange): void {
    this.unmapRange(state, "dma_unmap_sg");
  }

  /** The device reads and writes the buffer itself: there is no bounce copy to sync. */
  syncSg(): void {}

  /**
   * iommu_dma_alloc: zeroed pages from the allocator (any address: "IOMMU can map any pages"),
   * mapped BIDIRECTIONAL into one IOVA range.
   */
  allocCoherent(size: number): CoherentResult<IovaRange> {
    const { domain } = this.ctx;
    const gpa = this.allocCoherentPages(size);
    if (gpa === undefined) return { ok: false, reason: `${domain.name} has no free memory for ${this.describe(size)}` };
    const mapped = this.mapBuffer(gpa, size, "BIDIRECTIONAL", "dma_alloc_coherent");
    if (typeof mapped === "string") {
      domain.free(gpa);
      return { ok: false, reason: mapped };
    }
    return { ok: true, cpuAddress: gpa, busAddress: mapped.iovaPage * this.ctx.machine.pageSize, state: mapped };
  }

  /** iommu_dma_free: unmap, then give the pages back. */
  override freeCoherent(cpuAddress: number, _size: number, _busAddress: number, state: IovaRange): void {
    this.unmapRange(state, "dma_free_coherent");
    this.ctx.domain.free(cpuAddress);
  }

  /** __iommu_dma_map: one IOVA range for the buffer's pages, one hypercall, one PTE per page. */
  private mapBuffer(gpa: number, length: number, dir: Direction, fn: string): IovaRange | string {
    const frames = this.framesOf(gpa, length);
    if (typeof frames === "string") return frames;
    const range = this.iommu.allocIova(frames.length, this.ctx.device);
    if (!range) return this.noIovaReason(frames.length);
    this.hypercall(`${fn}: map ${formatSize(length)} at ${hex(gpa)} (${frames.length} page${frames.length === 1 ? "" : "s"})`, range);
    const prot = protFromDirection(dir);
    frames.forEach((mfn, i) => this.iommu.map(range.iovaPage + i, mfn, prot, this.ctx.device));
    return range;
  }

  private unmapRange(range: IovaRange, fn: string): void {
    this.hypercall(`${fn}: clear the PTEs of IOVA ${hex(range.iovaPage * this.ctx.machine.pageSize)}`, range, false);
    this.iommu.unmap(range, this.ctx.device);
  }

  /**
   * The machine frames behind [gpa, gpa + length). Xen reads the domain's p2m inside the
   * hypercall, so no per-page translate event is charged. A page that is not populated fails the
   * mapping (Xen refuses to map it) before any IOVA is taken.
   */
  private framesOf(gpa: number, length: number): number[] | string {
    const { machine, domain } = this.ctx;
    const first = Math.floor(gpa / machine.pageSize);
    const last = Math.floor((gpa + length - 1) / machine.pageSize);
    const frames: number[] = [];
    for (let pfn = first; pfn <= last; pfn++) {
      const mfn = domain.pfnToMfn(pfn);
      if (mfn === undefined) return `Xen refuses the IOMMU mapping: pfn ${hex(pfn)} of ${domain.name} is not populated`;
      frames.push(mfn);
    }
    return frames;
  }

  /** One hypercall: `translates` when Xen must also look up the pages' machine frames (map, not unmap). */
  private hypercall(what: string, range: IovaRange, translates = true): void {
    const { machine, domain, device } = this.ctx;
    if (machine.hypervisor === "none") return; // bare metal: the kernel's own IOMMU driver does it
    const why =
      translates && domain.mode === "VP"
        ? `VP: ${domain.name} cannot see machine frames, Xen translates pfn → mfn`
        : `the IOMMU belongs to Xen, not to ${domain.name}`;
    machine.emit("hypercall", () => `hypercall: Xen programs the IOMMU for ${device.name}: ${what} (${why})`, {
      domain: domain.name,
      device: device.name,
      busAddress: range.iovaPage * machine.pageSize,
      cost: machine.costs.hypercall,
    });
  }

  private noIovaReason(pages: number): string {
    const device = this.ctx.device;
    return `no free IOVA range of ${formatSize(pages * this.ctx.machine.pageSize)} below ${device.name}'s ${device.dmaMask}-bit DMA mask (alloc_iova failed)`;
  }
}

/**
 * __finalise_sg: walks the laid-out entries from the IOVA base and concatenates each into the
 * previous output segment when allowed. Returns the DMA segments (fewer than entries when merged).
 */
function finaliseSg(layout: readonly SgLayout[], iovaBase: number, boundary: number, maxSegmentSize: number): SgSegment[] {
  const segments: SgSegment[] = [];
  let dmaAddress = iovaBase;
  let currentLength = 0;
  for (const s of layout) {
    // (dma_addr & seg_mask) != 0: not at a segment boundary. With no boundary the mask is ULONG_MAX
    // and any IOVA but 0 (never used) qualifies.
    const notAtBoundary = boundary === Infinity ? dmaAddress !== 0 : dmaAddress % boundary !== 0;
    if (currentLength > 0 && s.offset === 0 && notAtBoundary && maxSegmentSize - currentLength >= s.length) {
      currentLength += s.length;
      segments[segments.length - 1]!.length = currentLength;
    } else {
      currentLength = s.length;
      segments.push({ busAddress: dmaAddress + s.offset, length: s.length });
    }
    dmaAddress += s.span;
    // A segment that does not run to the end of its IOVA span ends the output segment.
    if (s.length + s.offset < s.span) currentLength = 0;
  }
  return segments;
}
