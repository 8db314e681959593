// The `dma-lab` module as reader code sees it: reading a name the simulator does not export throws
// at once, naming the export and the closest real one. Without this a misspelt import
// (`import { createMachin } from "dma-lab"`) is undefined until called, and fails as
// "Cannot read properties of undefined (reading 'call')".

export class MissingExportError extends Error {
  override name = "ImportError";
  constructor(
    readonly exportName: string,
    suggestion: string | undefined,
  ) {
    super(`dma-lab has no export "${exportName}"${suggestion === undefined ? "" : ` (did you mean ${suggestion}?)`}`);
  }
}

/** Edit distance (insertions, deletions, substitutions), case-insensitive. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[y.length]!;
}

/** The export closest to `name`, if one is close enough to be a likely typo. */
export function closestExport(name: string, exports: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of exports) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Names the import helpers of compiled code ask for, which a module need not have. */
const HELPER_KEYS = new Set(["__esModule", "then", "toJSON", "constructor"]);

/** `module` behind a guard: unknown string keys throw {@link MissingExportError}. */
export function guardExports<T extends object>(module: T): T {
  const names = Object.keys(module);
  return new Proxy(module, {
    get(target, key, receiver) {
      if (typeof key === "symbol" || Object.hasOwn(target, key)) return Reflect.get(target, key, receiver);
      // Marks an ES module, so `import * as lab` gets this guarded object itself, not a copy.
      if (key === "__esModule") return true;
      if (HELPER_KEYS.has(key)) return undefined;
      throw new MissingExportError(key, closestExport(key, names));
    },
  });
}
