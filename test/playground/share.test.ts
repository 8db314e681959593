// Share links and saved edits: a link restores exactly the code it was made from, a damaged one is
// refused with a reason (never restored as garbage), and a reload keeps the reader's last edit.
import { describe, expect, test } from "vitest";
import { compressToEncodedURIComponent } from "lz-string";
import { readHashParam, shareKey, withHashParam } from "../../src/playground/page/hash-params.js";
import { decodeShare, encodeShare, MAX_SHARED_CODE_CHARS } from "../../src/playground/page/share-code.js";
import { chooseInitialCode, clearEdit, loadEdit, saveEdit, storageKey, type KeyValueStore } from "../../src/playground/page/persist.js";

const CODE = 'import { createMachine } from "dma-lab";\nconst m = createMachine({ memory: "1 GiB" }); // ünïcode ✓ & = # %\n';

describe("hash parameters", () => {
  test("one key per embed; other embeds and heading anchors are kept", () => {
    expect(shareKey(2)).toBe("pg-2");
    let hash = withHashParam("", "pg-1", "AAA");
    expect(hash).toBe("#pg-1=AAA");
    hash = withHashParam(hash, "pg-2", "BBB");
    hash = withHashParam(hash, "pg-1", "CCC");
    expect(hash).toBe("#pg-2=BBB&pg-1=CCC");
    expect(readHashParam(hash, "pg-1")).toBe("CCC");
    expect(readHashParam(hash, "pg-3")).toBeUndefined();
    expect(withHashParam("#pg-2=BBB", "pg-2", undefined)).toBe("");
    expect(readHashParam("#addresses", "pg-1")).toBeUndefined();
    expect(readHashParam("#pg-10=X", "pg-1")).toBeUndefined();
  });
});

describe("share payloads", () => {
  test("round-trip any code, using only characters a URL hash keeps as they are", () => {
    const payload = encodeShare(CODE);
    expect(payload).toMatch(/^[A-Za-z0-9+\-$]+$/);
    expect(decodeShare(payload)).toEqual({ ok: true, code: CODE });
    expect(decodeShare(encodeShare(""))).toEqual({ ok: true, code: "" });
  });

  test("a cut, edited or foreign payload is refused with a specific reason", () => {
    const payload = encodeShare(CODE);
    const cut = decodeShare(payload.slice(0, Math.floor(payload.length / 2)));
    expect(cut).toEqual({ ok: false, reason: expect.stringMatching(/cut short/) });
    expect(decodeShare("")).toEqual({ ok: false, reason: expect.stringMatching(/no code/) });
    expect(decodeShare("not%20base64!")).toEqual({ ok: false, reason: expect.stringMatching(/characters a share link never has/) });
    expect(decodeShare("garbage")).toMatchObject({ ok: false });
    expect(decodeShare(encodeFrom({ v: 99, code: "x" }))).toEqual({ ok: false, reason: expect.stringMatching(/newer version/) });
    expect(decodeShare(encodeFrom({ v: 1, code: 5 }))).toEqual({ ok: false, reason: expect.stringMatching(/no playground code/) });
    expect(decodeShare(encodeFrom({ v: 1, code: "x".repeat(MAX_SHARED_CODE_CHARS + 1) }))).toEqual({
      ok: false,
      reason: expect.stringMatching(/too long/),
    });
  });

  test("no truncation of a payload restores anything but the exact code (damage is refused, never shown as garbage)", () => {
    const payload = encodeShare(CODE);
    for (let n = 0; n < payload.length; n++) {
      const decoded = decodeShare(payload.slice(0, n));
      if (decoded.ok) expect(decoded.code).toBe(CODE);
    }
  });
});

/** A payload of a hand-made state, encoded as encodeShare encodes (which only makes valid ones). */
function encodeFrom(state: unknown): string {
  return compressToEncodedURIComponent(JSON.stringify(state));
}

class MemoryStore implements KeyValueStore {
  readonly items = new Map<string, string>();
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
}

describe("saved edits", () => {
  test("keyed by page path and embed; trailing slash and index.html are one page", () => {
    expect(storageKey("/playground-basics/", 1)).toBe("dma-lab:playground:/playground-basics:1");
    expect(storageKey("/playground-basics/index.html", 1)).toBe(storageKey("/playground-basics", 1));
    expect(storageKey("/", 2)).toBe("dma-lab:playground:/:2");
    expect(storageKey("/a/", 1)).not.toBe(storageKey("/a/", 2));
  });

  test("save, load and clear; unreadable entries and refusing storage count as none", () => {
    const store = new MemoryStore();
    expect(saveEdit(store, "k", { code: "x", base: "P" })).toBe(true);
    expect(loadEdit(store, "k")).toEqual({ code: "x", base: "P" });
    clearEdit(store, "k");
    expect(loadEdit(store, "k")).toBeUndefined();
    store.setItem("k", "{not json");
    expect(loadEdit(store, "k")).toBeUndefined();
    store.setItem("k", '{"code": 3}');
    expect(loadEdit(store, "k")).toBeUndefined();
    const full: KeyValueStore = {
      getItem: () => null,
      setItem: () => {
        throw new Error("QuotaExceededError");
      },
      removeItem: () => {},
    };
    expect(saveEdit(full, "k", { code: "x" })).toBe(false);
    expect(saveEdit(undefined, "k", { code: "x" })).toBe(false);
  });
});

describe("chooseInitialCode", () => {
  const page = "page code";
  const payload = encodeShare("shared code");
  const share = { payload, decoded: decodeShare(payload) };

  test("nothing saved: the page’s code", () => {
    expect(chooseInitialCode(page, undefined, undefined)).toEqual({ code: page, from: "page" });
  });
  test("a saved edit survives a reload", () => {
    expect(chooseInitialCode(page, undefined, { code: "mine" })).toEqual({ code: "mine", from: "edit" });
  });
  test("a share link wins over an unrelated saved edit", () => {
    expect(chooseInitialCode(page, share, { code: "mine" })).toEqual({ code: "shared code", from: "share", base: payload });
  });
  test("an edit made from this very link wins over the link (reload keeps the work)", () => {
    expect(chooseInitialCode(page, share, { code: "mine", base: payload })).toEqual({ code: "mine", from: "edit", base: payload });
  });
  test("a damaged link: the page’s code and the reason, not the saved edit", () => {
    const bad = { payload: "XYZ", decoded: decodeShare("XYZ") };
    expect(chooseInitialCode(page, bad, { code: "mine" })).toEqual({ code: page, from: "page", problem: expect.any(String) });
  });
});
