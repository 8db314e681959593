import { hex } from "./units.js";
import type { Domain } from "./domain.js";
import type { IommuDomain } from "./iommu.js";
import { StateKey } from "./state.js";

/**
 * Foreign pages, the backend side of a grant mapping: the struct page a backend domain gets for
 * a frame another domain granted it, per its {@link ForeignPageStrategy} ("map" or "tag", see
 * foreign.ts). grant.ts calls in here when a mapping is made or undone; the DMA-API finds tagged
 * pages through {@link taggedFrameAt} (dma/tagged.ts).
 */

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

const FOREIGN_PAGES = new StateKey<ForeignRegistry, Domain>("foreign pages", (domain) => ({
  balloon: [],
  nextHighPfn: domain.machine.frameCount,
  identity: new Map(),
  tagged: new Map(),
}));

function registryOf(domain: Domain): ForeignRegistry {
  return domain.state.get(FOREIGN_PAGES);
}

/**
 * @internal The grant behind the tagged foreign page holding guest-physical `gpa` (the page is
 * flagged "foreign-tagged" and page->private holds the grant handle), or undefined.
 */
export function taggedFrameAt(domain: Domain, gpa: number): ForeignFrame | undefined {
  const state = domain.pageState.get(Math.floor(gpa / domain.machine.pageSize));
  if (!state?.flags.has("foreign-tagged") || state.private === null) return undefined;
  return domain.state.peek(FOREIGN_PAGES)?.tagged.get(state.private);
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
    m.emit(
      "grant",
      () =>
        `${domain.name}: SetPageForeign(pfn ${hex(pfn)}), page->private = grant handle ${f.handle} (${what}); the frame is not mapped into ${domain.name}'s address space`,
      { ...fields, address: pfn * m.pageSize },
    );
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
    m.emit(
      "grant",
      () =>
        `${domain.name}: create_grant_host_mapping() is a stub that evaluates to 0 in a P==M dom0: nothing is mapped; ${domain.name} addresses ${what} at its machine address ${hex(pfn * m.pageSize)}, which nothing isolates`,
      { ...fields, address: pfn * m.pageSize },
    );
    return { pfn, address: pfn * m.pageSize };
  }
  const pfn = takeBalloonPfn(domain);
  domain.extraP2m.set(pfn, f.mfn);
  markForeign(domain, pfn, f, false);
  if (domain.mode === "P2M") {
    m.emit(
      "p2m-update",
      `${domain.name}: set_foreign_p2m_mapping: pfn ${hex(pfn)} → FOREIGN_FRAME(mfn ${hex(f.mfn)}) (${what}, at a ballooned-out page)`,
      { ...fields, address: pfn * m.pageSize, cost: m.costs.p2mRead },
    );
  } else {
    m.emit(
      "grant",
      () =>
        `${domain.name}: Xen installed ${what} at pfn ${hex(pfn)} during the hypercall (VP: ${domain.name} never learns the machine frame)`,
      { domain: domain.name, address: pfn * m.pageSize, bytes: m.pageSize },
    );
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
    m.emit("grant", () => `${domain.name}: ClearPageForeign(pfn ${hex(pfn)}) (grant handle ${handle})`, {
      domain: domain.name,
      address: pfn * m.pageSize,
    });
    return;
  }
  const users = r.identity.get(pfn);
  if (users) {
    users.splice(
      users.findIndex((u) => u.handle === handle),
      1,
    );
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
    m.emit("p2m-update", `${domain.name}: clear_foreign_p2m_mapping: pfn ${hex(pfn)} (was mfn ${hex(mfn ?? 0)}) is ballooned out again`, {
      domain: domain.name,
      address: pfn * m.pageSize,
      cost: m.costs.p2mRead,
    });
  }
}
