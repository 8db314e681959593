// A/B variants: overrides the runner applies to what the reader's code creates, so one piece of
// code can run under two configurations (era 2006 vs modern, hypercall vs iommu, ...). Plain
// data and pure functions: the page parses and shows them, the runner worker applies them
// (variant-module.ts), and Node tests check both.
import type { BackendName, DeviceConfig, MachineConfig } from "../../sim/index.js";

/** Device settings a variant may change (never which device it is, or its domain). */
export type DeviceOverride = Partial<Omit<DeviceConfig, "name" | "domain">>;

/** One side of a comparison. Every field is optional; an empty variant runs the code as written. */
export interface Variant {
  /** Column heading, e.g. "era 2006". */
  label?: string;
  /** Merged over the config of every machine the code creates (`createMachine`, `new Machine`). */
  machine?: Partial<MachineConfig>;
  /** Replaces the backend of every `domain.dmaApi(device, backend)` (and `new DmaApi`). */
  backend?: BackendName;
  /**
   * Merged over the config of every `machine.attachDevice`. `iommu: true` puts a device behind
   * an IOMMU (keeping the code's IOMMU options if it had some), `false` takes it out, and an
   * options object (`{ invalidation: "lazy" }`) is merged over the code's options and puts the
   * device behind an IOMMU too.
   */
  device?: DeviceOverride;
}

/** The backends a variant may name (the simulator's BACKEND_NAMES; a test keeps them equal). */
export const VARIANT_BACKENDS = ["direct", "p2m", "hypercall", "swiotlb", "xen-swiotlb", "iommu"] as const satisfies readonly BackendName[];

/** How many things a variant changed in one run (zero: it did not reach anything the code built). */
export interface VariantApplied {
  machines: number;
  devices: number;
  dmaApis: number;
}

export interface ComparePreset {
  id: string;
  /** Shown in the preset menu. */
  title: string;
  a: Variant;
  b: Variant;
}

/** Comparisons that matter in the thread; the reader can edit either side as JSON. */
export const COMPARE_PRESETS: readonly ComparePreset[] = [
  {
    id: "era",
    title: "Linux of 2006 vs modern Linux",
    a: { label: "era 2006", machine: { era: "2006" } },
    b: { label: "era modern", machine: { era: "modern" } },
  },
  {
    id: "hypercall-iommu",
    title: "VP without an IOMMU (hypercall) vs with one (iommu)",
    a: { label: "hypercall, no IOMMU", backend: "hypercall", device: { iommu: false } },
    b: { label: "iommu", backend: "iommu", device: { iommu: true } },
  },
  {
    id: "p2m-xen-swiotlb",
    title: "Read the p2m (p2m) vs bounce when needed (xen-swiotlb)",
    a: { label: "p2m", backend: "p2m" },
    b: { label: "xen-swiotlb", backend: "xen-swiotlb" },
  },
  {
    id: "invalidation",
    title: "IOMMU with strict vs lazy IOTLB invalidation",
    a: { label: "iommu, strict", backend: "iommu", device: { iommu: { invalidation: "strict" } } },
    b: { label: "iommu, lazy", backend: "iommu", device: { iommu: { invalidation: "lazy" } } },
  },
];

export type ParsedVariant = { ok: true; variant: Variant } | { ok: false; message: string };

const VARIANT_KEYS = ["label", "machine", "backend", "device"];

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Checks a variant's shape. The simulator still validates the values it is given (an unknown
 * machine option fails the run with the simulator's own message), so only what the runner itself
 * relies on is checked here.
 */
export function parseVariant(value: unknown): ParsedVariant {
  if (!isPlainObject(value)) return { ok: false, message: 'a variant is an object such as { "machine": { "era": "2006" } }' };
  const unknown = Object.keys(value).filter((k) => !VARIANT_KEYS.includes(k));
  if (unknown.length > 0) {
    return {
      ok: false,
      message: `unknown key ${JSON.stringify(unknown[0])}: a variant may set ${VARIANT_KEYS.map((k) => `"${k}"`).join(", ")}`,
    };
  }
  const { label, machine, backend, device } = value;
  if (label !== undefined && typeof label !== "string") return { ok: false, message: '"label" must be a string' };
  if (machine !== undefined && !isPlainObject(machine))
    return { ok: false, message: '"machine" must be an object of createMachine options, e.g. { "era": "2006" }' };
  if (backend !== undefined && !(VARIANT_BACKENDS as readonly unknown[]).includes(backend)) {
    return {
      ok: false,
      message: `"backend" must be one of ${VARIANT_BACKENDS.map((b) => `"${b}"`).join(", ")}, got ${JSON.stringify(backend)}`,
    };
  }
  if (device !== undefined) {
    if (!isPlainObject(device)) return { ok: false, message: '"device" must be an object of attachDevice options, e.g. { "iommu": true }' };
    for (const key of ["name", "domain"]) {
      if (key in device)
        return {
          ok: false,
          message: `"device" cannot change "${key}": a variant changes how devices are set up, not which device is which`,
        };
    }
  }
  return { ok: true, variant: value as Variant };
}

/** Parses a variant typed as JSON (an empty text is the code as written). */
export function parseVariantText(text: string): ParsedVariant {
  if (text.trim() === "") return { ok: true, variant: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `not valid JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  return parseVariant(value);
}

/** A variant as the JSON the reader edits (without its label, which has its own field). */
export function variantText({ label: _label, ...rest }: Variant): string {
  return JSON.stringify(rest);
}

/** A short description of a variant for headings: its label, or what it sets. */
export function describeVariant(variant: Variant): string {
  if (variant.label) return variant.label;
  const text = variantText(variant);
  return text === "{}" ? "as written" : text;
}

/** Whether a variant overrides anything at all. */
export function isEmptyVariant(variant: Variant): boolean {
  return variantText(variant) === "{}";
}

/**
 * `config` with `override` merged over it: top-level keys replaced, plain-object values (swiotlb,
 * costs, limits) merged one level deep. A config that is not an object is returned as it is, so
 * the simulator reports the code's own mistake.
 */
export function mergeMachineConfig<T>(config: T, override: Partial<MachineConfig> | undefined): T {
  if (!override || !isPlainObject(config)) return config;
  const merged: Record<string, unknown> = { ...config };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    merged[key] = isPlainObject(value) && isPlainObject(current) ? { ...current, ...value } : value;
  }
  return merged as T;
}

/** `config` (an attachDevice argument) with `override` merged over it; see {@link Variant.device} for `iommu`. */
export function mergeDeviceConfig<T>(config: T, override: DeviceOverride | undefined): T {
  if (!override || !isPlainObject(config)) return config;
  const merged: Record<string, unknown> = { ...config };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    if (key === "iommu" && value === true) merged[key] = isPlainObject(current) ? current : true;
    else merged[key] = isPlainObject(value) && isPlainObject(current) ? { ...current, ...value } : value;
  }
  return merged as T;
}
