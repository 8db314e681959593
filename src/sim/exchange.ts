import { ownerOf } from "./frames.js";
import { findAlignedFreeRun } from "./frame-alloc.js";
import { formatSize, hex, maskLimit } from "./units.js";
import type { Domain } from "./domain.js";

/**
 * xen_create_contiguous_region(): trades the machine frames behind `pages` PFNs from `firstPfn`
 * for one machine-contiguous run below 2^addressBits, with one XENMEM_exchange hypercall
 * (arch/x86/xen/mmu_pv.c). The old frames go back to Xen's free pool; contents are not kept, as
 * in Linux, which only does this to freshly allocated memory. Returns false when no such run is
 * free (the exchange fails and the original frames stay).
 *
 * The exchange asks for one extent of order log2(`pages`) (`out.extent_order = order`), and Xen's
 * buddy allocator returns extents naturally aligned, so the run starts at a multiple of its own
 * size in machine memory. `pages` is a power of two, as every caller's order is.
 */
export function makeMachineContiguous(domain: Domain, firstPfn: number, pages: number, addressBits: number): boolean {
  const m = domain.machine;
  const limit = Math.min(m.domainFrameLimit, Math.floor(maskLimit(addressBits) / m.pageSize));
  const start = findAlignedFreeRun(m.store, pages, limit, 2 ** Math.ceil(Math.log2(pages)));
  const where = `${domain.name} pfn ${hex(firstPfn)}-${hex(firstPfn + pages - 1)}`;
  if (start === undefined) {
    m.emit(
      "exchange",
      () =>
        `XENMEM_exchange failed: no ${formatSize(pages * m.pageSize)} of machine-contiguous free memory below 2^${addressBits} for ${where}`,
      { domain: domain.name, cost: m.costs.memoryExchange, severity: "warning" },
    );
    return false;
  }
  const owner = ownerOf(domain.domid);
  for (let i = 0; i < pages; i++) {
    const pfn = firstPfn + i;
    const old = domain.pfnToMfn(pfn);
    if (old !== undefined) m.store.release(old);
    m.store.assign(start + i, owner, pfn);
    if (domain.isRam(pfn)) domain.setRamMfn(pfn, start + i);
    else domain.extraP2m.set(pfn, start + i);
  }
  m.emit(
    "exchange",
    () =>
      `XENMEM_exchange (xen_create_contiguous_region): ${where} now backed by machine-contiguous mfn ${hex(start)}-${hex(start + pages - 1)}, below 2^${addressBits}`,
    {
      domain: domain.name,
      address: firstPfn * m.pageSize,
      machineAddress: start * m.pageSize,
      bytes: pages * m.pageSize,
      cost: m.costs.memoryExchange,
    },
  );
  return true;
}
