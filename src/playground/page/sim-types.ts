// The simulator's public API as declarations (generated at build time by scripts/gen-sim-dts.mjs
// with the TypeScript compiler), given to Monaco's TypeScript worker as the package "dma-lab", so
// readers get completion, hover docs and real type errors for the API they call, without the
// worker parsing the simulator's implementation. Loaded only on activation (editor.ts imports
// this module dynamically). A glob, so that type checking does not need the generated file.
const generated = import.meta.glob<Record<string, string>>("../generated/dma-lab-types.json", { eager: true, import: "default" });

/** [virtual path, declarations] pairs rooted at file:///node_modules/dma-lab/. */
export function simLibraries(): Array<[path: string, content: string]> {
  const files = Object.values(generated)[0];
  if (!files) throw new Error("the simulator’s type declarations were not generated (scripts/gen-sim-dts.mjs runs before the build)");
  return Object.entries(files).map(([file, content]) => [`file:///node_modules/dma-lab/${file}`, content]);
}
