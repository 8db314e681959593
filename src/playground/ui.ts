// Wires every playground embed on the page: Edit loads Monaco, Run runs the current code.
// This is the only playground script a page loads up front (a few KB); Monaco and the runner
// come later, on demand.
import { runCode, type RunHandle } from './run';
import { OutputView } from './output-view';
import type { EditorHandle } from './editor';

function setUp(root: HTMLElement): void {
  const initialCode = root.dataset.code ?? '';
  const editButton = root.querySelector<HTMLButtonElement>('[data-action="edit"]')!;
  const runButton = root.querySelector<HTMLButtonElement>('[data-action="run"]')!;
  const status = root.querySelector<HTMLElement>('.pg-status')!;
  const progress = root.querySelector<HTMLProgressElement>('.pg-progress')!;
  const staticCode = root.querySelector<HTMLElement>('.pg-static')!;
  const editorBox = root.querySelector<HTMLElement>('.pg-editor')!;
  const output = new OutputView(root.querySelector<HTMLElement>('.pg-output')!);

  let editor: EditorHandle | undefined;
  let current: RunHandle | undefined;

  const run = (): void => {
    current?.stop();
    output.clear();
    // Counters for tests and debugging: runs started and runs finished.
    root.dataset.started = String(Number(root.dataset.started ?? 0) + 1);
    runButton.setAttribute('aria-busy', 'true');
    const handle = runCode(editor?.getValue() ?? initialCode, { onEvent: (e) => output.show(e) });
    current = handle;
    void handle.finished.then(() => {
      if (current !== handle) return;
      current = undefined;
      runButton.removeAttribute('aria-busy');
      root.dataset.runs = String(Number(root.dataset.runs ?? 0) + 1);
    });
  };

  const activate = async (): Promise<void> => {
    editButton.disabled = true;
    progress.hidden = false;
    try {
      const { createEditor } = await import('./editor');
      editorBox.hidden = false;
      editor = await createEditor(editorBox, {
        code: initialCode,
        onRun: run,
        onProgress: (label, step, total) => {
          progress.max = total;
          progress.value = step - 1;
          status.textContent = `Loading editor: ${label} (${step}/${total})…`;
        },
      });
      staticCode.hidden = true;
      editButton.hidden = true;
      status.textContent = '';
      root.dataset.state = 'editing';
      editor.focus();
    } catch (err) {
      editorBox.hidden = true;
      editButton.disabled = false;
      status.textContent = `The editor could not load (${err instanceof Error ? err.message : String(err)}). Run still works.`;
    } finally {
      progress.hidden = true;
    }
  };

  runButton.addEventListener('click', run);
  editButton.addEventListener('click', () => void activate());
  root.addEventListener('keydown', (e) => {
    // Inside the editor Monaco's own Ctrl+Enter command already ran (and prevented default).
    if (e.defaultPrevented) return;
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
      e.preventDefault();
      run();
    }
  });
  root.dataset.state = 'static';
}

for (const root of document.querySelectorAll<HTMLElement>('.dma-playground')) setUp(root);
