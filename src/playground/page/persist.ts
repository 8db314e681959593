// The reader's last edit of each embed, in localStorage, keyed by page path and embed index, and
// the rule that picks the code an embed starts with: a share link, the last edit, or the page's.
import type { DecodedShare } from "./share-code.js";

/** Longest edit kept (localStorage is small, and shared by the whole site). */
export const MAX_STORED_CODE_CHARS = 100_000;

/** The subset of the Web Storage API used here (a fake in tests). */
export type KeyValueStore = Pick<Storage, "getItem" | "setItem" | "removeItem">;

/** A saved edit. `base` is the share payload the reader opened before editing, if any. */
export interface StoredEdit {
  code: string;
  base?: string;
}

/** The storage key of the `embed`-th playground (1-based) on the page at `path`. */
export function storageKey(path: string, embed: number): string {
  // "/a/", "/a" and "/a/index.html" are one page.
  const page = path.replace(/index\.html$/, "").replace(/\/+$/, "") || "/";
  return `dma-lab:playground:${page}:${embed}`;
}

export function loadEdit(store: KeyValueStore | undefined, key: string): StoredEdit | undefined {
  try {
    const raw = store?.getItem(key);
    if (!raw) return undefined;
    const value = JSON.parse(raw) as { code?: unknown; base?: unknown };
    if (typeof value.code !== "string" || value.code.length > MAX_STORED_CODE_CHARS) return undefined;
    return typeof value.base === "string" ? { code: value.code, base: value.base } : { code: value.code };
  } catch {
    // Unreadable entries (or storage denied) are as good as none.
    return undefined;
  }
}

/** Saves the edit; false when storage refused it (full, disabled) or it is too long. */
export function saveEdit(store: KeyValueStore | undefined, key: string, edit: StoredEdit): boolean {
  if (!store || edit.code.length > MAX_STORED_CODE_CHARS) return false;
  try {
    store.setItem(key, JSON.stringify(edit));
    return true;
  } catch {
    return false;
  }
}

export function clearEdit(store: KeyValueStore | undefined, key: string): void {
  try {
    store?.removeItem(key);
  } catch {
    // Storage denied: nothing was saved either.
  }
}

export interface InitialCode {
  code: string;
  from: "page" | "share" | "edit";
  /** The share payload `code` came from or was edited from (kept with later edits). */
  base?: string;
  /** Why a share link was not restored. */
  problem?: string;
}

/**
 * The code an embed starts with. A share link wins over a saved edit, unless the edit was made
 * from that very link (then the reader's later work wins: reloading must not undo it). A damaged
 * link restores nothing: the page's code, and the reason.
 */
export function chooseInitialCode(
  original: string,
  share: { payload: string; decoded: DecodedShare } | undefined,
  stored: StoredEdit | undefined,
): InitialCode {
  if (share) {
    if (!share.decoded.ok) return { code: original, from: "page", problem: share.decoded.reason };
    if (stored?.base === share.payload) return { code: stored.code, from: "edit", base: share.payload };
    return { code: share.decoded.code, from: "share", base: share.payload };
  }
  if (stored) return { code: stored.code, from: "edit", ...(stored.base !== undefined && { base: stored.base }) };
  return { code: original, from: "page" };
}
