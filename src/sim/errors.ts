/**
 * Every invalid configuration or argument throws a {@link SimError}. Its `code` is stable
 * (tests, the playground and readers may switch on it); its message names the field, the
 * value and what is allowed.
 */
export type SimErrorCode =
  | "INVALID_SIZE"
  | "INVALID_PAGE_SIZE"
  | "INVALID_CONFIG"
  | "INVALID_LAYOUT"
  | "INVALID_ARGUMENT"
  | "INVALID_ADDRESS"
  | "INVALID_DIRECTION"
  | "INVALID_MASK"
  | "UNKNOWN_BACKEND"
  | "BACKEND_UNSUITABLE"
  | "OUT_OF_MEMORY"
  | "BEYOND_DMA_MASK"
  | "DMA_MAPPING_ERROR_USED"
  | "RESOURCE_LIMIT"
  | "KERNEL_PANIC"
  | "MACHINE_HALTED"
  | "GRANT_ERROR"
  | "KMAP_FAILED"
  | "PAGE_FAULT"
  | "SWIOTLB_NO_ROOM";

/** The one error type the simulator throws for bad configuration, bad arguments and simulated panics. */
export class SimError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: SimErrorCode;
  /** The configuration field or argument at fault, when there is one. */
  readonly field: string | undefined;

  constructor(code: SimErrorCode, message: string, field?: string) {
    super(message);
    this.name = "SimError";
    this.code = code;
    this.field = field;
  }
}

/** Renders a value for an error message: strings quoted, objects as short JSON. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined) {
    return String(value);
  }
  if (typeof value === "bigint") return `${value}n`;
  try {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Throws INVALID_CONFIG if `options` holds a key outside `allowed` (catches typos such as `memroy`). */
export function rejectUnknownKeys(options: object, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new SimError("INVALID_CONFIG", `${where}: unknown option ${JSON.stringify(key)} (allowed: ${allowed.join(", ")})`, key);
    }
  }
}

/** Throws INVALID_CONFIG unless `value` is a plain object. */
export function requireObject(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SimError("INVALID_CONFIG", `${where} must be an object, got ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
}
