// Share links carry an embed's code, lz-string compressed (`compressToEncodedURIComponent`, whose
// alphabet needs no escaping in a URL). The compressed text is a small versioned JSON object, so
// later settings (machine config) can join the code, and a damaged link is detected rather than
// restored as garbage: lz-string has no checksum, but a cut or edited payload almost never
// decompresses to valid JSON of the right shape.
import { compressToEncodedURIComponent, decompressFromEncodedURIComponent } from "lz-string";

const VERSION = 1;
/** Longest payload read from a link (a URL this long is already unusual). */
export const MAX_PAYLOAD_CHARS = 200_000;
/** Longest code restored from a link. */
export const MAX_SHARED_CODE_CHARS = 100_000;

export type DecodedShare = { ok: true; code: string } | { ok: false; reason: string };

/** The hash value that restores `code`. */
export function encodeShare(code: string): string {
  return compressToEncodedURIComponent(JSON.stringify({ v: VERSION, code }));
}

/** Reads a hash value made by {@link encodeShare}; `reason` says what is wrong with a bad one. */
export function decodeShare(payload: string): DecodedShare {
  if (payload === "") return { ok: false, reason: "the link holds no code (nothing after “=”)" };
  if (payload.length > MAX_PAYLOAD_CHARS) {
    return { ok: false, reason: `the link’s code is too long (${payload.length} characters; at most ${MAX_PAYLOAD_CHARS})` };
  }
  if (!/^[A-Za-z0-9+\-$]*$/.test(payload)) {
    return { ok: false, reason: "the link’s code contains characters a share link never has (was it edited by hand?)" };
  }
  let text: string | null;
  try {
    text = decompressFromEncodedURIComponent(payload);
  } catch {
    text = null;
  }
  if (!text) return { ok: false, reason: "the link’s code does not decompress (was the link cut short?)" };
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    return {
      ok: false,
      reason: "the link’s code is damaged: it decompresses to something that is not playground code (was the link cut short or edited?)",
    };
  }
  if (typeof state !== "object" || state === null) return { ok: false, reason: "the link’s code is damaged: it holds no playground state" };
  const { v, code } = state as { v?: unknown; code?: unknown };
  if (typeof v === "number" && v > VERSION) {
    return { ok: false, reason: `the link was made by a newer version of DMA Lab (format ${v}; this page reads format ${VERSION})` };
  }
  if (v !== VERSION || typeof code !== "string") return { ok: false, reason: "the link’s code is damaged: it holds no playground code" };
  if (code.length > MAX_SHARED_CODE_CHARS) {
    return { ok: false, reason: `the shared code is too long (${code.length} characters; at most ${MAX_SHARED_CODE_CHARS})` };
  }
  return { ok: true, code };
}
