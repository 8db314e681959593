import { SimError, describeValue, rejectUnknownKeys } from "./errors.js";

/**
 * The cost model, in abstract CPU cycles of one simulated 1 GHz CPU. The simulator aims to
 * reproduce the published studies on the "What it costs" page with ONE set of constants (each
 * study's figures within a stated tolerance, see `LITERATURE` in scenarios/literature.ts), not
 * absolute numbers of any machine. Every default's source, or the words "Model assumption", is in
 * {@link COST_SOURCES}; the docs page renders that table.
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
  /** Writing one IOMMU page-table entry, including IOVA allocation (priced per page, not per mapping). Model assumption. */
  iommuPteWrite: number;
  /** Clearing one IOMMU PTE and freeing or queueing its IOVA. Model assumption. */
  iommuPteClear: number;
  /**
   * One IOTLB invalidation, waited for synchronously (strict: one per unmap; lazy: one per batch of
   * 250 unmaps or 10 ms). Anchored to the vIOMMU talk (Amit et al., USENIX ATC 2011): 2,316 cycles
   * of "SW/HW interaction" per strict (un)mapping of one page on bare metal.
   */
  iotlbFlush: number;
  /** Fixed cost of one swiotlb bounce (slot search, bookkeeping). Model assumption. */
  bounceBase: number;
  /** memcpy cost per byte. Model assumption (~10 bytes per cycle, a packet-sized copy in cache). */
  memcpyPerByte: number;
  /** One XENMEM_exchange making a region machine-contiguous (xen_create_contiguous_region). Model assumption. */
  memoryExchange: number;
  /** Grant map: one GNTTABOP_map_grant_ref hypercall (batchable in Xen). Model assumption: one hypercall's cost. */
  grantMap: number;
  /** Grant unmap: one GNTTABOP_unmap_grant_ref hypercall. Model assumption: one hypercall's cost. */
  grantUnmap: number;
  /**
   * Per-packet protocol and driver work of a network stack (interrupt, descriptor handling,
   * TCP/IP), with no DMA mapping in it. Model assumption, anchored to two published facts: bare-metal
   * Linux without IOMMU protection fills a 10 Gb/s line of 1500-byte packets (vIOMMU), and copying
   * every packet costs it at most 25% at 40 Gb/s (Markuze et al.), so the stack work must dwarf a
   * 1,500-byte copy.
   */
  packetProcessing: number;
  /**
   * Finding a still-live mapping in a driver-side cache (optimistic teardown, persistent and
   * shared mappings, a ring slot's shadow buffer): a hash lookup. Model assumption: about one cached
   * memory read, like `p2mRead`.
   */
  mappingLookup: number;
  /** Simulated CPU clock, in cycles per microsecond (1000 = 1 GHz): converts costs to time for the lazy IOTLB timer. */
  cyclesPerMicrosecond: number;
}

/** Default costs (see each field's comment and {@link COST_SOURCES} for its source). */
export const DEFAULT_COSTS: Readonly<CostModel> = Object.freeze({
  directMap: 10,
  p2mRead: 20,
  hypercall: 2000,
  iommuPteWrite: 500,
  iommuPteClear: 300,
  iotlbFlush: 2000,
  bounceBase: 200,
  memcpyPerByte: 0.1,
  memoryExchange: 20000,
  grantMap: 2000,
  grantUnmap: 2000,
  packetProcessing: 500,
  mappingLookup: 20,
  cyclesPerMicrosecond: 1000,
});

/** Where one default cost comes from. */
export interface CostSource {
  /** Trace event kinds the constant is charged on. */
  charged: string[];
  /** The source: a publication with the place in it, a kernel file at a version, or a text starting "Model assumption". */
  source: string;
  /** What was measured, when a published measurement anchors the number itself (not only an order or a fit). */
  measured?: string;
}

const SPLITX =
  "Landau, Ben-Yehuda, Gordon, “SplitX: Split Guest/Hypervisor Execution on Multi-Core”, WIOV 2011: the direct cost of one VM exit is 2,000 cycles (KVM, Xeon X5570 at 2.93 GHz), and the indirect and synchronous costs “can in certain cases be an order of magnitude higher”";
const VIOMMU_TALK =
  "Amit, Ben-Yehuda, Tsafrir, Schuster, “vIOMMU: Efficient IOMMU Emulation”, USENIX ATC 2011, talk slides (slide 16, “Average breakdown of (un)mapping a single page using the strict invalidation scheme”)";

/**
 * The source of every default cost, rendered on the "What it costs" page. Each entry either names
 * a publication (and where in it) or a kernel file at a version, or starts with "Model assumption".
 */
export const COST_SOURCES: Readonly<Record<keyof CostModel, CostSource>> = Object.freeze({
  directMap: {
    charged: ["map", "unmap", "mapping-reuse"],
    source:
      "Model assumption: the DMA-API front’s own bookkeeping per call, and the whole cost of an identity translation (nommu in P==M or native). Almost free.",
  },
  p2mRead: {
    charged: ["translate", "p2m-update"],
    source:
      "Model assumption: one cached memory read per page. Only its order is anchored: far below a hypercall — Ian Pratt’s “simply enabling a privileged domain to read its p2m table and translate the pfn to an mfn is sufficient”.",
  },
  hypercall: {
    charged: ["hypercall"],
    source: `${SPLITX}. A VM exit under KVM stands in for a Xen hypercall: both are a world switch to the hypervisor and back.`,
    measured: "Measured under KVM (a VM exit), standing in for a Xen hypercall.",
  },
  iommuPteWrite: {
    charged: ["iommu-map"],
    source:
      "Model assumption: IOVA allocation (alloc_iova: an rbtree walk and insert under a spinlock, drivers/pci/iova.c as of torvalds/linux 020abf03cd65, Linux 3.0 era) plus one I/O page-table entry write (domain_pfn_mapping), priced per page although Linux allocates one IOVA range per mapping. Together with iommuPteClear it is the software side of a strict map+unmap; the vIOMMU talk measured 4,593 cycles of “logic” for it (slide 16), which a one-CPU model cannot use together with that talk’s own throughput figures (see “Fitting the papers”).",
  },
  iommuPteClear: {
    charged: ["iommu-unmap"],
    source:
      "Model assumption: clearing one I/O page-table entry and freeing its IOVA (strict: find_iova + __free_iova at once) or queueing it for the batched flush (lazy: add_unmap, freed later by flush_unmaps) — intel_unmap_page in drivers/pci/intel-iommu.c as of torvalds/linux 00dfff77e718 (Linux 3.0 era, before the move to drivers/iommu/).",
  },
  iotlbFlush: {
    charged: ["iotlb-flush"],
    source: `Anchored to ${VIOMMU_TALK}: 2,316 cycles of “SW/HW interaction” per strict (un)map of one page on bare metal, i.e. mostly the synchronous IOTLB invalidation. Rounded to 2,000, one VM exit’s worth (SplitX). Linux’s intel_unmap_page queues lazy unmaps “to save the 1/6th of the cpu used up by the iotlb flush operation” (drivers/pci/intel-iommu.c as of torvalds/linux 00dfff77e718). Lazy mode pays it once per batch — Mark Gross, “PCI: iommu: iotlb flushing”: after 250 queued unmaps or 10 ms; “recovers 15 to 20% of the performance lost”.`,
  },
  bounceBase: {
    charged: ["bounce-copy"],
    source: "Model assumption: finding swiotlb slots and recording the original address, per bounce.",
  },
  memcpyPerByte: {
    charged: ["bounce-copy", "cpu-copy"],
    source:
      "Model assumption: about 10 bytes copied per cycle, a packet-sized copy between cache-resident buffers. Fitted once for all studies: at the former 4 bytes per cycle (other constants as now), copying every packet cost 42% of the no-IOMMU throughput at 40 Gb/s, outside Markuze et al.’s published 0–25%.",
  },
  memoryExchange: {
    charged: ["exchange"],
    source:
      "Model assumption: one XENMEM_exchange (xen_create_contiguous_region). Paid when a swiotlb pool or a coherent buffer is set up, never per I/O.",
  },
  grantMap: {
    charged: ["grant-map"],
    source:
      "Model assumption: one GNTTABOP_map_grant_ref, priced as one hypercall (Xen lets a backend batch them; the simulator does not).",
  },
  grantUnmap: { charged: ["grant-unmap"], source: "Model assumption: one GNTTABOP_unmap_grant_ref, priced as one hypercall." },
  packetProcessing: {
    charged: ["packet"],
    source:
      "Model assumption, bounded by published facts: bare-metal Linux without IOMMU protection fills a 10 Gb/s line of 1,500-byte packets (vIOMMU: “100% of a 10Gbps line rate”), so at most ~1,200 cycles per packet at the simulated 1 GHz; and copying each packet through shadow buffers costs only “0% - 25%” against no IOMMU at 40 Gb/s (Markuze et al., ASPLOS 2016, abstract), so the stack’s own work must be several times a 1,500-byte copy. 500 sits inside both bounds.",
  },
  mappingLookup: {
    charged: ["mapping-reuse", "bounce-copy"],
    source:
      "Model assumption: a hash lookup of a mapping the driver kept (optimistic teardown, persistent, shared) or of a ring slot’s shadow buffer (copy), about one cached memory read.",
  },
  cyclesPerMicrosecond: {
    charged: [],
    source:
      "Model assumption: a 1 GHz simulated CPU. Converts cycles into time for the lazy IOTLB’s 10 ms timer and for optimistic teardown, and into throughput for packet streams.",
  },
});

/**
 * Problems with a source table: constants without an entry, entries for constants the model no
 * longer has, and entries whose source neither starts with "Model assumption" nor names a year
 * (a publication) or a file path (kernel code). Empty when every constant is sourced.
 */
export function costSourceProblems(sources: Readonly<Record<string, CostSource>>, costs: Readonly<object> = DEFAULT_COSTS): string[] {
  const names = Object.keys(costs);
  const problems = names.filter((name) => !(name in sources)).map((name) => `${name}: no source`);
  for (const [name, entry] of Object.entries(sources)) {
    if (!names.includes(name)) problems.push(`${name}: not a constant of the model`);
    else if (!/^Model assumption/.test(entry.source) && !/\b(19|20)\d\d\b|\w\/\w+\.[ch]\b/.test(entry.source))
      problems.push(`${name}: source names no publication year or file, and is not marked "Model assumption"`);
    else if (entry.measured && /^Model assumption/.test(entry.source))
      problems.push(`${name}: marked measured but its source is a model assumption`);
  }
  return problems;
}

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
