import { SimError } from "../errors.js";
import type { BackendContext, BackendName, DmaBackend } from "./backend.js";
import { DirectBackend } from "./direct.js";
import { P2mBackend } from "./p2m.js";
import { HypercallBackend } from "./hypercall.js";
import { SwiotlbBackend } from "./swiotlb.js";
import { XenSwiotlbBackend } from "./xen-swiotlb.js";
import { IommuBackend } from "./iommu.js";

type Factory = (ctx: BackendContext) => DmaBackend;

const FACTORIES: Partial<Record<BackendName, Factory>> = {
  direct: (ctx) => new DirectBackend(ctx),
  p2m: (ctx) => new P2mBackend(ctx),
  hypercall: (ctx) => new HypercallBackend(ctx),
  swiotlb: (ctx) => new SwiotlbBackend(ctx),
  "xen-swiotlb": (ctx) => new XenSwiotlbBackend(ctx),
  iommu: (ctx) => new IommuBackend(ctx),
};

/** Builds the named backend for a driver domain and device. */
export function createBackend(name: BackendName, ctx: BackendContext): DmaBackend {
  const factory = FACTORIES[name];
  if (!factory) throw new SimError("UNKNOWN_BACKEND", `the ${name} backend is not available yet`, "backend");
  return factory(ctx);
}
