import type { CoherentResult, Direction, MapResult, PhysRange } from "./backend.js";
import { EntryWiseBackend } from "./base.js";

/**
 * dma-direct / nommu: the bus address IS the guest-physical address (kernel/dma/direct.c,
 * phys_to_dma with no offset). Right for P==M, where guest-physical == machine. Anywhere else
 * the device is handed a pseudo-physical address as if it were a machine address: the DMA lands
 * in whatever frame has that number — the simulator reports it as stray (or unmapped) DMA.
 */
export class DirectBackend extends EntryWiseBackend {
  readonly name = "direct";

  map(range: PhysRange, _dir: Direction): MapResult<undefined> {
    // dma_direct_map_page: without swiotlb an address beyond the mask is DMA_MAPPING_ERROR.
    if (!this.dmaCapable(range.gpa, range.length)) return { ok: false, reason: this.overflowReason(range.gpa, range.length) };
    return { ok: true, busAddress: range.gpa };
  }

  unmap(): void {}

  dmaSupported(maskBits: number): boolean {
    // dma_direct_supported: the mask must at least reach the domain's lowest memory.
    return 2 ** maskBits > this.ctx.domain.pfnBase * this.ctx.machine.pageSize;
  }

  allocCoherent(size: number): CoherentResult<undefined> {
    const gpa = this.allocCoherentPages(size);
    if (gpa === undefined) return { ok: false, reason: `${this.ctx.domain.name} has no free memory for ${this.describe(size)}` };
    if (!this.dmaCapable(gpa, size)) {
      this.ctx.domain.free(gpa);
      return { ok: false, reason: `the pages found are above ${this.ctx.device.name}'s ${this.ctx.device.dmaMask}-bit coherent mask` };
    }
    return { ok: true, cpuAddress: gpa, busAddress: gpa };
  }
}
