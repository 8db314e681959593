// The strategies' names, below the machine core; foreign-pages.ts installs and removes the
// struct pages, and dma/tagged.ts is the DMA-API's side of "tag".

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
 *   grant handle, and the frame is never mapped. The DMA-API (see dma/tagged.ts)
 *   takes the bus address from the grant; anything that needs a CPU mapping — kmap() — fails.
 *
 * Page flags used: "foreign" (PG_foreign; mainline sets it in gnttab_map_refs too),
 * "foreign-tagged" (no mapping exists), "grant-readonly" (the grant mapping is GNTMAP_readonly).
 */
export type ForeignPageStrategy = "map" | "tag";

/** The accepted values of `DomainConfig.foreignPages`. */
export const FOREIGN_PAGE_STRATEGIES: readonly ForeignPageStrategy[] = ["map", "tag"];
