/** Number formatting for picture labels (sizes and hex as the simulator prints them). */
export { formatSize as size, hex } from "../sim/index.js";

/** 4000 → "4,000". */
export function grouped(n: number): string {
  // By hand rather than toLocaleString: identical output in every runtime and locale.
  const digits = String(Math.abs(Math.round(n)));
  return (n < 0 ? "-" : "") + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** 4000 → "4,000"; 262144 → "262k"; 4194304 → "4.2M": fits inside a narrow cell. */
export function compact(n: number): string {
  if (n < 10_000) return grouped(n);
  if (n < 1_000_000) return `${Math.round(n / 1000)}k`;
  if (n < 1_000_000_000) return `${trim(n / 1_000_000)}M`;
  return `${trim(n / 1_000_000_000)}G`;
}

function trim(x: number): string {
  return x >= 100 ? String(Math.round(x)) : x.toFixed(1).replace(/\.0$/, "");
}

/** "1 page" / "3 pages". */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${grouped(n)} ${n === 1 ? word : pluralWord}`;
}
