// Loads Monaco on demand and turns a container into a TypeScript editor.
// The reader's code stays visible (as the static block) until the editor is ready.
import editorCssUrl from "monaco-editor/min/vs/editor/editor.main.css?url";

export interface EditorHandle {
  getValue(): string;
  /** Replaces the whole text (Reset). */
  setValue(code: string): void;
  focus(): void;
  /** Marks 1-based `line` (a trace event's line) and scrolls it into view, without taking focus. */
  highlightLine(line: number): void;
  /** Marks the line a run failed on, with the error as its hover message; undefined clears it. */
  markError(error: { line: number; message: string } | undefined): void;
  /**
   * The type errors in the code as it is now, once the TypeScript worker has checked this
   * version (or after a few seconds, what it has).
   */
  typeErrorCount(): Promise<number>;
}

export interface EditorOptions {
  code: string;
  /** Called for each loading step, `step` of `total`. */
  onProgress(label: string, step: number, total: number): void;
  /** Ctrl/Cmd+Enter inside the editor. */
  onRun(): void;
  /** After each edit, with the new text. */
  onChange(code: string): void;
}

const TOTAL_STEPS = 4;
/** Markers the runner sets (a failed run's line), as opposed to the type checker's. */
const RUN_MARKER_OWNER = "dma-lab-run";
/** How long a Run's status waits for the type checker before counting what it has. */
const TYPE_CHECK_WAIT_MS = 5000;
let embedCount = 0;
let cssLoaded: Promise<void> | undefined;

/** Monaco's prebuilt stylesheet, added to the page once, on first activation. */
function loadCss(): Promise<void> {
  cssLoaded ??= new Promise((resolve, reject) => {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = editorCssUrl;
    link.dataset.monaco = "";
    link.onload = () => resolve();
    link.onerror = () => reject(new Error("Could not load the editor stylesheet."));
    document.head.append(link);
  });
  return cssLoaded;
}

const siteTheme = (): string => (document.documentElement.dataset.theme === "light" ? "vs" : "vs-dark");

/**
 * Starts loading what the editor needs (stylesheet, Monaco, the simulator's types) without
 * creating it: called when the reader points at Edit, so a click finds much of it loaded.
 */
export function preloadEditor(): void {
  void loadCss().catch(() => undefined);
  void import("./monaco-setup.js").catch(() => undefined);
  void import("./sim-types.js").catch(() => undefined);
}

export async function createEditor(container: HTMLElement, options: EditorOptions): Promise<EditorHandle> {
  options.onProgress("styles", 1, TOTAL_STEPS);
  await loadCss();
  options.onProgress("editor core", 2, TOTAL_STEPS);
  const { monaco, typescriptDefaults } = await import("./monaco-setup.js");
  options.onProgress("simulator types", 3, TOTAL_STEPS);
  const { simLibraries } = await import("./sim-types.js");
  if (typescriptDefaults.getExtraLibs()["file:///node_modules/dma-lab/index.ts"] === undefined) {
    // One update of the TypeScript worker's files, not one per file.
    typescriptDefaults.setExtraLibs(simLibraries().map(([filePath, content]) => ({ filePath, content })));
  }
  options.onProgress("starting", 4, TOTAL_STEPS);

  const model = monaco.editor.createModel(options.code, "typescript", monaco.Uri.parse(`file:///playground-${++embedCount}.ts`));
  const editor = monaco.editor.create(container, {
    model,
    theme: siteTheme(),
    automaticLayout: true,
    minimap: { enabled: false },
    scrollBeyondLastLine: false,
    fontSize: 14,
    tabSize: 2,
    ariaLabel: "Code editor. Ctrl+Enter runs. Ctrl+M toggles whether Tab moves focus out of the editor.",
  });
  editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter, options.onRun);

  // Grow with the code instead of scrolling inside a fixed box.
  const fit = (): void => {
    container.style.height = `${Math.min(Math.max(editor.getContentHeight(), 120), 640)}px`;
  };
  editor.onDidContentSizeChange(fit);
  fit();

  // Follow Starlight's light/dark switch.
  new MutationObserver(() => monaco.editor.setTheme(siteTheme())).observe(document.documentElement, {
    attributes: true,
    attributeFilter: ["data-theme"],
  });

  editor.onDidChangeModelContent(() => options.onChange(editor.getValue()));

  const marked = editor.createDecorationsCollection();
  const highlightLine = (line: number): void => {
    const n = Math.min(Math.max(1, line), model.getLineCount());
    marked.set([{ range: new monaco.Range(n, 1, n, 1), options: { isWholeLine: true, className: "pg-line-highlight" } }]);
    editor.revealLineInCenterIfOutsideViewport(n);
  };
  const errorMark = editor.createDecorationsCollection();
  const markError = (error: { line: number; message: string } | undefined): void => {
    if (!error) {
      errorMark.clear();
      monaco.editor.setModelMarkers(model, RUN_MARKER_OWNER, []);
      return;
    }
    const n = Math.min(Math.max(1, error.line), model.getLineCount());
    errorMark.set([
      {
        range: new monaco.Range(n, 1, n, 1),
        options: { isWholeLine: true, className: "pg-error-line", linesDecorationsClassName: "pg-error-gutter" },
      },
    ]);
    monaco.editor.setModelMarkers(model, RUN_MARKER_OWNER, [
      {
        severity: monaco.MarkerSeverity.Error,
        message: `Run failed here: ${error.message}`,
        startLineNumber: n,
        startColumn: 1,
        endLineNumber: n,
        endColumn: model.getLineMaxColumn(n),
      },
    ]);
    editor.revealLineInCenterIfOutsideViewport(n);
  };
  // The marks belong to the code they were set on: the first edit clears them.
  editor.onDidChangeModelContent(() => {
    marked.clear();
    markError(undefined);
  });

  // The version of the code the markers last changed on. A clean check of clean code changes no
  // marker (so no event): then the count is read after TYPE_CHECK_WAIT_MS.
  let checkedVersion = -1;
  const checked: (() => void)[] = [];
  monaco.editor.onDidChangeMarkers((uris) => {
    if (!uris.some((u) => u.toString() === model.uri.toString())) return;
    checkedVersion = model.getAlternativeVersionId();
    for (const wake of checked.splice(0)) wake();
  });
  const typeErrorCount = async (): Promise<number> => {
    if (checkedVersion !== model.getAlternativeVersionId()) {
      await new Promise<void>((resolve) => {
        checked.push(resolve);
        setTimeout(resolve, TYPE_CHECK_WAIT_MS);
      });
    }
    return monaco.editor
      .getModelMarkers({ resource: model.uri })
      .filter((m) => m.owner !== RUN_MARKER_OWNER && m.severity === monaco.MarkerSeverity.Error).length;
  };

  return {
    getValue: () => editor.getValue(),
    setValue: (code) => editor.setValue(code),
    focus: () => editor.focus(),
    highlightLine,
    markError,
    typeErrorCount,
  };
}
