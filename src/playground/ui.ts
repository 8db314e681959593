// Wires every playground embed on the page: Edit loads Monaco, Run runs the current code, Share
// and Reset manage the code, Compare runs it under two variants, and the results tabs show what
// the run did; an exercise embed also judges each run (check) or asks for a prediction first.
// This is the only playground script a page loads up front (a few KB); Monaco, the runner,
// lz-string, the results views, the comparison and the exercise checks come later, on demand.
import { prepareRunner, runCode, type RunEnd, type RunHandle } from './run';
import { StatusView } from './status-view';
import './status.css';
import { OutcomeBuilder } from './outcome';
import { OutputView } from './output-view';
import { StaticCode } from './code-view';
import { setUpTabs } from './tabs';
import { readHashParam, shareKey, withHashParam } from './hash-params';
import { chooseInitialCode, clearEdit, loadEdit, saveEdit, storageKey, type InitialCode, type KeyValueStore } from './persist';
import type { EditorHandle } from './editor';
import type { ResultsView } from './results/results-view';
import type { CompareView } from './compare-view';
import type { Predict } from './exercise';
import type { RunMachines } from './results/results-view';
import type { TraceFilter } from './run-status';

/** Saving on every keystroke would be wasteful; a reload or leaving the page flushes. */
const SAVE_DELAY_MS = 300;

function localStore(): KeyValueStore | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined; // storage disabled
  }
}

function setUp(root: HTMLElement, index: number): void {
  const original = root.dataset.code ?? '';
  const q = <T extends HTMLElement>(selector: string) => root.querySelector<T>(selector)!;
  const editButton = q<HTMLButtonElement>('[data-action="edit"]');
  const runButton = q<HTMLButtonElement>('[data-action="run"]');
  const stopButton = q<HTMLButtonElement>('[data-action="stop"]');
  const status = q<HTMLElement>('.pg-status');
  const notice = q<HTMLElement>('.pg-notice');
  const progress = q<HTMLProgressElement>('.pg-progress');
  const editorBox = q<HTMLElement>('.pg-editor');
  const output = new OutputView(q<HTMLElement>('.pg-output'));
  const staticCode = new StaticCode(q<HTMLElement>('.pg-static'), q<HTMLElement>('.pg-plain'), original);
  const tabs = setUpTabs(root, `pg-${index}`);
  const store = localStore();
  const key = storageKey(location.pathname, index);
  const hashKey = shareKey(index);
  const predictForm = root.querySelector<HTMLFormElement>('.pg-predict');
  const checkBox = root.querySelector<HTMLElement>('.pg-check');
  const checkId = root.dataset.check;
  const checkIntro = checkBox?.querySelector('.pg-check-text')?.textContent ?? '';
  const compareButton = q<HTMLButtonElement>('[data-action="compare"]');
  const comparePanel = q<HTMLElement>('.pg-compare');
  // Only exercise embeds load the exercise code, at once (small): Skip and Enter must work before any Run.
  const exercise = predictForm || checkBox ? import('./exercise') : undefined;
  let predict: Predict | undefined;

  let editor: EditorHandle | undefined;
  let current: RunHandle | undefined;
  /** The code when the editor is not loaded (the editor holds it once it is). */
  let code = original;
  /** The share payload the current code came from, kept with later edits (see persist.ts). */
  let base: string | undefined;
  let saveTimer: ReturnType<typeof setTimeout> | undefined;
  let results: Promise<ResultsView> | undefined;
  let compare: Promise<CompareView> | undefined;

  const currentCode = (): string => editor?.getValue() ?? code;

  const apply = (initial: InitialCode): void => {
    code = initial.code;
    base = initial.base;
    if (editor) editor.setValue(code);
    else staticCode.show(code);
    notice.hidden = initial.problem === undefined;
    notice.textContent = initial.problem === undefined ? '' : `This link’s code for example ${index} could not be restored: ${initial.problem}. Showing the page’s original code.`;
    if (initial.from === 'share') status.textContent = 'Restored the code from the link. Press Run to run it.';
    else if (initial.from === 'edit') status.textContent = 'Restored your last edit. Reset goes back to the page’s code.';
  };

  /** Restores from the hash (lz-string loads only if the hash names this embed) or a saved edit. */
  const restore = async (): Promise<void> => {
    const payload = readHashParam(location.hash, hashKey);
    let share: Parameters<typeof chooseInitialCode>[1];
    if (payload !== undefined) {
      try {
        share = { payload, decoded: (await import('./share-code')).decodeShare(payload) };
      } catch (err) {
        share = { payload, decoded: { ok: false, reason: `the page could not load its link reader (${err instanceof Error ? err.message : String(err)})` } };
      }
    }
    apply(chooseInitialCode(original, share, loadEdit(store, key)));
  };
  let restored = restore();

  const setHashParam = (payload: string | undefined): void =>
    history.replaceState(history.state, '', location.pathname + location.search + withHashParam(location.hash, hashKey, payload));

  const save = (): void => {
    clearTimeout(saveTimer);
    saveTimer = undefined;
    // A damaged link's code was never restored; once the reader edits, it would only hide the edit on reload.
    const linked = readHashParam(location.hash, hashKey);
    if (linked !== undefined && linked !== base) setHashParam(undefined);
    const now = currentCode();
    if (now === original && base === undefined) clearEdit(store, key);
    else saveEdit(store, key, base === undefined ? { code: now } : { code: now, base });
  };
  const flush = (): void => {
    if (saveTimer !== undefined) save();
  };
  addEventListener('pagehide', flush);

  const results$ = (): Promise<ResultsView> =>
    (results ??= import('./results/results-view').then(
      ({ ResultsView }) =>
        new ResultsView({
          panels: { trace: q('[data-panel="trace"]'), stats: q('[data-panel="stats"]'), picture: q('[data-panel="picture"]') },
          selectorSlot: q('.pg-machine-bar'),
          highlightLine: (line) => {
            if (editor) editor.highlightLine(line);
            else staticCode.highlight(line);
            root.dataset.highlightedLine = String(line);
          },
          pictureVisible: () => tabs.selected === 'picture',
          idPrefix: `pg${index}`,
        }),
    ));
  tabs.onSelect((name) => {
    if (name === 'picture') void results?.then((view) => view.pictureShown());
  });

  let runNumber = 0;
  /** `final`: the run's own results (tests wait for `data-results`), not a "Running…" placeholder. */
  const showResults = (run: number, machines: RunMachines, why?: string, final = true): void => {
    void results$().then((view) => {
      if (run !== runNumber) return;
      view.show(machines, why);
      if (final) root.dataset.results = String(run);
    });
  };
  const noMachines: RunMachines = { reports: [], labels: [] };

  /** A status link: the Trace tab, filtered to those events (on the first machine that has them). */
  const showFlagged = async (filter: TraceFilter): Promise<void> => {
    const view = await results$();
    tabs.select('trace');
    await view.showFlagged(filter);
  };
  const statusView = new StatusView(q<HTMLElement>('.pg-run-status'), (filter) => void showFlagged(filter));

  const markError = (line: number | undefined, message = ''): void => {
    if (editor) editor.markError(line === undefined ? undefined : { line, message });
    else staticCode.markError(line);
    if (line === undefined) delete root.dataset.errorLine;
    else root.dataset.errorLine = String(line);
  };

  /** The run is under way: Stop (and Esc) end it. */
  const setRunning = (running: boolean): void => {
    stopButton.hidden = !running;
    if (running) runButton.setAttribute('aria-busy', 'true');
    else runButton.removeAttribute('aria-busy');
  };
  const stop = (): void => {
    current?.stop();
  };

  const run = async (): Promise<void> => {
    // Cleared first, so the stopped run's end is not counted as this run's.
    const previous = current;
    current = undefined;
    previous?.stop();
    const thisRun = ++runNumber;
    output.clear();
    markError(undefined);
    // Counters for tests and debugging: runs started and runs finished.
    root.dataset.started = String(Number(root.dataset.started ?? 0) + 1);
    setRunning(true);
    statusView.running();
    // Results of the previous run must not pass for this one's.
    if (results) showResults(thisRun, noMachines, 'Running…', false);
    await restored;
    if (thisRun !== runNumber) return;
    let machines: RunMachines | undefined;
    let flags: Parameters<StatusView['show']>[0]['flags'];
    const outcome = new OutcomeBuilder();
    if (checkBox && checkId !== undefined) void exercise?.then((m) => m.pendingVerdict(checkBox, 'Running your code…'), () => undefined);
    const handle: RunHandle = runCode(currentCode(), {
      onEvent: (e) => {
        outcome.add(e);
        if (e.type === 'error' && e.line !== undefined) markError(e.line, `${e.name}: ${e.message}`);
        if (e.type === 'end') return;
        if (e.type !== 'results') return output.show(e);
        machines = { reports: e.machines, labels: e.labels, inspect: (i) => handle.inspect(i) };
        flags = e.flags;
        showResults(thisRun, machines);
      },
    });
    current = handle;
    const typeErrors = editor?.typeErrorCount();
    void handle.finished.then((end: RunEnd) => {
      if (current !== handle) return;
      setRunning(false);
      const error = outcome.outcome().error;
      const line = outcome.errorLine;
      statusView.show({ end, ...(machines && { machines: machines.labels.length, flags }), ...(error && end.status === 'failed' && { error: { name: error.name, ...(line !== undefined && { line }) } }) });
      void typeErrors?.then((n) => thisRun === runNumber && statusView.showTypeErrors(n));
      if (!machines && results) showResults(thisRun, noMachines, 'No results: the run ended before it could report its machines (a syntax error, the time limit, or a crash; see Console).');
      root.dataset.runs = String(Number(root.dataset.runs ?? 0) + 1);
      if (exercise) void judge(thisRun, outcome);
    });
  };

  /** After a finished Run: reveal the prediction's answer, and give the check's verdict. */
  const judge = async (thisRun: number, outcome: OutcomeBuilder): Promise<void> => {
    let m: typeof import('./exercise');
    try {
      m = await exercise!;
    } catch (err) {
      if (checkBox) checkBox.querySelector('.pg-check-text')!.textContent = `The exercise code could not load (${err instanceof Error ? err.message : String(err)}).`;
      return;
    }
    predict?.reveal();
    if (checkBox && checkId !== undefined && thisRun === runNumber) {
      await m.showVerdict(checkBox, checkId, outcome.outcome());
      // Tests wait for this: the verdict shown is this run's.
      if (thisRun === runNumber) root.dataset.checked = String(thisRun);
    }
  };

  const activate = async (): Promise<void> => {
    editButton.disabled = true;
    progress.hidden = false;
    try {
      await restored;
      const { createEditor } = await import('./editor');
      editorBox.hidden = false;
      editor = await createEditor(editorBox, {
        code: currentCode(),
        onRun: () => void run(),
        onChange: () => {
          clearTimeout(saveTimer);
          saveTimer = setTimeout(save, SAVE_DELAY_MS);
        },
        onProgress: (label, step, total) => {
          progress.max = total;
          progress.value = step - 1;
          status.textContent = `Loading editor: ${label} (${step}/${total})…`;
        },
      });
      staticCode.hide();
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

  const share = async (): Promise<void> => {
    await restored;
    let encodeShare: (code: string) => string;
    try {
      ({ encodeShare } = await import('./share-code'));
    } catch (err) {
      status.textContent = `Could not make a link (${err instanceof Error ? err.message : String(err)}).`;
      return;
    }
    const payload = encodeShare(currentCode());
    base = payload;
    setHashParam(payload);
    save();
    const url = location.href;
    try {
      await navigator.clipboard.writeText(url);
      status.textContent = 'Link copied: it restores this code (the page never runs it by itself).';
    } catch {
      status.textContent = 'The link is in the address bar: copy it from there.';
    }
  };

  const reset = async (): Promise<void> => {
    await restored;
    setHashParam(undefined);
    apply({ code: original, from: 'page' });
    clearTimeout(saveTimer);
    saveTimer = undefined;
    clearEdit(store, key);
    status.textContent = 'Back to the page’s original code.';
    if (checkBox) {
      checkBox.dataset.verdict = 'pending';
      checkBox.querySelector('.pg-check-text')!.textContent = checkIntro;
    }
  };

  comparePanel.id = `pg${index}-compare`;
  compareButton.setAttribute('aria-controls', comparePanel.id);
  const toggleCompare = async (): Promise<void> => {
    const open = comparePanel.hidden;
    comparePanel.hidden = !open;
    compareButton.setAttribute('aria-expanded', String(open));
    if (!open) return;
    compare ??= import('./compare-view').then(
      ({ CompareView }) =>
        new CompareView({
          panel: comparePanel,
          code: async () => {
            await restored;
            return currentCode();
          },
          idPrefix: `pg${index}`,
          done: () => (root.dataset.compared = String(Number(root.dataset.compared ?? 0) + 1)),
        }),
    );
    try {
      (await compare).focus();
    } catch (err) {
      compare = undefined;
      comparePanel.textContent = `The comparison could not load (${err instanceof Error ? err.message : String(err)}).`;
    }
  };

  runButton.addEventListener('click', () => void run());
  stopButton.addEventListener('click', stop);
  editButton.addEventListener('click', () => void activate());
  q('[data-action="share"]').addEventListener('click', () => void share());
  q('[data-action="reset"]').addEventListener('click', () => void reset());
  compareButton.addEventListener('click', () => void toggleCompare());
  if (predictForm) {
    // One radio group per embed, whatever the page rendered.
    for (const input of predictForm.querySelectorAll<HTMLInputElement>('input')) input.name = `pg-${index}-guess`;
    // Enter in the guess field runs the code (never a page-reloading form submission).
    predictForm.addEventListener('submit', (e) => {
      e.preventDefault();
      void run();
    });
    void exercise!.then(({ Predict }) => (predict = new Predict(predictForm)), () => undefined);
  }
  // A share link pasted into this tab changes only the hash: restore (never run) its code.
  addEventListener('hashchange', () => {
    const payload = readHashParam(location.hash, hashKey);
    if (payload !== undefined && payload !== base) restored = restore();
  });
  root.addEventListener('keydown', (e) => {
    // Inside the editor Monaco's own Ctrl+Enter command already ran (and prevented default).
    if (e.defaultPrevented) return;
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
      e.preventDefault();
      void run();
    } else if (e.key === 'Escape' && current && !stopButton.hidden) {
      e.preventDefault();
      stop();
    }
  });
  // Prepare a runner once the embed is on screen and the page is idle: the first Run is then fast.
  new IntersectionObserver((entries, observer) => {
    if (!entries.some((e) => e.isIntersecting)) return;
    observer.disconnect();
    const idle = (globalThis as { requestIdleCallback?: (cb: () => void, o?: { timeout: number }) => void }).requestIdleCallback;
    if (idle) idle(prepareRunner, { timeout: 2000 });
    else setTimeout(prepareRunner, 200);
  }).observe(root);
  root.dataset.state = 'static';
}

for (const [i, root] of [...document.querySelectorAll<HTMLElement>('.dma-playground')].entries()) setUp(root, i + 1);
