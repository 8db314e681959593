import { SimError } from "../errors.js";
import type { BackendContext, BackendName, DmaBackend } from "./backend.js";
import { DirectBackend } from "./direct.js";
import { P2mBackend } from "./p2m.js";
import { HypercallBackend } from "./hypercall.js";
import { SwiotlbBackend } from "./swiotlb.js";
import { XenSwiotlbBackend } from "./xen-swiotlb.js";
import { IommuBackend } from "./iommu.js";

type Factory = (ctx: BackendContext) => DmaBackend;

const FACTORIES: Record<BackendName, Factory> = {
  direct: (ctx) => new DirectBackend(ctx),
  p2m: (ctx) => new P2mBackend(ctx),
  hypercall: (ctx) => new HypercallBackend(ctx),
  swiotlb: (ctx) => new SwiotlbBackend(ctx),
  "xen-swiotlb": (ctx) => new XenSwiotlbBackend(ctx),
  iommu: (ctx) => new IommuBackend(ctx),
};

/** Backends that only exist under Xen: they read a p2m table or call the hypervisor. */
const XEN_ONLY: readonly BackendName[] = ["p2m", "hypercall", "xen-swiotlb"];

/** Builds the named backend for a driver domain and device. */
export function createBackend(name: BackendName, ctx: BackendContext): DmaBackend {
  if (ctx.machine.hypervisor === "none" && XEN_ONLY.includes(name)) {
    throw new SimError(
      "BACKEND_UNSUITABLE",
      `the ${name} backend needs Xen, but this machine runs bare-metal Linux (hypervisor: "none"): use "direct", "swiotlb" or "iommu"`,
      "backend",
    );
  }
  return FACTORIES[name](ctx);
}
