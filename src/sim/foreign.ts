import { hex } from "./units.js";
import type { Domain } from "./domain.js";
import type { IommuDomain } from "./iommu.js";
import type { BackendContext, Direction, DmaBackend, MapResult, PhysRange, SgResult, SgSegment } from "./dma/backend.js";

/**
 * Foreign pages: how a backend domain (dom0) gets a `struct page` for a frame another domain
 * granted it, so it can hand the page to the block or network layer and on to the DMA-API.
 *
 * - **map** (what Xen backends do, then and now): the frame is grant-mapped into the backend's
 *   pseudo-physical space at a ballooned-out PFN. P2M: dom0 writes its own p2m
 *   (set_foreign_p2m_mapping stores the foreign MFN); VP: Xen installs it during the hypercall
 *   (create_grant_host_mapping with a guest-physical address); P==M: create_grant_host_mapping is
 *   a stub that evaluates to 0 (xen/include/asm-ia64/grant_table.h without CONFIG_XEN_IA64_DOM0_VP)
 *   — nothing is mapped and nothing isolates the frame: dom0's "physical" address of it is its
 *   machine address. The DMA-API then treats the page like any of dom0's own pages.
 * - **tag** (a suggestion from the Xen summit that Gerd Hoffmann relayed in the thread: "allocate
 *   some "struct page" for foreign pages and tag them somehow (new page flag + grant table handle
 *   in page->private maybe). The xenified kernel's DMA mapping implementation can check the flag
 *   then and do the "right thing""): the struct page is flagged `foreign` and `foreign-tagged`, page->private holds the
 *   grant handle, and the frame is never mapped. The DMA-API (see {@link foreignAwareBackend})
 *   takes the bus address from the grant; anything that needs a CPU mapping — kmap() — fails.
 *
 * Page flags used: "foreign" (PG_foreign; mainline sets it in gnttab_map_refs too),
 * "foreign-tagged" (no mapping exists), "grant-readonly" (the grant mapping is GNTMAP_readonly).
 */
export type ForeignPageStrategy = "map" | "tag";

/** The accepted values of `DomainConfig.foreignPages`. */
export const FOREIGN_PAGE_STRATEGIES: readonly ForeignPageStrategy[] = ["map", "tag"];

/** @internal What mapGrant tells the strategy about a new grant mapping. */
export interface ForeignFrame {
  handle: number;
  granter: string;
  gref: number;
  mfn: number;
  readonly: boolean;
  /** GNTMAP_host_map was requested (always false under "tag"). */
  host: boolean;
  /** dev_bus_addr, or null without GNTMAP_device_map. */
  devBusAddress: number | null;
  /** The IOMMU protection domain holding the device mapping, or null (machine address). */
  iommu: IommuDomain | null;
}

interface ForeignRegistry {
  /** Ballooned-out PFNs free for the next foreign page (reused last-freed-first). */
  balloon: number[];
  /** P==M: tagged struct pages get PFNs above machine memory, where no identity mapping can land. */
  nextHighPfn: number;
  /** P==M "map": the mappings sharing the identity PFN of one frame. */
  identity: Map<number, { handle: number; readonly: boolean }[]>;
  /** Tagged pages by handle: what the DMA-API needs to find the frame. */
  tagged: Map<number, ForeignFrame>;
}

const registries = new WeakMap<Domain, ForeignRegistry>();

function registryOf(domain: Domain): ForeignRegistry {
  let r = registries.get(domain);
  if (!r) {
    r = { balloon: [], nextHighPfn: domain.machine.frameCount, identity: new Map(), tagged: new Map() };
    registries.set(domain, r);
  }
  return r;
}

/** A ballooned-out PFN: a struct page with no RAM behind it (Linux: alloc_xenballooned_pages). */
function takeBalloonPfn(domain: Domain): number {
  const r = registryOf(domain);
  return r.balloon.pop() ?? (domain.mode === "P==M" ? r.nextHighPfn++ : domain.reserveExtraPfns(1));
}

/**
 * @internal Gives the grant mapping `f` its struct page in `domain`, per the domain's strategy.
 * Returns the page's PFN and, when host-mapped, its guest-physical address.
 */
export function installForeignPage(domain: Domain, f: ForeignFrame): { pfn: number; address: number | null } {
  const m = domain.machine;
  const fields = { domain: domain.name, machineAddress: f.mfn * m.pageSize, bytes: m.pageSize };
  const what = `${f.granter} gref ${hex(f.gref)}`;
  if (domain.foreignPages === "tag") {
    const pfn = takeBalloonPfn(domain);
    markForeign(domain, pfn, f, true);
    registryOf(domain).tagged.set(f.handle, f);
    m.emit("grant", `${domain.name}: SetPageForeign(pfn ${hex(pfn)}), page->private = grant handle ${f.handle} (${what}); the frame is not mapped into ${domain.name}'s address space`, { ...fields, address: pfn * m.pageSize });
    return { pfn, address: null };
  }
  if (domain.mode === "P==M") {
    const pfn = f.mfn;
    const users = registryOf(domain).identity.get(pfn) ?? [];
    users.push({ handle: f.handle, readonly: f.readonly });
    registryOf(domain).identity.set(pfn, users);
    domain.extraP2m.set(pfn, f.mfn);
    markForeign(domain, pfn, f, false);
    markSharedReadonly(domain, pfn, users);
    m.emit("grant", `${domain.name}: create_grant_host_mapping() is a stub that evaluates to 0 in a P==M dom0: nothing is mapped; ${domain.name} addresses ${what} at its machine address ${hex(pfn * m.pageSize)}, which nothing isolates`, { ...fields, address: pfn * m.pageSize });
    return { pfn, address: pfn * m.pageSize };
  }
  const pfn = takeBalloonPfn(domain);
  domain.extraP2m.set(pfn, f.mfn);
  markForeign(domain, pfn, f, false);
  if (domain.mode === "P2M") {
    m.emit("p2m-update", `${domain.name}: set_foreign_p2m_mapping: pfn ${hex(pfn)} → FOREIGN_FRAME(mfn ${hex(f.mfn)}) (${what}, at a ballooned-out page)`, { ...fields, address: pfn * m.pageSize, cost: m.costs.p2mRead });
  } else {
    m.emit("grant", `${domain.name}: Xen installed ${what} at pfn ${hex(pfn)} during the hypercall (VP: ${domain.name} never learns the machine frame)`, { domain: domain.name, address: pfn * m.pageSize, bytes: m.pageSize });
  }
  return { pfn, address: pfn * m.pageSize };
}

function markForeign(domain: Domain, pfn: number, f: ForeignFrame, tagged: boolean): void {
  const state = domain.pageStateFor(pfn);
  state.flags.add("foreign");
  if (tagged) state.flags.add("foreign-tagged");
  if (f.readonly) state.flags.add("grant-readonly");
  else state.flags.delete("grant-readonly");
  state.private = f.handle;
}

/** A struct page shared by several mappings (P==M) is writable if any of them is. */
function markSharedReadonly(domain: Domain, pfn: number, users: { readonly: boolean }[]): void {
  const flags = domain.pageStateFor(pfn).flags;
  if (users.every((u) => u.readonly)) flags.add("grant-readonly");
  else flags.delete("grant-readonly");
}

/** @internal Undoes installForeignPage for `handle` (gnttab_unmap_refs: ClearPageForeign, clear_foreign_p2m_mapping). */
export function removeForeignPage(domain: Domain, handle: number, pfn: number): void {
  const m = domain.machine;
  const r = registryOf(domain);
  if (r.tagged.delete(handle)) {
    domain.pageState.delete(pfn);
    r.balloon.push(pfn);
    m.emit("grant", `${domain.name}: ClearPageForeign(pfn ${hex(pfn)}) (grant handle ${handle})`, { domain: domain.name, address: pfn * m.pageSize });
    return;
  }
  const users = r.identity.get(pfn);
  if (users) {
    users.splice(users.findIndex((u) => u.handle === handle), 1);
    if (users.length > 0) {
      // Another mapping of the same frame still stands behind this identity PFN.
      domain.pageStateFor(pfn).private = users[users.length - 1]!.handle;
      markSharedReadonly(domain, pfn, users);
      return;
    }
    r.identity.delete(pfn);
    domain.extraP2m.delete(pfn);
    domain.pageState.delete(pfn);
    return;
  }
  const mfn = domain.extraP2m.get(pfn);
  domain.extraP2m.delete(pfn);
  domain.pageState.delete(pfn);
  r.balloon.push(pfn);
  if (domain.mode === "P2M") {
    m.emit("p2m-update", `${domain.name}: clear_foreign_p2m_mapping: pfn ${hex(pfn)} (was mfn ${hex(mfn ?? 0)}) is ballooned out again`, { domain: domain.name, address: pfn * m.pageSize, cost: m.costs.p2mRead });
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

/**
 * Wraps a DMA-API backend so it recognises tagged foreign pages, as the summit's suggestion has
 * the xenified DMA-API do: for a page flagged `foreign-tagged` it reads the grant handle from
 * page->private and uses the grant's device mapping — the IOVA Xen installed in this device's
 * IOMMU domain, or, without an IOMMU, the frame's machine address (dev_bus_addr) — with no p2m
 * lookup and no hypercall. Pages without the flag go to the wrapped backend unchanged.
 *
 * A tagged page cannot be bounced: a bounce is a CPU copy, which needs the page mapped (kmap).
 * So a tagged frame beyond the device's mask is a mapping error, even under swiotlb.
 * A scatterlist with any tagged entry is mapped entry by entry (no merging).
 */
export function foreignAwareBackend(inner: DmaBackend, ctx: BackendContext): DmaBackend {
  const tagged = new TaggedPageDma(inner, ctx);
  const own = new Map<PropertyKey, unknown>();
  for (const name of TAGGED_METHODS) own.set(name, tagged[name].bind(tagged));
  // Everything else (name, isPhys, coherent allocations, optional hooks added later such as
  // isMappingError) is the wrapped backend's own, so the wrapper can never hide a capability.
  return new Proxy(inner, {
    get(target, prop) {
      if (own.has(prop)) return own.get(prop);
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The DmaBackend methods that look at the pages (or the state they produced). */
const TAGGED_METHODS = ["map", "unmap", "syncForCpu", "syncForDevice", "mapSg", "unmapSg", "syncSg"] as const;

class TaggedPageDma implements Pick<DmaBackend, (typeof TAGGED_METHODS)[number]> {
  constructor(
    private readonly inner: DmaBackend,
    private readonly ctx: BackendContext,
  ) {}

  /** The grant behind the tagged page holding `range`, or undefined if the page is not tagged. */
  private taggedFrame(range: PhysRange): ForeignFrame | undefined {
    const { domain, machine } = this.ctx;
    const state = domain.pageState.get(Math.floor(range.gpa / machine.pageSize));
    if (!state?.flags.has("foreign-tagged") || state.private === null) return undefined;
    return registryOf(domain).tagged.get(state.private);
  }

  private mapTagged(range: PhysRange, f: ForeignFrame): MapResult {
    const { machine: m, device, domain } = this.ctx;
    const offset = range.gpa % m.pageSize;
    const what = `tagged foreign page (grant handle ${f.handle}, ${f.granter} gref ${hex(f.gref)})`;
    if (offset + range.length > m.pageSize) {
      return { ok: false, reason: `a ${what} is one page: ${range.length} bytes at offset ${offset} run past its end (map each page as its own scatterlist entry)` };
    }
    // Under "tag" every mapping has GNTMAP_device_map (no host map is allowed, and Xen refuses a
    // map op with neither), so dev_bus_addr is always there.
    let busAddress: number;
    if (device.iommu) {
      if (f.iommu !== device.iommu || f.devBusAddress === null) {
        return { ok: false, reason: `${device.name} translates through its IOMMU, but the ${what} was device-mapped ${f.iommu ? `in IOMMU group ${f.iommu.group}` : "without an IOMMU entry"}: pass device: ${device.name} to mapGrant` };
      }
      busAddress = f.devBusAddress + offset;
    } else {
      busAddress = f.mfn * m.pageSize + offset;
      if (busAddress + range.length > device.dmaLimit) {
        return { ok: false, reason: `the ${what} is at machine ${hex(f.mfn * m.pageSize)}, beyond ${device.name}'s ${device.dmaMask}-bit mask, and it cannot be bounced: a bounce buffer is filled by a CPU copy, through kmap(), and a tagged page has no mapping` };
      }
    }
    m.emit("grant", `PageForeign: ${domain.name}'s DMA-API takes the bus address of the ${what} from the grant: ${hex(busAddress)} (no p2m lookup, no hypercall)`, {
      domain: domain.name,
      device: device.name,
      address: range.gpa,
      busAddress,
      machineAddress: f.mfn * m.pageSize + offset,
      bytes: range.length,
      cost: m.costs.directMap,
    });
    return { ok: true, busAddress, state: new TaggedMapping(f.handle) };
  }

  /**
   * With the iommu backend Xen writes the IOMMU entries, and it will not give a device write
   * access to a frame the domain holds only read-only (a GNTMAP_readonly grant mapping: Xen maps
   * such frames IOMMUF_readable only, grant_table.c). Other backends hand the device a machine
   * address and nothing checks (the device write is then reported).
   */
  private readOnlyRefusal(range: PhysRange, dir: Direction): string | undefined {
    if (dir === "TO_DEVICE" || this.inner.name !== "iommu") return undefined;
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
    const f = this.taggedFrame(range);
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
    const frames = entries.map((e) => this.taggedFrame(e));
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
    segments.forEach((s, i) => (toCpu ? this.syncForCpu(s.busAddress, 0, s.length, dir, state.states[i]) : this.syncForDevice(s.busAddress, 0, s.length, dir, state.states[i])));
  }
}
