// Loads Monaco on demand and turns a container into a TypeScript editor.
// The reader's code stays visible (as the static block) until the editor is ready.
import editorCssUrl from 'monaco-editor/min/vs/editor/editor.main.css?url';

export interface EditorHandle {
  getValue(): string;
  /** Replaces the whole text (Reset). */
  setValue(code: string): void;
  focus(): void;
  /** Marks 1-based `line` (a trace event's line) and scrolls it into view, without taking focus. */
  highlightLine(line: number): void;
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
let embedCount = 0;
let cssLoaded: Promise<void> | undefined;

/** Monaco's prebuilt stylesheet, added to the page once, on first activation. */
function loadCss(): Promise<void> {
  cssLoaded ??= new Promise((resolve, reject) => {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = editorCssUrl;
    link.dataset.monaco = '';
    link.onload = () => resolve();
    link.onerror = () => reject(new Error('Could not load the editor stylesheet.'));
    document.head.append(link);
  });
  return cssLoaded;
}

const siteTheme = (): string => (document.documentElement.dataset.theme === 'light' ? 'vs' : 'vs-dark');

export async function createEditor(container: HTMLElement, options: EditorOptions): Promise<EditorHandle> {
  options.onProgress('styles', 1, TOTAL_STEPS);
  await loadCss();
  options.onProgress('editor core', 2, TOTAL_STEPS);
  const { monaco, typescriptDefaults } = await import('./monaco-setup');
  options.onProgress('simulator types', 3, TOTAL_STEPS);
  const { simLibraries } = await import('./sim-types');
  if (typescriptDefaults.getExtraLibs()['file:///node_modules/dma-lab/index.ts'] === undefined) {
    for (const [path, content] of simLibraries()) typescriptDefaults.addExtraLib(content, path);
  }
  options.onProgress('starting', 4, TOTAL_STEPS);

  const model = monaco.editor.createModel(
    options.code,
    'typescript',
    monaco.Uri.parse(`file:///playground-${++embedCount}.ts`),
  );
  const editor = monaco.editor.create(container, {
    model,
    theme: siteTheme(),
    automaticLayout: true,
    minimap: { enabled: false },
    scrollBeyondLastLine: false,
    fontSize: 14,
    tabSize: 2,
    ariaLabel: 'Code editor. Ctrl+Enter runs. Ctrl+M toggles whether Tab moves focus out of the editor.',
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
    attributeFilter: ['data-theme'],
  });

  editor.onDidChangeModelContent(() => options.onChange(editor.getValue()));

  const marked = editor.createDecorationsCollection();
  const highlightLine = (line: number): void => {
    const n = Math.min(Math.max(1, line), model.getLineCount());
    marked.set([{ range: new monaco.Range(n, 1, n, 1), options: { isWholeLine: true, className: 'pg-line-highlight' } }]);
    editor.revealLineInCenterIfOutsideViewport(n);
  };
  // The mark belongs to the code it was set on: the first edit clears it.
  editor.onDidChangeModelContent(() => marked.clear());

  return {
    getValue: () => editor.getValue(),
    setValue: (code) => editor.setValue(code),
    focus: () => editor.focus(),
    highlightLine,
  };
}
