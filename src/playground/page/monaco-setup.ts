// Everything that pulls in Monaco lives behind this module, which editor.ts imports
// dynamically on activation. Never import it statically: it is megabytes, and it touches
// `window`, so it must not run during Astro's server render either.
import * as monaco from "monaco-editor/editor";
import "monaco-editor/features/register.all";
import "monaco-editor/languages/definitions/typescript/register";
import { typescriptDefaults } from "monaco-editor/languages/features/typescript/register";
import EditorWorker from "monaco-editor/editor/editor.worker?worker";
import TsWorker from "monaco-editor/languages/features/typescript/ts.worker?worker";

// Without real workers Monaco silently runs the language service on the main thread.
self.MonacoEnvironment = {
  getWorker(_workerId: string, label: string): Worker {
    if (label === "typescript" || label === "javascript") return new TsWorker();
    return new EditorWorker();
  },
};

typescriptDefaults.setCompilerOptions({
  target: 99, // ESNext
  module: 99, // ESNext
  moduleResolution: 2, // NodeJs: finds the simulator under /node_modules/dma-lab/
  moduleDetection: 3, // Force: each embed is its own module, so top-level names never clash
  allowImportingTsExtensions: true,
  noEmit: true,
  strict: true,
  allowNonTsExtensions: true,
});

export { monaco, typescriptDefaults };
