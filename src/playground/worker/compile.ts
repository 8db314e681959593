// Type-stripping for Run: sucrase removes TypeScript syntax and turns `import`/`export` into
// CommonJS (`require("dma-lab")`), keeping every statement on its original line, so runtime
// line numbers are the reader's line numbers. It is ~100 KB, against megabytes for the
// TypeScript compiler; type errors are Monaco's job, not Run's.
import { transform } from "sucrase";

export type CompileResult = { ok: true; js: string } | { ok: false; message: string; line?: number };

export function compile(source: string): CompileResult {
  try {
    const { code } = transform(source, {
      transforms: ["typescript", "imports"],
      filePath: "playground.ts",
      // Keep the reader's code as written: no interop helpers that shift behaviour.
      disableESTransforms: true,
    });
    return { ok: true, js: code };
  } catch (err) {
    // Sucrase's syntax errors carry `loc` ({ line, column }) and end with "(line:column)".
    const e = err as { message?: unknown; loc?: { line?: unknown } };
    const line = typeof e.loc?.line === "number" ? e.loc.line : undefined;
    const message = String(e.message ?? err).replace(/\s*\(\d+:\d+\)$/, "");
    return line === undefined ? { ok: false, message } : { ok: false, message, line };
  }
}
