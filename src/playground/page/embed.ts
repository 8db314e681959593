// The playground embed without its DOM: the code it holds (the page's, a shared link's, a saved
// edit), runs and their ends, and explicit states. ui.ts binds it to the page; Node tests drive it
// with a fake runner, an in-memory store and a fake location.
//
//   idle ──run()──▶ running ──(finished, failed, time limit, stopped, crashed)──▶ results
//     ▲                ▲ └────────────────run() (the old run is stopped)───────────┘ │
//     └── reset() ─────┴──────────────────────────── run() ◀─────────────────────────┘
//   compare: the Compare panel is open (its runs are its own); closing it goes back.
import { OutcomeBuilder } from "./outcome.js";
import { readHashParam, shareKey, withHashParam } from "./hash-params.js";
import { chooseInitialCode, clearEdit, loadEdit, saveEdit, storageKey, type InitialCode, type KeyValueStore } from "./persist.js";
import type { RunEnd, RunEvent, RunHandle, RunOptions } from "./run.js";
import type { RunSummaryFacts } from "./run-status.js";
import type { RunMachines } from "./results/results-view.js";

export type EmbedState = "idle" | "running" | "results" | "compare";

/** Saving on every keystroke would be wasteful; a reload or leaving the page flushes. */
export const SAVE_DELAY_MS = 300;

export interface EmbedConfig {
  /** The page's code for this embed. */
  original: string;
  /** 1-based position of the embed on its page (share links and saved edits are per embed). */
  index: number;
  pathname: string;
  runCode(code: string, options: RunOptions): RunHandle;
  store?: KeyValueStore;
  /** The page's URL hash, read and replaced without a navigation. */
  location: { hash(): string; replaceHash(hash: string): void };
  /** lz-string and the share format, loaded when a link is made or read. */
  loadShareCodec(): Promise<Pick<typeof import("./share-code"), "encodeShare" | "decodeShare">>;
}

export type EmbedEvent =
  | { type: "state"; state: EmbedState }
  /** The code changed by restore or reset (not by typing), with where it came from. */
  | { type: "code"; initial: InitialCode }
  /** A line for the toolbar's status area. */
  | { type: "message"; text: string }
  | { type: "run-started"; run: number }
  /** Console output, an uncaught error, the time limit or a crash of run `run`. */
  | { type: "output"; run: number; event: Exclude<RunEvent, { type: "results" | "end" }> }
  /** The line the run failed on (undefined: clear the mark). */
  | { type: "error-line"; line: number | undefined; message: string }
  /** The run's machines (undefined: it ended before it could say, `why` explains). */
  | { type: "results"; run: number; machines: RunMachines | undefined; why?: string }
  | { type: "run-ended"; run: number; facts: RunSummaryFacts; outcome: OutcomeBuilder };

export interface EmbedHandle {
  readonly state: EmbedState;
  /** Resolves once the first restore (share link or saved edit) is done. */
  readonly restored: Promise<void>;
  on(listener: (event: EmbedEvent) => void): void;
  /** The code as it is now (the editor's once one is attached). */
  code(): string;
  /** Monaco took over: from now on it holds the code. */
  attachEditor(editor: { getValue(): string; setValue(code: string): void }): void;
  /** The reader typed: save soon. */
  edited(): void;
  /** Saves a pending edit now (the page is being left). */
  flush(): void;
  run(): Promise<RunEnd | undefined>;
  /** Stops the run under way, if any. */
  stop(): void;
  /** Puts the code in the link; resolves with the payload. */
  share(): Promise<string>;
  reset(): Promise<void>;
  /** The hash changed (a link pasted into this tab): restore its code, never run it. */
  hashChanged(): void;
  setCompareOpen(open: boolean): void;
}

export function createEmbed(config: EmbedConfig): EmbedHandle {
  const { original, index } = config;
  const key = storageKey(config.pathname, index);
  const hashKey = shareKey(index);
  const listeners: ((event: EmbedEvent) => void)[] = [];
  const emit = (event: EmbedEvent): void => {
    for (const listener of listeners) listener(event);
  };
  let state: EmbedState = "idle";
  /** The state to go back to when Compare closes. */
  let beforeCompare: EmbedState = "idle";
  const setState = (next: EmbedState): void => {
    if (state === next) return;
    state = next;
    emit({ type: "state", state });
  };

  let editor: { getValue(): string; setValue(code: string): void } | undefined;
  let code = original;
  /** The share payload the current code came from, kept with later edits (see persist.ts). */
  let base: string | undefined;
  let saveTimer: ReturnType<typeof setTimeout> | undefined;
  const currentCode = (): string => editor?.getValue() ?? code;
  const setHashParam = (payload: string | undefined): void =>
    config.location.replaceHash(withHashParam(config.location.hash(), hashKey, payload));

  const apply = (initial: InitialCode): void => {
    code = initial.code;
    base = initial.base;
    editor?.setValue(code);
    emit({ type: "code", initial });
  };
  /** Restores from the hash (the link reader loads only if the hash names this embed) or a saved edit. */
  const restore = async (): Promise<void> => {
    const payload = readHashParam(config.location.hash(), hashKey);
    let share: Parameters<typeof chooseInitialCode>[1];
    if (payload !== undefined) {
      try {
        share = { payload, decoded: (await config.loadShareCodec()).decodeShare(payload) };
      } catch (err) {
        share = {
          payload,
          decoded: { ok: false, reason: `the page could not load its link reader (${err instanceof Error ? err.message : String(err)})` },
        };
      }
    }
    apply(chooseInitialCode(original, share, loadEdit(config.store, key)));
  };
  // After the caller has subscribed: the first restore's events must reach it.
  let restored = Promise.resolve().then(restore);

  const flush = (): void => {
    if (saveTimer !== undefined) save();
  };
  const save = (): void => {
    clearTimeout(saveTimer);
    saveTimer = undefined;
    // A damaged link's code was never restored; once the reader edits, it would only hide the edit on reload.
    const linked = readHashParam(config.location.hash(), hashKey);
    if (linked !== undefined && linked !== base) setHashParam(undefined);
    const now = currentCode();
    if (now === original && base === undefined) clearEdit(config.store, key);
    else saveEdit(config.store, key, base === undefined ? { code: now } : { code: now, base });
  };

  /** A run moves idle/running/results; with Compare open it only changes where closing goes back to. */
  const setRunState = (next: EmbedState): void => {
    if (state === "compare") beforeCompare = next;
    else setState(next);
  };
  const runs = createRunSequence({ config, emit, setState: setRunState, code: async () => (await restored, currentCode()) });

  return {
    get state() {
      return state;
    },
    get restored() {
      return restored;
    },
    on: (listener) => void listeners.push(listener),
    code: currentCode,
    attachEditor: (e) => {
      editor = e;
    },
    edited: () => {
      clearTimeout(saveTimer);
      saveTimer = setTimeout(save, SAVE_DELAY_MS);
    },
    flush,
    // Saved before the code runs: code that exhausts the worker's heap can take the tab down.
    run: () => (flush(), runs.run()),
    stop: runs.stop,
    share: async () => {
      await restored;
      const payload = (await config.loadShareCodec()).encodeShare(currentCode());
      base = payload;
      setHashParam(payload);
      save();
      return payload;
    },
    reset: async () => {
      await restored;
      setHashParam(undefined);
      apply({ code: original, from: "page" });
      clearTimeout(saveTimer);
      saveTimer = undefined;
      clearEdit(config.store, key);
      emit({ type: "message", text: "Back to the page’s original code." });
    },
    hashChanged: () => {
      const payload = readHashParam(config.location.hash(), hashKey);
      if (payload !== undefined && payload !== base) restored = restore();
    },
    setCompareOpen: (open) => {
      if (open && state !== "compare") beforeCompare = state;
      setState(open ? "compare" : beforeCompare);
    },
  };
}

interface RunSequenceHost {
  config: EmbedConfig;
  emit(event: EmbedEvent): void;
  setState(state: EmbedState): void;
  /** The code to run, once any restore has finished. */
  code(): Promise<string>;
}

/** Runs, one at a time: a new Run stops the one under way; only the latest run's events count. */
function createRunSequence({ config, emit, setState, code }: RunSequenceHost) {
  let current: RunHandle | undefined;
  let running = false;
  let runNumber = 0;

  const run = async (): Promise<RunEnd | undefined> => {
    // Cleared first, so the stopped run's end is not counted as this run's.
    const previous = current;
    current = undefined;
    previous?.stop();
    const thisRun = ++runNumber;
    setState("running");
    emit({ type: "run-started", run: thisRun });
    emit({ type: "error-line", line: undefined, message: "" });
    const source = await code();
    if (thisRun !== runNumber) return undefined;
    let machines: RunMachines | undefined;
    let flags: RunSummaryFacts["flags"];
    const outcome = new OutcomeBuilder();
    const handle: RunHandle = config.runCode(source, {
      onEvent: (e) => {
        if (thisRun !== runNumber) return;
        outcome.add(e);
        if (e.type === "error" && e.line !== undefined) emit({ type: "error-line", line: e.line, message: `${e.name}: ${e.message}` });
        if (e.type === "end") return;
        if (e.type !== "results") return emit({ type: "output", run: thisRun, event: e });
        machines = { reports: e.machines, labels: e.labels, inspect: (i) => handle.inspect(i), step: (i, at) => handle.step(i, at) };
        flags = e.flags;
        emit({ type: "results", run: thisRun, machines });
      },
    });
    current = handle;
    running = true;
    const end = await handle.finished;
    if (thisRun !== runNumber) return end;
    running = false;
    const error = outcome.outcome().error;
    const line = outcome.errorLine;
    const facts: RunSummaryFacts = {
      end,
      ...(machines && { machines: machines.labels.length, flags }),
      ...(error && end.status === "failed" && { error: { name: error.name, ...(line !== undefined && { line }) } }),
    };
    if (!machines)
      emit({
        type: "results",
        run: thisRun,
        machines: undefined,
        why: "No results: the run ended before it could report its machines (a syntax error, the time limit, or a crash; see Console).",
      });
    setState("results");
    emit({ type: "run-ended", run: thisRun, facts, outcome });
    return end;
  };

  return {
    run,
    stop: (): void => {
      // Only a run under way: a finished run's runner stays, to show its other machines.
      if (running) current?.stop();
    },
  };
}
