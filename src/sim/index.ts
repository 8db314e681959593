/**
 * DMA Lab's simulator: a machine, Xen domains in P==M, P2M and VP modes, devices with or without
 * an IOMMU, and the Linux DMA-API with one backend per position in the 2006 Xen-devel thread
 * "VP problematic for backend drivers on IA64?". This file is the whole public API.
 *
 * Import the simulator from here: the layers built on the machine core add their methods to
 * Machine and Domain when they load (so the core need not import them), and this file loads them
 * all — the grant operations (grant-table.ts), kmap (kmap.ts), dmaApi (dma/api.ts), snapshot, its
 * history and stats({ at }) (history.ts over snapshot.ts).
 *
 * Stepping through a run (time travel): call `machine.recordHistory()` before the machine's
 * first event (from `machineHooks.created` to catch every machine), then at any step:
 * - `machine.snapshot({ at: seq })`: the machine right after trace event `seq` (an array
 *   lookup; shared with later calls, so read only);
 * - `machine.stats({ at: seq })`: counts, costs and time up to that event (needs no history);
 * - `machine.changes({ at: seq })`: what appeared, went away or changed at that step, for
 *   marking the picture; `diffSnapshots(a, b)` compares any two snapshots.
 * `recordHistory({ events: n })` keeps only the first n events' moments (each costs a small
 * snapshot: O(live mappings, slots, PTEs, grants); memory-sized parts are shared between moments).
 * @example
 * const m = createMachine({ memory: "64 MiB" });
 * m.recordHistory();
 * // ... run driver code ...
 * for (let at = 1; at <= m.trace.length; at++) {
 *   const { appeared, gone } = m.changes({ at });
 *   console.log(m.trace[at - 1].kind, appeared.map((c) => c.label), gone.map((c) => c.label));
 * }
 */
import "./grant-table.js";
import "./kmap.js";
import "./dma/api.js";
import "./history.js";

export { createMachine, Machine, machineHooks } from "./machine.js";
export type { MachineConfig, Arch, Era, Hypervisor, Limits, MachineHooks } from "./machine.js";
export { Domain } from "./domain.js";
export type { DomainConfig, DomainMode, Layout, StructPage } from "./domain.js";
export { Device, DMA_MAPPING_ERROR } from "./device.js";
export type { DeviceConfig } from "./device.js";
export type { IommuOptions, Invalidation } from "./iommu.js";
export { DmaApi, EIO } from "./dma/api.js";
export type { SgEntry, SgMapping, DmaApiOptions } from "./dma/api.js";
export type { BackendName, Direction, SgSegment } from "./dma/backend.js";
export { BACKEND_NAMES } from "./dma/backend.js";
export { SimError, describeValue } from "./errors.js";
export type { SimErrorCode } from "./errors.js";
export type { TraceEvent, EventKind, Stats, Severity } from "./trace.js";
export { diffSnapshots } from "./snapshot-diff.js";
export type { SnapshotChange, SnapshotChanges, ChangeKind } from "./snapshot-diff.js";
export type { AtOptions, HistoryOptions } from "./history.js";
export type { MachineSnapshot, FrameRun, P2mRun, DomainSnapshot, MappingSnapshot, IommuSnapshot, SwiotlbSnapshot } from "./snapshot.js";
export type { SwiotlbKind } from "./swiotlb-pool.js";
export {
  GrantError,
  GNTST,
  GTF_permit_access,
  GTF_readonly,
  GTF_reading,
  GTF_writing,
  GNTMAP_device_map,
  GNTMAP_host_map,
  GNTMAP_readonly,
  GNTTAB_NR_RESERVED_ENTRIES,
} from "./grant.js";
export type {
  GntStatusName,
  GrantAccessOptions,
  MapGrantOptions,
  UnmapGrantOptions,
  GrantMapping,
  GrantEntry,
  GrantSnapshot,
  ForeignPageSnapshot,
} from "./grant.js";
export { FOREIGN_PAGE_STRATEGIES } from "./foreign.js";
export type { ForeignPageStrategy } from "./foreign.js";
export { kmap, bounceForBlockLayer, finishBlockBounce, pioTransfer } from "./kmap.js";
export type { PageSegment, BlockBounce, PioOptions } from "./kmap.js";
export { createRequestQueue, RequestQueue, SECTOR_SIZE, MAX_BIO_VECS } from "./block.js";
export type { BioSegment, BioVec, BlockOp, BlockRequest, BounceRule, RequestMapping, RequestQueueOptions, SgMappingMode } from "./block.js";
export * from "./scenarios/index.js";
export { DEFAULT_COSTS } from "./costs.js";
export type { CostModel } from "./costs.js";
export { parseSize, formatSize, hex, KiB, MiB, GiB } from "./units.js";
export type { Size } from "./units.js";
