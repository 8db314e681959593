// The runner as a reader meets it, on the built site without the editor: sealed (what a shared
// link's code cannot reach, and messages it cannot forge), honest (every run ends with a status
// line that says how it ended, with its machines and the trace's errors; pending work, a misspelt
// import, an error's line, a crashed runner), and stoppable (Stop, Esc). Code is loaded the way a
// shared link loads it.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { closeSite, openSite, type Preview } from "../support/site.js";
import type { Browser } from "playwright-core";
import {
  PLAYGROUND_PATH,
  counter,
  embed,
  loadCode,
  openPage,
  openTab,
  output,
  run,
  runStatus,
  waitForCounter,
  waitForStatus,
  type PlaygroundPage,
} from "../support/playground-page.js";
import { encodeShare } from "../../src/playground/page/share-code.js";
import { REMOVED_APIS } from "../../src/playground/worker/seal.js";

let preview: Preview;
let browser: Browser;
let p: PlaygroundPage;

/** Every message type of the runner protocol (src/playground/common/protocol.ts). */
const PROTOCOL_TYPES = ["ready", "started", "console", "error", "results", "machine", "closed", "done"] as const;

/** Well-formed messages of each type, as a forger would write them. */
const FORGED: Record<(typeof PROTOCOL_TYPES)[number], object> = {
  ready: { type: "ready" },
  started: { type: "started" },
  console: { type: "console", level: "log", text: "FORGED console line" },
  error: { type: "error", name: "ForgedError", message: "FORGED error" },
  results: {
    type: "results",
    machines: [],
    machinesOmitted: 0,
    labels: ["FORGED machine"],
    flags: { errors: 9, warnings: 9, dmaDebug: 9 },
  },
  machine: {
    type: "machine",
    index: 0,
    report: {
      index: 1,
      label: "FORGED",
      trace: [],
      omitted: 0,
      stats: { events: {}, cost: { total: 0, byKind: {} }, time: 0 },
      snapshot: null,
    },
  },
  closed: { type: "closed" },
  done: { type: "done", end: "finished", durationMs: 1 },
};

async function runCode(code: string): Promise<{ text: string; status: string; line: string }> {
  await loadCode(p.page, code, encodeShare);
  const text = await run(p.page);
  return { text, status: (await runStatus(p.page).getAttribute("data-status")) ?? "", line: await runStatus(p.page).innerText() };
}

beforeAll(async () => {
  ({ preview, browser } = await openSite());
  p = await openPage(browser, preview.baseUrl + PLAYGROUND_PATH);
  // Lets the test reach what only the page holds: the runner's Worker objects and private ports.
  await p.page.addInitScript(() => {
    const w = window as unknown as { __workers: Worker[]; __ports: MessagePort[] };
    w.__workers = [];
    w.__ports = [];
    const RealWorker = window.Worker;
    window.Worker = class extends RealWorker {
      constructor(...args: ConstructorParameters<typeof Worker>) {
        super(...args);
        w.__workers.push(this);
      }
    };
    const RealChannel = window.MessageChannel;
    window.MessageChannel = class extends RealChannel {
      constructor() {
        super();
        w.__ports.push(this.port1);
      }
    };
  });
  await p.page.reload({ waitUntil: "load" });
});

afterAll(async () => {
  await p?.close();
  await closeSite(preview, browser);
});

describe("sealed", () => {
  test("each removed API gives its error, naming it; code from strings is refused too", async () => {
    const probes = [...REMOVED_APIS, "eval", "Function"].map(
      (name) =>
        `try { void (self as any)[${JSON.stringify(name)}]; console.log(${JSON.stringify(name)}, "reachable"); } catch (e) { console.log((e as Error).message); }`,
    );
    probes.push(
      'try { (function () {}).constructor("return 1"); console.log("constructor reachable"); } catch (e) { console.log((e as Error).message); }',
    );
    probes.push(
      'try { setTimeout("console.log(1)", 0); console.log("string timer ran"); } catch (e) { console.log((e as Error).message); }',
    );
    const { text, status } = await runCode(probes.join("\n"));
    expect(text).not.toMatch(/reachable|string timer ran/);
    for (const name of REMOVED_APIS) expect(text).toContain(`${name} is not available in the playground`);
    expect(text).toContain("eval is not available in the playground");
    expect(text).toContain("Function is not available in the playground");
    expect(text).toContain("The Function constructor is not available in the playground");
    expect(text).toContain("setTimeout and setInterval take a function");
    expect(status).toBe("finished");
  });

  test("fetch from reader code sends no request", async () => {
    const before = p.requests.length;
    const { text } = await runCode(
      'try { await fetch("https://example.com/leak"); } catch (e) { console.log((e as Error).name); }\nconsole.log("fetch tried");',
    );
    expect(text).toContain("UnavailableError");
    expect(p.requests.slice(before).filter((u) => /example\.com/.test(u))).toEqual([]);
  });

  test("a forged message of each protocol type is ignored, from the worker’s channel or malformed on the port", async () => {
    await loadCode(
      p.page,
      'console.log("first line");\nawait new Promise((r) => setTimeout(r, 1200));\nconsole.log("late line");',
      encodeShare,
    );
    const runs = await counter(p.page, "runs");
    await embed(p.page).getByRole("button", { name: "Run" }).click();
    await expect.poll(() => output(p.page)).toContain("first line");
    await p.page.evaluate((forged) => {
      const w = window as unknown as { __workers: Worker[]; __ports: MessagePort[] };
      for (const message of Object.values(forged)) {
        // The worker's global channel: the page does not listen to it at all.
        for (const worker of w.__workers) worker.dispatchEvent(new MessageEvent("message", { data: message }));
        // The private port, with each message bent out of shape: not the protocol, so dropped.
        const bent = [
          { ...message, type: String((message as { type: string }).type).toUpperCase() },
          { ...message, extra: undefined, durationMs: -1, text: 42, index: "x", machines: "x", name: 7, level: "shout" },
        ];
        for (const port of w.__ports) for (const data of bent) port.dispatchEvent(new MessageEvent("message", { data }));
      }
    }, FORGED);
    await waitForCounter(p.page, "runs", runs + 1);
    const text = await output(p.page);
    expect(text).toContain("late line");
    expect(text).not.toContain("FORGED");
    expect(await runStatus(p.page).getAttribute("data-status")).toBe("finished");
    expect(await runStatus(p.page).innerText()).not.toMatch(/dma-debug|9/);
  });

  test("reader code cannot post to the page: every route to postMessage is gone", async () => {
    const { text, status } = await runCode(
      [
        'for (const route of [() => (self as any).postMessage({ type: "done" }), () => Object.getPrototypeOf(self).postMessage.call(self, { type: "done" }), () => (globalThis as any).postMessage({ type: "done" })]) {',
        '  try { route(); console.log("posted"); } catch (e) { console.log("refused"); }',
        "}",
        "await new Promise((r) => setTimeout(r, 50));",
        'console.log("still running");',
      ].join("\n"),
    );
    expect(text.split("\n").filter((l) => l === "refused")).toHaveLength(3);
    expect(text).toContain("still running");
    expect(status).toBe("finished");
  });
});

describe("honest", () => {
  test("a run with no output still ends with a status line", async () => {
    const { text, status, line } = await runCode("const quiet = 1 + 1;\n");
    expect(text.trim()).toBe("");
    expect(status).toBe("finished");
    expect(line).toMatch(/^Finished in (<1|\d+) ms · 0 machines/);
  });

  test("dma-debug counts appear in the status line and link to the Trace tab filtered to them", async () => {
    const code = [
      'import { createMachine } from "dma-lab";',
      'const m = createMachine({ arch: "x86_64", memory: "1 GiB" });',
      'const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "256 MiB", privileged: true });',
      'const nic = m.attachDevice({ name: "eth0", domain: dom0, dmaMask: 64 });',
      'const dma = dom0.dmaApi(nic, "direct");',
      'const buf = dom0.alloc("8 KiB");',
      'const bus = dma.mapSingle(buf, 8192, "TO_DEVICE");',
      'dma.unmapSingle(bus, 8192, "TO_DEVICE");',
      'dma.unmapSingle(bus, 8192, "TO_DEVICE");',
    ].join("\n");
    const { status, line } = await runCode(code);
    expect(status).toBe("finished");
    expect(line).toMatch(/1 machine · dma-debug: \d+ errors?/);
    await runStatus(p.page).locator('[data-filter="dma-debug"]').click();
    expect(await embed(p.page).getByRole("tab", { name: "Trace" }).getAttribute("aria-selected")).toBe("true");
    const kinds = await embed(p.page)
      .locator(".pg-trace tbody tr")
      .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.kind));
    expect(kinds.length).toBeGreaterThan(0);
    expect(new Set(kinds)).toEqual(new Set(["dma-debug"]));
    await openTab(p.page, "Console");
  });

  test("a misspelt import names the export and the closest one", async () => {
    const { text, status, line } = await runCode(
      'import { createMachin } from "dma-lab";\n\nconst m = createMachin({ memory: "64 MiB" });\n',
    );
    expect(text).toContain('dma-lab has no export "createMachin" (did you mean createMachine?) (line 3)');
    expect(status).toBe("failed");
    expect(line).toMatch(/^Failed after .*: ImportError on line 3/);
  });

  test("a runtime error’s line is marked in the static code view", async () => {
    await runCode('const a = 1;\nconst b = 2;\nthrow new Error("boom");\n');
    expect(await embed(p.page).getAttribute("data-error-line")).toBe("3");
    expect(await embed(p.page).locator(".pg-plain .pg-error-line").innerText()).toBe('throw new Error("boom");');
    // The next run clears the mark.
    await runCode('console.log("clean");\n');
    expect(await embed(p.page).getAttribute("data-error-line")).toBeNull();
    expect(await embed(p.page).locator(".pg-error-line").count()).toBe(0);
  });

  test("work pending when the top level returns is waited for; a timer never cleared hits the time limit and says so", async () => {
    const waited = await runCode(
      'setTimeout(() => console.log("timer fired"), 300);\nPromise.resolve().then(() => console.log("microtask"));\n',
    );
    expect(waited.text).toContain("timer fired");
    expect(waited.status).toBe("finished");
    const forever = await runCode(
      'import { createMachine } from "dma-lab";\ncreateMachine({ memory: "16 MiB" });\nsetInterval(() => {}, 100);\n',
    );
    expect(forever.status).toBe("time limit");
    expect(forever.line).toMatch(/^Time limit: stopped after 3\.\d s \(1 timer pending\) · 1 machine/);
    expect(forever.text).toContain("1 timer was still pending");
  });

  test("machine labels differ, and every machine can be inspected (not only the first eight)", async () => {
    const { status } = await runCode(
      'import { createMachine } from "dma-lab";\nfor (let i = 0; i < 10; i++) createMachine({ memory: "16 MiB", era: i % 2 ? "2006" : "modern" }).createDomain({ name: "d" + i, mode: "P2M", memory: "4 MiB" });\n',
    );
    expect(status).toBe("finished");
    const select = embed(p.page).locator(".pg-machine-bar select");
    const labels = await select.locator("option").allInnerTexts();
    expect(labels).toHaveLength(10);
    expect(new Set(labels).size).toBe(10);
    expect(labels[9]).toBe("Machine 10 (line 2, iteration 10): era 2006");
    await openTab(p.page, "Trace");
    await select.selectOption({ index: 9 });
    await expect.poll(() => embed(p.page).locator(".pg-trace tbody").innerText()).toContain("d9");
    await openTab(p.page, "Console");
  });

  test("a worker that ends itself is reported as crashed", async () => {
    const { status, line } = await runCode('console.log("before");\nclose();\nconsole.log("after");\n');
    expect(status).toBe("crashed");
    expect(line).toMatch(/^Crashed after .*: your code called close\(\), which ends the runner/);
  });
});

describe("stoppable", () => {
  test("Stop ends a run, and so does Esc", async () => {
    await loadCode(p.page, 'console.log("spinning");\nwhile (true) {}\n', encodeShare);
    for (const how of ["button", "escape"] as const) {
      const runs = await counter(p.page, "runs");
      await embed(p.page).getByRole("button", { name: "Run" }).click();
      await expect.poll(() => output(p.page)).toContain("spinning");
      const stop = embed(p.page).getByRole("button", { name: "Stop" });
      expect(await stop.isVisible()).toBe(true);
      if (how === "button") await stop.click();
      else await p.page.keyboard.press("Escape");
      expect(await waitForStatus(p.page, runs + 1)).toBe("stopped");
      expect(await runStatus(p.page).innerText()).toMatch(/^Stopped by you after/);
      expect(await stop.isHidden()).toBe(true);
    }
  });

  test("no errors on the page", () => {
    expect(p.pageErrors).toEqual([]);
  });
});
