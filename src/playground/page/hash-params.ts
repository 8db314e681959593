// The URL hash as `#key=value&key=value`, one key per embed ("pg-1", "pg-2", ...). Anything else
// in the hash (a heading anchor like "#addresses") is left alone and never read as a share.

/** The hash key of the `embed`-th playground on a page (1-based). */
export function shareKey(embed: number): string {
  return `pg-${embed}`;
}

function params(hash: string): string[] {
  const body = hash.startsWith("#") ? hash.slice(1) : hash;
  return body === "" ? [] : body.split("&");
}

/** The value of `key` in `hash`, or undefined when the hash does not mention it. */
export function readHashParam(hash: string, key: string): string | undefined {
  for (const part of params(hash)) {
    const eq = part.indexOf("=");
    if (eq >= 0 && part.slice(0, eq) === key) return part.slice(eq + 1);
  }
  return undefined;
}

/** `hash` with `key` set to `value` (or removed when `value` is undefined); other parts kept. */
export function withHashParam(hash: string, key: string, value: string | undefined): string {
  const kept = params(hash).filter((part) => part !== key && !part.startsWith(`${key}=`));
  if (value !== undefined) kept.push(`${key}=${value}`);
  return kept.length === 0 ? "" : `#${kept.join("&")}`;
}
