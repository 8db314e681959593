import type { BackendContext } from "./backend.js";
import { P2mBackend } from "./p2m.js";

/**
 * VP without an IOMMU: the domain cannot see machine addresses, so the DMA-API asks Xen for each
 * page's machine frame — one costed hypercall per page (Muli: "a DMA-API implementation which
 * calls into Xen for P->Bus translation"). Otherwise it behaves as the p2m backend: no bouncing,
 * so machine-discontiguous buffers must be split.
 */
export class HypercallBackend extends P2mBackend {
  override readonly name = "hypercall";

  constructor(ctx: BackendContext) {
    super(ctx, "hypercall");
  }
}
