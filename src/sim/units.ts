import { SimError, describeValue } from "./errors.js";

/** A size: a number of bytes, or a string such as `"16 KiB"`, `"64 MiB"`, `"4 GiB"`. */
export type Size = number | string;

/** 1024 bytes: `4 * KiB` is a 4 KiB page. */
export const KiB = 1024;
/** 1024 KiB = 1,048,576 bytes. */
export const MiB = 1024 * KiB;
/** 1024 MiB = 1,073,741,824 bytes (the 32-bit DMA limit is `4 * GiB`). */
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

const UNITS: Record<string, number> = {
  b: 1,
  k: KiB,
  kib: KiB,
  m: MiB,
  mib: MiB,
  g: GiB,
  gib: GiB,
  t: TiB,
  tib: TiB,
};
const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i;

/**
 * Parses a size in bytes: a number of bytes, or a string such as "16 KiB", "1.5 MiB", "4 GiB"
 * (units B, KiB, MiB, GiB, TiB; also K, M, G, T; case-insensitive). Binary units only
 * (KiB = 1024 bytes); the decimal `KB`/`MB`/`GB` are rejected rather than guessed, because a
 * factor of 1000 vs 1024 matters for page arithmetic. `field` names the value in the
 * INVALID_SIZE error thrown for anything else.
 * @example
 * parseSize("64 MiB", "size"); // 67108864
 */
export function parseSize(value: unknown, field: string): number {
  let bytes: number;
  if (typeof value === "number") {
    bytes = value;
  } else if (typeof value === "string") {
    const match = SIZE_PATTERN.exec(value);
    const unit = match?.[2]?.toLowerCase() ?? "";
    const factor = match ? UNITS[unit === "" ? "b" : unit] : undefined;
    if (!match || factor === undefined) {
      throw new SimError(
        "INVALID_SIZE",
        `${field} must be a size such as "16 KiB", "64 MiB" or a number of bytes, got ${describeValue(value)}` +
          (match && /^[kmgt]b$/i.test(unit) ? ` (use binary units: ${unit[0]!.toUpperCase()}iB)` : ""),
        field,
      );
    }
    bytes = Number(match[1]) * factor;
  } else {
    throw new SimError("INVALID_SIZE", `${field} must be a size (bytes or a string such as "4 GiB"), got ${describeValue(value)}`, field);
  }
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new SimError(
      "INVALID_SIZE",
      `${field} must be a whole, non-negative number of bytes below 2^53, got ${describeValue(value)}`,
      field,
    );
  }
  return bytes;
}

/** Formats bytes the way a reader writes them: `16 KiB`, `1.5 MiB`, `300 bytes`. */
export function formatSize(bytes: number): string {
  const units: [number, string][] = [
    [TiB, "TiB"],
    [GiB, "GiB"],
    [MiB, "MiB"],
    [KiB, "KiB"],
  ];
  for (const [factor, name] of units) {
    if (bytes >= factor) {
      const value = bytes / factor;
      return `${Number.isInteger(value) ? value : Number(value.toFixed(2))} ${name}`;
    }
  }
  return `${bytes} byte${bytes === 1 ? "" : "s"}`;
}

export const MIN_PAGE_SIZE = 4 * KiB;
export const MAX_PAGE_SIZE = 64 * KiB;

/** True when `n` is a positive power of two. */
export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && Number.isInteger(Math.log2(n));
}

/** Validates a page size: a power of two from 4 KiB to 64 KiB (Linux/ia64 offers 4, 8, 16 and 64 KiB). */
export function parsePageSize(value: unknown, field = "pageSize"): number {
  const bytes = parseSize(value, field);
  if (!isPowerOfTwo(bytes) || bytes < MIN_PAGE_SIZE || bytes > MAX_PAGE_SIZE) {
    throw new SimError("INVALID_PAGE_SIZE", `${field} must be a power of two between 4 KiB and 64 KiB, got ${describeValue(value)}`, field);
  }
  return bytes;
}

/** Hexadecimal with a 0x prefix, as the kernel prints addresses. */
export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Kernel-style fixed-width address: 0x%016llx. */
export function hex16(n: number): string {
  return `0x${n.toString(16).padStart(16, "0")}`;
}

/** 2^bits as an exclusive upper bound; exact for every mask width because 2^64 is a double. */
export function maskLimit(bits: number): number {
  return 2 ** bits;
}
