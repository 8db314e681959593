import { hex } from "../units.js";
import { taggedFrameAt } from "../foreign-pages.js";
import type { ForeignFrame } from "../foreign-pages.js";
import type {
  BackendContext,
  BackendName,
  CoherentResult,
  Direction,
  DmaBackend,
  MapResult,
  PhysRange,
  SgResult,
  SgSegment,
} from "./backend.js";

/**
 * The DMA-API's side of the "tag" foreign-page strategy (a suggestion from the Xen summit that
 * Gerd Hoffmann relayed in the thread; foreign.ts quotes it), as the summit's suggestion has the
 * xenified DMA-API do. For a page flagged `foreign-tagged` it reads the grant
 * handle from page->private and uses the grant's device mapping — the IOVA Xen installed in this
 * device's IOMMU domain, or, without an IOMMU, the frame's machine address (dev_bus_addr) — with
 * no p2m lookup and no hypercall. Other pages go to the wrapped backend unchanged.
 *
 * A tagged page cannot be bounced: a bounce is a CPU copy, which needs the page mapped (kmap).
 * So a tagged frame beyond the device's mask is a mapping error, even under swiotlb.
 * A scatterlist with any tagged entry is mapped entry by entry (no merging).
 *
 * It also applies the backend's {@link DmaBackend.enforcesGrantPermissions}: when Xen installs
 * the device mappings, a device-writable mapping of a page granted read-only is refused.
 */
export class TaggedPageBackend implements DmaBackend {
  readonly name: BackendName;
  readonly enforcesGrantPermissions: boolean;
  readonly isMappingError?: (busAddress: number) => boolean;

  constructor(
    private readonly inner: DmaBackend,
    private readonly ctx: BackendContext,
  ) {
    this.name = inner.name;
    this.enforcesGrantPermissions = inner.enforcesGrantPermissions;
    if (inner.isMappingError) this.isMappingError = (busAddress) => inner.isMappingError?.(busAddress) ?? false;
  }

  /** Whether a DMA-API needs this wrapper: its domain tags foreign pages, or its backend checks grant permissions. */
  static neededFor(inner: DmaBackend, ctx: BackendContext): boolean {
    return ctx.domain.foreignPages === "tag" || inner.enforcesGrantPermissions;
  }

  maxMappingSize(): number {
    return this.inner.maxMappingSize();
  }

  dmaSupported(maskBits: number): boolean {
    return this.inner.dmaSupported(maskBits);
  }

  allocCoherent(size: number): CoherentResult {
    return this.inner.allocCoherent(size);
  }

  freeCoherent(cpuAddress: number, size: number, busAddress: number, state: unknown): void {
    this.inner.freeCoherent(cpuAddress, size, busAddress, state);
  }

  private mapTagged(range: PhysRange, f: ForeignFrame): MapResult<TaggedMapping> {
    const { machine: m, device, domain } = this.ctx;
    const offset = range.gpa % m.pageSize;
    const what = `tagged foreign page (grant handle ${f.handle}, ${f.granter} gref ${hex(f.gref)})`;
    if (offset + range.length > m.pageSize) {
      return {
        ok: false,
        reason: `a ${what} is one page: ${range.length} bytes at offset ${offset} run past its end (map each page as its own scatterlist entry)`,
      };
    }
    // Under "tag" every mapping has GNTMAP_device_map (no host map is allowed, and Xen refuses a
    // map op with neither), so dev_bus_addr is always there.
    let busAddress: number;
    if (device.iommu) {
      if (f.iommu !== device.iommu || f.devBusAddress === null) {
        return {
          ok: false,
          reason: `${device.name} translates through its IOMMU, but the ${what} was device-mapped ${f.iommu ? `in IOMMU group ${f.iommu.group}` : "without an IOMMU entry"}: pass device: ${device.name} to mapGrant`,
        };
      }
      busAddress = f.devBusAddress + offset;
    } else {
      busAddress = f.mfn * m.pageSize + offset;
      if (busAddress + range.length > device.dmaLimit) {
        return {
          ok: false,
          reason: `the ${what} is at machine ${hex(f.mfn * m.pageSize)}, beyond ${device.name}'s ${device.dmaMask}-bit mask, and it cannot be bounced: a bounce buffer is filled by a CPU copy, through kmap(), and a tagged page has no mapping`,
        };
      }
    }
    m.emit(
      "grant",
      () =>
        `PageForeign: ${domain.name}'s DMA-API takes the bus address of the ${what} from the grant: ${hex(busAddress)} (no p2m lookup, no hypercall)`,
      {
        domain: domain.name,
        device: device.name,
        address: range.gpa,
        busAddress,
        machineAddress: f.mfn * m.pageSize + offset,
        bytes: range.length,
        cost: m.costs.directMap,
      },
    );
    return { ok: true, busAddress, state: new TaggedMapping(f.handle) };
  }

  /**
   * When Xen writes the IOMMU entries it will not give a device write access to a frame the
   * domain holds only read-only (a GNTMAP_readonly grant mapping: Xen maps such frames
   * IOMMUF_readable only, grant_table.c). Other backends hand the device a machine address and
   * nothing checks (the device write is then reported).
   */
  private readOnlyRefusal(range: PhysRange, dir: Direction): string | undefined {
    if (dir === "TO_DEVICE" || !this.inner.enforcesGrantPermissions) return undefined;
    const { domain, machine } = this.ctx;
    const pfn = Math.floor(range.gpa / machine.pageSize);
    const last = Math.floor((range.gpa + Math.max(range.length, 1) - 1) / machine.pageSize);
    for (let p = pfn; p <= last; p++) {
      if (domain.pageState.get(p)?.flags.has("grant-readonly")) {
        return `pfn ${hex(p)} maps a foreign frame granted read-only: Xen will not install a device-writable IOMMU entry for it (${dir} lets the device write)`;
      }
    }
    return undefined;
  }

  map(range: PhysRange, dir: Direction): MapResult {
    const f = taggedFrameAt(this.ctx.domain, range.gpa);
    if (f) return this.mapTagged(range, f);
    const refusal = this.readOnlyRefusal(range, dir);
    return refusal ? { ok: false, reason: refusal } : this.inner.map(range, dir);
  }

  unmap(busAddress: number, size: number, dir: Direction, state: unknown, skipCpuSync?: boolean): void {
    if (!(state instanceof TaggedMapping)) this.inner.unmap(busAddress, size, dir, state, skipCpuSync);
  }

  syncForCpu(busAddress: number, offset: number, size: number, dir: Direction, state: unknown): void {
    if (!(state instanceof TaggedMapping)) this.inner.syncForCpu(busAddress, offset, size, dir, state);
  }

  syncForDevice(busAddress: number, offset: number, size: number, dir: Direction, state: unknown): void {
    if (!(state instanceof TaggedMapping)) this.inner.syncForDevice(busAddress, offset, size, dir, state);
  }

  mapSg(entries: PhysRange[], dir: Direction): SgResult {
    const frames = entries.map((e) => taggedFrameAt(this.ctx.domain, e.gpa));
    for (const entry of entries) {
      const refusal = this.readOnlyRefusal(entry, dir);
      if (refusal) return { ok: false, reason: refusal };
    }
    if (frames.every((f) => f === undefined)) return this.inner.mapSg(entries, dir);
    const segments: SgSegment[] = [];
    const states: unknown[] = [];
    for (const [i, entry] of entries.entries()) {
      const f = frames[i];
      const result = f ? this.mapTagged(entry, f) : this.inner.map(entry, dir);
      if (!result.ok) {
        // As the sg mappers do on failure: undo what was mapped, without copying back.
        segments.forEach((s, j) => this.unmap(s.busAddress, s.length, dir, states[j], true));
        return { ok: false, reason: result.reason };
      }
      segments.push({ busAddress: result.busAddress, length: entry.length });
      states.push(result.state);
    }
    return { ok: true, segments, state: new MixedSgState(states) };
  }

  unmapSg(entries: PhysRange[], segments: SgSegment[], dir: Direction, state: unknown): void {
    if (!(state instanceof MixedSgState)) return this.inner.unmapSg(entries, segments, dir, state);
    segments.forEach((s, i) => this.unmap(s.busAddress, s.length, dir, state.states[i]));
  }

  syncSg(entries: PhysRange[], segments: SgSegment[], dir: Direction, state: unknown, toCpu: boolean): void {
    if (!(state instanceof MixedSgState)) return this.inner.syncSg(entries, segments, dir, state, toCpu);
    segments.forEach((s, i) =>
      toCpu
        ? this.syncForCpu(s.busAddress, 0, s.length, dir, state.states[i])
        : this.syncForDevice(s.busAddress, 0, s.length, dir, state.states[i]),
    );
  }
}

/** The DMA-API's state for one tagged mapping: nothing to undo at unmap (the grant unmap does it). */
class TaggedMapping {
  constructor(readonly handle: number) {}
}

/** A scatterlist mixing tagged and ordinary pages: each entry mapped on its own. */
class MixedSgState {
  constructor(readonly states: unknown[]) {}
}
