// @ts-check
// Generates the simulator's public API as declaration files (the TypeScript compiler's own
// declaration emit, @internal members stripped) for the playground editor: Monaco's TypeScript
// worker gets these instead of the simulator's sources, so it has far less to parse before
// completion and type errors work. Writes src/playground/generated/dma-lab-types.json
// ({ "<file>.ts": "<declarations>" }, paths relative to src/sim). Run by `npm run build` and
// `npm run dev`; the output is not committed.
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("../", import.meta.url));
const simDir = `${root}src/sim/`;
const outFile = `${root}src/playground/generated/dma-lab-types.json`;

/** @returns {Record<string, string>} */
export function simDeclarations() {
  const program = ts.createProgram([`${simDir}index.ts`], {
    declaration: true,
    emitDeclarationOnly: true,
    stripInternal: true,
    strict: true,
    target: ts.ScriptTarget.ESNext,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    skipLibCheck: true,
    types: [],
  });
  /** @type {Record<string, string>} */
  const files = {};
  const result = program.emit(undefined, (fileName, text) => {
    // x.d.ts → x.ts: the editor resolves "./x.js" imports to x.ts, and declarations are valid TypeScript.
    const abs = fileName.replace(/\.d\.ts$/, ".ts");
    if (abs.startsWith(simDir)) files[abs.slice(simDir.length)] = text;
  });
  const errors = result.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0)
    throw new Error(
      ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" }),
    );
  if (!files["index.ts"]) throw new Error("no declarations emitted for src/sim/index.ts");
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = simDeclarations();
  mkdirSync(new URL(".", `file://${outFile}`), { recursive: true });
  writeFileSync(outFile, JSON.stringify(files));
  const bytes = Object.values(files).reduce((n, t) => n + t.length, 0);
  console.log(`dma-lab types: ${Object.keys(files).length} files, ${bytes} bytes → ${outFile.slice(root.length)}`);
}
