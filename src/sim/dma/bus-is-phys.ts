import type { Machine } from "../machine.js";
import type { BackendName } from "./backend.js";

/** What the rule reads from a machine. */
export type BusIsPhysMachine = Pick<Machine, "arch" | "era" | "hypervisor">;

/**
 * Each DMA-API's own answer, as bare-metal x86_64 gave it per implementation (Linux 2.6.18:
 * `#define PCI_DMA_BUS_IS_PHYS (dma_ops->is_phys)`; nommu 1, swiotlb and GART 0). Xen's p2m and
 * hypercall translations bounce nothing themselves, so they answer like nommu.
 */
const PER_BACKEND: Readonly<Record<BackendName, boolean>> = {
  direct: true,
  p2m: true,
  hypercall: true,
  swiotlb: false,
  "xen-swiotlb": false,
  iommu: false,
};

/**
 * PCI_DMA_BUS_IS_PHYS for a DMA-API on this machine: true tells the block layer to bounce on its
 * own. In 2.6 it was the kernel's, not the DMA path's (Sources page, "Simulator fidelity"):
 * - ia64, era "2006": `(ia64_max_iommu_merge_mask == ~0UL)` (include/asm-ia64/pci.h, 2.6.13):
 *   1 unless a merging hardware IOMMU lowered the mask — so 0 only for `iommu`.
 * - Xen x86, era "2006" (the thread's month): `(0)` under CONFIG_SWIOTLB (the xenified
 *   asm-i386/pci.h, asm-x86_64/pci.h of January 2006), which the Xen Kconfig turned on with PCI
 *   and no prompt — 0 for every backend, even p2m (a dom0 booted swiotlb=off). From February 2006
 *   Xen's x86_64 took the dma_ops->is_phys form; the model keeps January.
 * - bare-metal x86_64, era "2006": the DMA-API's own `is_phys` (Linux 2.6.18 pci-nommu.c,
 *   pci-swiotlb.c, pci-gart.c).
 * - era "modern": the macro is gone (linux.git 325ef1857fff; its release is not confirmed); the
 *   per-backend answer is what the 2.6 rule would say, read only by a queue that still asks for
 *   `bounce: "pci-dma-bus-is-phys"`.
 */
export function busIsPhys(machine: BusIsPhysMachine, backend: BackendName): boolean {
  if (machine.era === "2006") {
    if (machine.arch === "ia64") return backend !== "iommu";
    if (machine.hypervisor === "xen") return false;
  }
  return PER_BACKEND[backend];
}

/** Why {@link busIsPhys} gave its answer, for the trace: which definition of the macro applied. */
export function busIsPhysReason(machine: BusIsPhysMachine, backend: BackendName): string {
  if (machine.era === "2006" && machine.arch === "ia64") {
    return backend === "iommu" ? "ia64 with a merging hardware IOMMU" : `ia64 without a merging hardware IOMMU, ${backend} backend`;
  }
  if (machine.era === "2006" && machine.hypervisor === "xen") return `Xen x86, swiotlb always built in, ${backend} backend`;
  return `${backend} backend`;
}
