// Build-time helpers that keep Monaco out of every page's <head>.
//
// Monaco's ESM files import their own per-file CSS. Astro/Vite would hoist that CSS into a
// render-blocking stylesheet on every page (+175 KB). We stub those imports and load the
// prebuilt `min/vs/editor/editor.main.css` only when a reader activates an editor.
import { fileURLToPath } from "node:url";
import type { Plugin } from "vite";

const STUB_ID = "\0monaco-css-stub";
const MONACO_ESM = /[\\/]node_modules[\\/]monaco-editor[\\/]esm[\\/]/;

/** Replaces every `import './x.css'` inside monaco-editor/esm with an empty module. */
export function stubMonacoCss(): Plugin {
  return {
    name: "dma-lab:stub-monaco-css",
    enforce: "pre",
    resolveId(source, importer) {
      if (importer && MONACO_ESM.test(importer) && /\.css(\?.*)?$/.test(source)) return STUB_ID;
      return null;
    },
    load(id) {
      return id === STUB_ID ? "export {};" : null;
    },
  };
}

/**
 * `monaco-editor/min/...` is outside the package's `exports`, so it cannot be imported by
 * name. A regex alias (a string alias would not match an id carrying `?url`) points it at
 * the file on disk; the `?url` query survives the replacement.
 */
export const monacoMinAlias = {
  find: /^monaco-editor\/min\/(.*)$/,
  replacement: `${fileURLToPath(new URL("../../node_modules/monaco-editor/min/", import.meta.url))}$1`,
};
