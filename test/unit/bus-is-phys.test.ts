// PCI_DMA_BUS_IS_PHYS per architecture, hypervisor and era (src/sim/dma/bus-is-phys.ts). Sources,
// listed on docs/reference/sources.mdx ("Simulator fidelity"):
// - ia64: Linux 2.6.13 include/asm-ia64/pci.h (xen.git's Jan 2006 copy):
//   `#define PCI_DMA_BUS_IS_PHYS (ia64_max_iommu_merge_mask == ~0UL)`; only a merging hardware
//   IOMMU (sba_iommu) lowers the mask.
// - Xen x86, January 2006: linux-2.6-xen-sparse/include/asm-xen/asm-i386/pci.h `(0)` under
//   CONFIG_SWIOTLB (asm-x86_64/pci.h: `0`), and arch/xen/{i386,x86_64}/Kconfig's prompt-less
//   `config SWIOTLB ... depends on PCI ... default y`.
// - bare-metal x86_64, Linux 2.6.18: `#define PCI_DMA_BUS_IS_PHYS (dma_ops->is_phys)`, with
//   nommu_dma_ops `.is_phys = 1` and no is_phys (0) in swiotlb_dma_ops and gart_dma_ops.
import { describe, expect, it } from "vitest";
import { createMachine } from "../../src/sim/index.js";
import type { BackendName } from "../../src/sim/dma/backend.js";
import { createRequestQueue } from "../../src/sim/block.js";
import { eventsOf, simError } from "./helpers.js";

type Setting = { arch: "ia64" | "x86_64"; era: "2006" | "modern"; hypervisor: "xen" | "none" };

/** dma.isPhys of a DMA-API with `backend` on a machine with these settings. */
function isPhys({ arch, era, hypervisor }: Setting, backend: BackendName): boolean {
  const m = createMachine({ arch, era, hypervisor, memory: "256 MiB" });
  const mode = backend === "hypercall" ? "VP" : backend === "p2m" || backend === "xen-swiotlb" ? "P2M" : "P==M";
  const dom0 = m.createDomain({ name: "dom0", mode, memory: "64 MiB" });
  const dev = m.attachDevice({ name: "sda", domain: dom0, iommu: backend === "iommu" });
  return dom0.dmaApi(dev, backend).isPhys;
}

const XEN_BACKENDS: readonly BackendName[] = ["direct", "p2m", "hypercall", "swiotlb", "xen-swiotlb", "iommu"];
const NATIVE_BACKENDS: readonly BackendName[] = ["direct", "swiotlb", "iommu"];

/** Each backend's value as a record, to compare whole tables. */
function table(setting: Setting, backends: readonly BackendName[]): Record<string, 0 | 1> {
  return Object.fromEntries(backends.map((b) => [b, isPhys(setting, b) ? 1 : 0]));
}

describe("PCI_DMA_BUS_IS_PHYS follows the kernel of the era, not only the DMA path", () => {
  it("is 0 for every backend of a 2006 Xen x86_64 kernel, p2m and hypercall included (swiotlb was always built in)", () => {
    expect(table({ arch: "x86_64", era: "2006", hypervisor: "xen" }, XEN_BACKENDS)).toEqual({
      direct: 0,
      p2m: 0,
      hypercall: 0,
      swiotlb: 0,
      "xen-swiotlb": 0,
      iommu: 0,
    });
  });

  it("is 1 on 2006 ia64 for every backend but a hardware IOMMU, swiotlbs included, under Xen and on bare metal", () => {
    expect(table({ arch: "ia64", era: "2006", hypervisor: "xen" }, XEN_BACKENDS)).toEqual({
      direct: 1,
      p2m: 1,
      hypercall: 1,
      swiotlb: 1,
      "xen-swiotlb": 1,
      iommu: 0,
    });
    expect(table({ arch: "ia64", era: "2006", hypervisor: "none" }, NATIVE_BACKENDS)).toEqual({ direct: 1, swiotlb: 1, iommu: 0 });
  });

  it("is the DMA-API's own is_phys on 2006 bare-metal x86_64: nommu 1, swiotlb and GART 0", () => {
    expect(table({ arch: "x86_64", era: "2006", hypervisor: "none" }, NATIVE_BACKENDS)).toEqual({ direct: 1, swiotlb: 0, iommu: 0 });
  });

  it("keeps the per-backend answer in the modern era, on either architecture", () => {
    const expected = { direct: 1, p2m: 1, hypercall: 1, swiotlb: 0, "xen-swiotlb": 0, iommu: 0 };
    expect(table({ arch: "ia64", era: "modern", hypervisor: "xen" }, XEN_BACKENDS)).toEqual(expected);
    expect(table({ arch: "x86_64", era: "modern", hypervisor: "xen" }, XEN_BACKENDS)).toEqual(expected);
  });
});

describe("what the block layer does with it", () => {
  it("leaves a high page to a 2006 x86_64 Xen dom0 without swiotlb, whose DMA-API then BUGs (as with swiotlb=off)", () => {
    const m = createMachine({ arch: "x86_64", memory: "256 MiB", era: "2006" });
    // 64 MiB of pseudo-physical memory on machine frames from 32 MiB: every page is beyond a 24-bit disk.
    const layout = Array.from({ length: 16384 }, (_, i) => 8192 + i);
    const dom0 = m.createDomain({ name: "dom0", mode: "P2M", layout });
    const sda = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 24 });
    const q = createRequestQueue(dom0.dmaApi(sda, "p2m"));
    expect(q.bounceLimit).toBe(Infinity);
    expect(eventsOf(m.trace, "block")[0]!.message).toMatch(
      /PCI_DMA_BUS_IS_PHYS is 0 \(Xen x86, swiotlb always built in, p2m backend\).*BLK_BOUNCE_ANY/,
    );
    const high = 40 * 2 ** 20; // pseudo-physical, above the 16 MiB the disk reaches
    const rq = q.submit("write", 0, [{ address: high, length: 4096 }]);
    expect(rq.bvecs[0]!.bouncedFrom).toBeUndefined();
    expect(simError(() => q.map(rq)).message).toMatch(/IOMMU_BUG_ON/);
  });
});
