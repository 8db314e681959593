// Binds every playground embed on the page to its core (embed.ts): buttons and keys call the core,
// the core's events update the views (console, status line, results tabs, marked lines). Edit
// loads Monaco, Compare runs the code under two variants, an exercise embed judges each run or
// asks for a prediction first. This is the only playground script a page loads up front (a few
// KB); Monaco, lz-string, the results views, the comparison and the exercise checks come later.
import { prepareRunner, runCode } from "./run.js";
import { createEmbed, type EmbedEvent, type EmbedHandle } from "./embed.js";
import { OutputView } from "./output-view.js";
import { StaticCode } from "./code-view.js";
import { setUpTabs, type Tabs } from "./tabs.js";
import { StatusView } from "./status-view.js";
import type { KeyValueStore } from "./persist.js";
import type { EditorHandle } from "./editor.js";
import type { ResultsView, RunMachines } from "./results/results-view.js";
import type { CompareView } from "./compare-view.js";
import type { OutcomeBuilder } from "./outcome.js";
// biome-ignore lint/correctness/useImportExtensions: a stylesheet, bundled by Vite
import "./status.css";

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function localStore(): KeyValueStore | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined; // storage disabled
  }
}

/** The embed's elements, found once. */
function elements(root: HTMLElement) {
  const q = <T extends HTMLElement>(selector: string) => root.querySelector<T>(selector)!;
  return {
    q,
    edit: q<HTMLButtonElement>('[data-action="edit"]'),
    run: q<HTMLButtonElement>('[data-action="run"]'),
    stop: q<HTMLButtonElement>('[data-action="stop"]'),
    compare: q<HTMLButtonElement>('[data-action="compare"]'),
    comparePanel: q<HTMLElement>(".pg-compare"),
    status: q<HTMLElement>(".pg-status"),
    notice: q<HTMLElement>(".pg-notice"),
    progress: q<HTMLProgressElement>(".pg-progress"),
    editorBox: q<HTMLElement>(".pg-editor"),
    predictForm: root.querySelector<HTMLFormElement>(".pg-predict"),
    checkBox: root.querySelector<HTMLElement>(".pg-check"),
  };
}
type Elements = ReturnType<typeof elements>;

/** What the binding keeps per embed besides the core. */
interface Binding {
  root: HTMLElement;
  index: number;
  el: Elements;
  embed: EmbedHandle;
  output: OutputView;
  staticCode: StaticCode;
  tabs: Tabs;
  statusView: StatusView;
  editor?: EditorHandle;
  results?: Promise<ResultsView>;
  /** The exercise code, for exercise embeds (loaded at once: Skip and Enter must work before any Run). */
  exercise?: Promise<typeof import("./exercise")>;
}

function resultsView(b: Binding): Promise<ResultsView> {
  b.results ??= import("./results/results-view.js").then(
    ({ ResultsView }) =>
      new ResultsView({
        panels: { trace: b.el.q('[data-panel="trace"]'), stats: b.el.q('[data-panel="stats"]'), picture: b.el.q('[data-panel="picture"]') },
        selectorSlot: b.el.q(".pg-machine-bar"),
        highlightLine: (line) => {
          if (b.editor) b.editor.highlightLine(line);
          else b.staticCode.highlight(line);
          b.root.dataset.highlightedLine = String(line);
        },
        pictureVisible: () => b.tabs.selected === "picture",
        selectedTab: () => b.tabs.selected,
        idPrefix: `pg${b.index}`,
      }),
  );
  return b.results;
}

/** `final`: the run's own results (tests wait for `data-results`), not a "Running…" placeholder. */
function showResults(b: Binding, run: number, machines: RunMachines | undefined, why: string | undefined, final: boolean): void {
  void resultsView(b).then((view) => {
    if (Number(b.root.dataset.started) !== run) return;
    view.show(machines ?? { reports: [], labels: [] }, why);
    if (final) b.root.dataset.results = String(run);
  });
}

/** The core's events, shown. */
function render(b: Binding, event: EmbedEvent): void {
  const { root, el } = b;
  switch (event.type) {
    case "state":
      el.stop.hidden = event.state !== "running";
      if (event.state === "running") el.run.setAttribute("aria-busy", "true");
      else el.run.removeAttribute("aria-busy");
      return;
    case "code": {
      const { initial } = event;
      if (!b.editor) b.staticCode.show(initial.code);
      el.notice.hidden = initial.problem === undefined;
      el.notice.textContent =
        initial.problem === undefined
          ? ""
          : `This link’s code for example ${b.index} could not be restored: ${initial.problem}. Showing the page’s original code.`;
      if (initial.from === "share") {
        el.status.textContent = "Restored the code from the link. Press Run to run it.";
        // The link's hash names no element, so the browser stays at the top: bring the embed up.
        requestAnimationFrame(() => root.scrollIntoView({ block: "start" }));
      } else if (initial.from === "edit") el.status.textContent = "Restored your last edit. Reset goes back to the page’s code.";
      return;
    }
    case "message":
      el.status.textContent = event.text;
      return;
    case "run-started":
      b.output.clear();
      // Counters for tests and debugging: runs started and runs finished.
      root.dataset.started = String(event.run);
      b.statusView.running();
      // Results of the previous run must not pass for this one's.
      if (b.results) showResults(b, event.run, undefined, "Running…", false);
      if (el.checkBox && root.dataset.check !== undefined)
        void b.exercise?.then(
          (m) => m.pendingVerdict(el.checkBox!, "Running your code…"),
          () => undefined,
        );
      return;
    case "output":
      b.output.show(event.event);
      return;
    case "error-line":
      if (b.editor) b.editor.markError(event.line === undefined ? undefined : { line: event.line, message: event.message });
      else b.staticCode.markError(event.line);
      if (event.line === undefined) delete root.dataset.errorLine;
      else root.dataset.errorLine = String(event.line);
      return;
    case "results":
      if (event.machines || b.results) showResults(b, event.run, event.machines, event.why, true);
      return;
    case "run-ended": {
      const typeErrors = b.editor?.typeErrorCount();
      b.statusView.show(event.facts);
      void typeErrors?.then((n) => Number(root.dataset.started) === event.run && b.statusView.showTypeErrors(n));
      root.dataset.runs = String(Number(root.dataset.runs ?? 0) + 1);
      if (b.exercise) void judge(b, event.run, event.outcome);
      return;
    }
  }
}

/** After a finished Run: reveal the prediction's answer, and give the check's verdict. */
async function judge(b: Binding, run: number, outcome: OutcomeBuilder): Promise<void> {
  const { checkBox } = b.el;
  const checkId = b.root.dataset.check;
  let m: typeof import("./exercise");
  try {
    m = await b.exercise!;
  } catch (err) {
    if (checkBox) checkBox.querySelector(".pg-check-text")!.textContent = `The exercise code could not load (${errorText(err)}).`;
    return;
  }
  predicts.get(b.root)?.reveal();
  if (checkBox && checkId !== undefined && Number(b.root.dataset.started) === run) {
    await m.showVerdict(checkBox, checkId, outcome.outcome());
    // Tests wait for this: the verdict shown is this run's.
    if (Number(b.root.dataset.started) === run) b.root.dataset.checked = String(run);
  }
}
const predicts = new WeakMap<HTMLElement, import("./exercise").Predict>();

/** Edit: loads Monaco and hands it the code. */
async function activate(b: Binding): Promise<void> {
  const { el } = b;
  el.edit.disabled = true;
  el.progress.hidden = false;
  try {
    await b.embed.restored;
    const { createEditor } = await import("./editor.js");
    el.editorBox.hidden = false;
    b.editor = await createEditor(el.editorBox, {
      code: b.embed.code(),
      onRun: () => void b.embed.run(),
      onChange: () => b.embed.edited(),
      onProgress: (label, step, total) => {
        el.progress.max = total;
        el.progress.value = step - 1;
        el.status.textContent = `Loading editor: ${label} (${step}/${total})…`;
      },
    });
    b.embed.attachEditor(b.editor);
    b.staticCode.hide();
    el.edit.hidden = true;
    el.status.textContent = "";
    b.root.dataset.state = "editing";
    b.editor.focus();
  } catch (err) {
    el.editorBox.hidden = true;
    el.edit.disabled = false;
    el.status.textContent = `The editor could not load (${errorText(err)}). Run still works.`;
  } finally {
    el.progress.hidden = true;
  }
}

async function share(b: Binding): Promise<void> {
  try {
    await b.embed.share();
  } catch (err) {
    b.el.status.textContent = `Could not make a link (${errorText(err)}).`;
    return;
  }
  try {
    await navigator.clipboard.writeText(location.href);
    b.el.status.textContent = "Link copied: it restores this code (the page never runs it by itself).";
  } catch {
    b.el.status.textContent = "The link is in the address bar: copy it from there.";
  }
}

function setUpCompare(b: Binding): void {
  const { compare: button, comparePanel: panel } = b.el;
  let view: Promise<CompareView> | undefined;
  panel.id = `pg${b.index}-compare`;
  button.setAttribute("aria-controls", panel.id);
  button.addEventListener("click", async () => {
    const open = panel.hidden;
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    b.embed.setCompareOpen(open);
    if (!open) return;
    view ??= import("./compare-view.js").then(
      ({ CompareView }) =>
        new CompareView({
          panel,
          code: async () => (await b.embed.restored, b.embed.code()),
          idPrefix: `pg${b.index}`,
          done: () => (b.root.dataset.compared = String(Number(b.root.dataset.compared ?? 0) + 1)),
        }),
    );
    try {
      (await view).focus();
    } catch (err) {
      view = undefined;
      panel.textContent = `The comparison could not load (${errorText(err)}).`;
    }
  });
}

function setUpExercise(b: Binding): void {
  const { predictForm, checkBox } = b.el;
  if (!predictForm && !checkBox) return;
  b.exercise = import("./exercise.js");
  const checkIntro = checkBox?.querySelector(".pg-check-text")?.textContent ?? "";
  b.embed.on((e) => {
    if (e.type !== "code" || e.initial.from !== "page" || !checkBox) return;
    checkBox.dataset.verdict = "pending";
    checkBox.querySelector(".pg-check-text")!.textContent = checkIntro;
  });
  if (!predictForm) return;
  // One radio group per embed, whatever the page rendered.
  for (const input of predictForm.querySelectorAll<HTMLInputElement>("input")) input.name = `pg-${b.index}-guess`;
  // Enter in the guess field runs the code (never a page-reloading form submission).
  predictForm.addEventListener("submit", (e) => {
    e.preventDefault();
    void b.embed.run();
  });
  void b.exercise.then(
    ({ Predict }) => predicts.set(b.root, new Predict(predictForm)),
    () => undefined,
  );
}

function setUpKeys(b: Binding): void {
  b.root.addEventListener("keydown", (e) => {
    // Inside the editor Monaco's own Ctrl+Enter command already ran (and prevented default).
    if (e.defaultPrevented) return;
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
      e.preventDefault();
      void b.embed.run();
    } else if (e.key === "Escape" && b.embed.state === "running") {
      e.preventDefault();
      b.embed.stop();
    }
  });
}

/**
 * Prepares a runner as soon as the embed is on screen, or a pointer or the focus comes near it:
 * the first Run is then fast. (Waiting for an idle moment made a Run pressed as the page loaded
 * wait for the worker: 428 → 380 ms median in `npm run bench:site`.) The worker loads and warms
 * up off the main thread.
 */
function prepareWhenVisible(root: HTMLElement): void {
  root.addEventListener("pointerover", prepareRunner, { once: true });
  root.addEventListener("focusin", prepareRunner, { once: true });
  new IntersectionObserver((entries, observer) => {
    if (!entries.some((e) => e.isIntersecting)) return;
    observer.disconnect();
    prepareRunner();
  }).observe(root);
}

function setUp(root: HTMLElement, index: number): void {
  const el = elements(root);
  const original = root.dataset.code ?? "";
  const tabs = setUpTabs(root, `pg-${index}`);
  const embed = createEmbed({
    original,
    index,
    pathname: location.pathname,
    runCode,
    store: localStore(),
    location: {
      hash: () => location.hash,
      replaceHash: (hash) => history.replaceState(history.state, "", location.pathname + location.search + hash),
    },
    loadShareCodec: () => import("./share-code.js"),
  });
  const b: Binding = {
    root,
    index,
    el,
    embed,
    tabs,
    output: new OutputView(el.q(".pg-output")),
    staticCode: new StaticCode(el.q(".pg-static"), el.q(".pg-plain"), original),
    statusView: new StatusView(
      el.q(".pg-run-status"),
      (filter) =>
        void resultsView(b).then((view) => {
          tabs.select("trace");
          return view.showFlagged(filter);
        }),
    ),
  };
  embed.on((event) => render(b, event));
  tabs.onSelect((name) => {
    void b.results?.then((view) => view.tabShown(name));
    if (name === "picture") void b.results?.then((view) => view.pictureShown());
  });
  el.run.addEventListener("click", () => void embed.run());
  el.stop.addEventListener("click", () => embed.stop());
  el.edit.addEventListener("click", () => void activate(b));
  // Pointing at Edit (or tabbing to it) starts loading the editor: the click then waits less.
  const preload = (): void =>
    void import("./editor.js").then(
      (m) => m.preloadEditor(),
      () => undefined,
    );
  el.edit.addEventListener("pointerenter", preload, { once: true });
  el.edit.addEventListener("focus", preload, { once: true });
  el.q('[data-action="share"]').addEventListener("click", () => void share(b));
  el.q('[data-action="reset"]').addEventListener("click", () => void embed.reset());
  setUpCompare(b);
  setUpExercise(b);
  setUpKeys(b);
  addEventListener("pagehide", () => embed.flush());
  // A share link pasted into this tab changes only the hash: restore (never run) its code.
  addEventListener("hashchange", () => embed.hashChanged());
  prepareWhenVisible(root);
  root.dataset.state = "static";
}

for (const [i, root] of [...document.querySelectorAll<HTMLElement>(".dma-playground")].entries()) setUp(root, i + 1);
