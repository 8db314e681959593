import { SimError, describeValue, rejectUnknownKeys } from "./errors.js";

/**
 * The cost model, in abstract CPU cycles. The simulator aims to reproduce the published ORDER of
 * strategies (which is cheaper), not absolute numbers; each default names its anchor.
 * Sources: docs/reference/sources.mdx ("What it costs") and the API reference page.
 */
export interface CostModel {
  /** Identity translation in a nommu/direct map (P==M or native). Model assumption: almost free. */
  directMap: number;
  /** One p2m table read per page (P2M mode): a cached memory read. Model assumption, anchored as "≪ hypercall". */
  p2mRead: number;
  /**
   * One hypercall (VM exit and return). SplitX (Landau, Ben-Yehuda, Gordon) measures the direct cost
   * of one exit at about 2,000 cycles on a Xeon X5570.
   */
  hypercall: number;
  /** Writing one IOMMU page-table entry, including IOVA allocation. Model assumption. */
  iommuPteWrite: number;
  /** Clearing one IOMMU PTE and queueing its IOVA (deferred policy). Model assumption. */
  iommuPteClear: number;
  /**
   * One IOTLB invalidation (a queued-invalidation round trip to the IOMMU). Model assumption:
   * about one VM exit (SplitX's ~2,000 cycles). The ordering it must reproduce is vIOMMU's (Amit
   * et al., ATC 2011): strict invalidation reaches 43% of a 10 Gb/s line, deferred (batched every
   * 10 ms / 250 entries) 91% — see `LITERATURE` in scenarios/literature.ts.
   */
  iotlbFlush: number;
  /** Fixed cost of one swiotlb bounce (slot search, bookkeeping). Model assumption. */
  bounceBase: number;
  /** memcpy cost per byte. Model assumption (~4 bytes per cycle). */
  memcpyPerByte: number;
  /** One XENMEM_exchange making a region machine-contiguous (xen_create_contiguous_region). Model assumption. */
  memoryExchange: number;
  /** Grant map: one GNTTABOP_map_grant_ref hypercall (batchable in Xen). Model assumption: one hypercall's cost. */
  grantMap: number;
  /** Grant unmap: one GNTTABOP_unmap_grant_ref hypercall. Model assumption: one hypercall's cost. */
  grantUnmap: number;
  /**
   * Per-packet protocol and driver work of a network stack (interrupt, descriptor handling,
   * TCP/IP), with no DMA mapping in it. Model assumption, anchored to one published fact: a
   * bare-metal Linux without IOMMU protection sustains a 10 Gb/s line of 1500-byte packets
   * (vIOMMU, Amit et al., USENIX ATC 2011), i.e. about 1,230 cycles per packet at the simulated
   * 1 GHz; 1,000 leaves room for the unprotected DMA-API calls.
   */
  packetProcessing: number;
  /**
   * Finding a still-live mapping in a driver-side cache (optimistic teardown, persistent and
   * shared mappings): a hash lookup. Model assumption: about one cached memory read, like `p2mRead`.
   */
  mappingLookup: number;
  /** Simulated CPU clock, in cycles per microsecond (1000 = 1 GHz): converts costs to time for the lazy IOTLB timer. */
  cyclesPerMicrosecond: number;
}

/** Default costs (see each field's comment for its source). */
export const DEFAULT_COSTS: Readonly<CostModel> = Object.freeze({
  directMap: 10,
  p2mRead: 20,
  hypercall: 2000,
  iommuPteWrite: 500,
  iommuPteClear: 300,
  iotlbFlush: 2000,
  bounceBase: 200,
  memcpyPerByte: 0.25,
  memoryExchange: 20000,
  grantMap: 2000,
  grantUnmap: 2000,
  packetProcessing: 1000,
  mappingLookup: 20,
  cyclesPerMicrosecond: 1000,
});

/** Merges a reader's overrides into the defaults, rejecting unknown names and negative costs. */
export function resolveCosts(overrides: unknown): CostModel {
  if (overrides === undefined) return { ...DEFAULT_COSTS };
  if (typeof overrides !== "object" || overrides === null || Array.isArray(overrides)) {
    throw new SimError("INVALID_CONFIG", `costs must be an object of cycle counts, got ${describeValue(overrides)}`, "costs");
  }
  rejectUnknownKeys(overrides, Object.keys(DEFAULT_COSTS), "costs");
  const costs: CostModel = { ...DEFAULT_COSTS };
  for (const [key, value] of Object.entries(overrides)) {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new SimError("INVALID_CONFIG", `costs.${key} must be a finite number >= 0, got ${describeValue(value)}`, `costs.${key}`);
    }
    if (key === "cyclesPerMicrosecond" && value === 0) {
      throw new SimError("INVALID_CONFIG", `costs.cyclesPerMicrosecond must be > 0, got 0`, `costs.${key}`);
    }
    (costs as unknown as Record<string, number>)[key] = value;
  }
  return costs;
}
