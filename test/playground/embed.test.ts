// The embed core without a page: its states through a run, a stopped run, persistence of edits,
// share links and reset, driven with the real runner core (through a stand-in for the Worker) and
// an in-memory store and location.
import { describe, expect, test } from "vitest";
import { createEmbed, SAVE_DELAY_MS, type EmbedEvent, type EmbedState } from "../../src/playground/page/embed.js";
import * as shareCode from "../../src/playground/page/share-code.js";
import type { RunEnd, RunEvent, RunHandle, RunOptions } from "../../src/playground/page/run.js";
import { runInNodeDetailed } from "../support/run-in-node.js";

/** runCode for Node: the runner core in this process, its messages turned into the page's events. */
function nodeRunCode(code: string, { onEvent }: RunOptions): RunHandle {
  let stop!: () => void;
  const stopped = new Promise<RunEnd>((resolve) => (stop = () => resolve({ type: "end", status: "stopped", durationMs: 0 })));
  const ran = runInNodeDetailed(code).then(({ messages, done }): RunEnd => {
    for (const m of messages) if (m.type === "console" || m.type === "error" || m.type === "results") onEvent(m as RunEvent);
    return { type: "end", status: done.end, durationMs: done.durationMs };
  });
  const finished = Promise.race([stopped, ran]).then((end) => (onEvent(end), end));
  return { finished, stop, inspect: async () => undefined, step: async () => undefined, dispose: () => undefined };
}

function makeEmbed(hash = "", runCode = nodeRunCode) {
  const storage = new Map<string, string>();
  const store = {
    getItem: (k: string) => storage.get(k) ?? null,
    setItem: (k: string, v: string) => void storage.set(k, v),
    removeItem: (k: string) => void storage.delete(k),
  };
  const place = { hash };
  const embed = createEmbed({
    original: 'console.log("page");\n',
    index: 1,
    pathname: "/test/",
    runCode,
    store,
    location: { hash: () => place.hash, replaceHash: (h) => (place.hash = h) },
    loadShareCodec: async () => shareCode,
  });
  const events: EmbedEvent[] = [];
  const states: EmbedState[] = [];
  embed.on((e) => {
    events.push(e);
    if (e.type === "state") states.push(e.state);
  });
  return { embed, events, states, storage, place };
}

describe("createEmbed", () => {
  test("a run goes idle → running → results, with its output, results and status facts", async () => {
    const { embed, events, states } = makeEmbed();
    await embed.restored;
    expect(embed.state).toBe("idle");
    const end = await embed.run();
    expect(end?.status).toBe("finished");
    expect(states).toEqual(["running", "results"]);
    expect(events.filter((e) => e.type === "output").map((e) => (e as { event: { text?: string } }).event.text)).toEqual(["page"]);
    const ended = events.find((e) => e.type === "run-ended");
    expect(ended).toMatchObject({ run: 1, facts: { end: { status: "finished" }, machines: 0 } });
  });

  test("a failed run names its error line; the next run clears it", async () => {
    const { embed, events, place } = makeEmbed();
    await embed.restored;
    place.hash = `#pg-1=${shareCode.encodeShare('const a = 1;\nthrow new Error("boom");\n')}`;
    embed.hashChanged();
    await embed.restored;
    expect(embed.code()).toBe('const a = 1;\nthrow new Error("boom");\n');
    expect((await embed.run())?.status).toBe("failed");
    const marks = events.filter((e) => e.type === "error-line").map((e) => (e as { line?: number }).line);
    expect(marks).toEqual([undefined, 2]);
    expect(events.find((e) => e.type === "run-ended")).toMatchObject({ facts: { error: { name: "Error", line: 2 } } });
  });

  test("Stop ends the run under way as stopped; a new Run stops the old one, whose end is not reported", async () => {
    let finishSlow!: (end: RunEnd) => void;
    const slowRunCode = (_code: string, { onEvent }: RunOptions): RunHandle => {
      const finished = new Promise<RunEnd>((resolve) => (finishSlow = resolve)).then((end) => (onEvent(end), end));
      return {
        finished,
        stop: () => finishSlow({ type: "end", status: "stopped", durationMs: 5 }),
        inspect: async () => undefined,
        step: async () => undefined,
        dispose: () => undefined,
      };
    };
    const { embed, events, states } = makeEmbed("", slowRunCode);
    await embed.restored;
    const first = embed.run();
    await new Promise((r) => setTimeout(r, 0));
    expect(embed.state).toBe("running");
    const second = embed.run();
    expect((await first)?.status).toBe("stopped");
    await new Promise((r) => setTimeout(r, 0));
    embed.stop();
    expect((await second)?.status).toBe("stopped");
    expect(events.filter((e) => e.type === "run-ended").map((e) => (e as { run: number }).run)).toEqual([2]);
    expect(states.at(-1)).toBe("results");
  });

  test("edits are saved after a pause; Reset brings back the page’s code and forgets them", async () => {
    const { embed, storage } = makeEmbed();
    await embed.restored;
    let text = 'console.log("edited");\n';
    embed.attachEditor({ getValue: () => text, setValue: (c) => (text = c) });
    embed.edited();
    expect(storage.size).toBe(0);
    await new Promise((r) => setTimeout(r, SAVE_DELAY_MS + 50));
    expect([...storage.values()][0]).toContain("edited");
    await embed.reset();
    expect(text).toBe('console.log("page");\n');
    expect(storage.size).toBe(0);
  });

  test("Run saves an edit still waiting for its pause before the code runs", async () => {
    const { embed, storage } = makeEmbed();
    await embed.restored;
    let text = 'console.log("typed just now");\n';
    embed.attachEditor({ getValue: () => text, setValue: (c) => (text = c) });
    embed.edited();
    const running = embed.run();
    expect([...storage.values()][0]).toContain("typed just now");
    await running;
  });

  test("share puts the code in the hash; Compare is a state of its own and closing it goes back", async () => {
    const { embed, place, states } = makeEmbed();
    await embed.restored;
    const payload = await embed.share();
    expect(place.hash).toBe(`#pg-1=${payload}`);
    embed.setCompareOpen(true);
    expect(embed.state).toBe("compare");
    await embed.run();
    expect(embed.state).toBe("compare");
    embed.setCompareOpen(false);
    expect(embed.state).toBe("results");
    expect(states).toEqual(["compare", "results"]);
  });
});
