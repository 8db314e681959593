// The playground after Edit: Monaco loads with real workers, edited code runs, runaway code is
// stopped by the time limit, and errors point at the reader's line.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { closeSite, openSite, type Preview } from "../support/site.js";
import type { Browser } from "playwright-core";
import { readFileSync } from "node:fs";
import {
  PLAYGROUND_PATH,
  activate,
  embed,
  embedIndex,
  openPage,
  output,
  replaceCode,
  run,
  waitForCounter,
  type PlaygroundPage,
} from "../support/playground-page.js";

let preview: Preview;
let browser: Browser;
let p: PlaygroundPage;

beforeAll(async () => {
  ({ preview, browser } = await openSite());
  // One activated page shared by the tests below, in order, as a reader would use it.
  p = await openPage(browser, preview.baseUrl + PLAYGROUND_PATH);
  await activate(p.page);
});

afterAll(async () => {
  await p?.close();
  await closeSite(preview, browser);
});

const EDITED = `import { createMachine } from "dma-lab";
const m = createMachine({ arch: "ia64", memory: "1 GiB" });
const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "256 MiB", privileged: true });
const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 32 });
const dma = dom0.dmaApi(disk, "p2m");
const buf = dom0.alloc("16 KiB");
const text: string = "edited in the browser";
dom0.write(buf, new TextEncoder().encode(text));
const bus = dma.mapSingle(buf, text.length, "TO_DEVICE");
console.log("device read:", new TextDecoder().decode(disk.read(bus, text.length)));
console.warn("mapped", text.length, "bytes");
dma.unmapSingle(bus, text.length, "TO_DEVICE");
`;

describe("playground after activation", () => {
  test("Monaco loads with its stylesheet and real web workers", async () => {
    await expect.poll(() => embed(p.page).locator(".pg-static").isHidden()).toBe(true);
    expect(p.requests.some((u) => /editor\.main.*\.css/.test(u))).toBe(true);
    // The TypeScript worker starts once the model is checked; the editor worker shortly after load.
    await expect.poll(() => p.workers.some((u) => /ts\.worker/.test(u)), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => p.workers.some((u) => /editor\.worker/.test(u)), { timeout: 30_000 }).toBe(true);
    const noWorkers = p.consoleMessages.filter((m) => /could not create web worker/i.test(m.text));
    expect(noWorkers).toEqual([]);
  });

  test("replacing the code and pressing Run shows its output", async () => {
    await replaceCode(p.page, EDITED);
    const text = await run(p.page);
    expect(text).toContain("device read: edited in the browser");
    expect(text).toContain("mapped 21 bytes");
    expect(await embed(p.page).locator(".pg-output .pg-warn").innerText()).toBe("mapped 21 bytes");
    expect(await embed(p.page).locator(".pg-output .pg-error").count()).toBe(0);
  });

  test("the editor type-checks against the simulator: only the deliberate error is underlined", async () => {
    await replaceCode(p.page, `${EDITED}const wrong: number = "not a number";\n`);
    const squiggles = embed(p.page).locator(".squiggly-error");
    await expect.poll(() => squiggles.count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await p.page.waitForTimeout(1000);
    expect(await squiggles.count()).toBe(1);
    // Run does not wait for the type checker, and its status line says how many type errors there are.
    await run(p.page);
    expect(await embed(p.page).locator(".pg-run-status").getAttribute("data-status")).toBe("finished");
    await expect
      .poll(() => embed(p.page).locator(".pg-run-status .pg-type-errors").innerText(), { timeout: 10_000 })
      .toBe(" · 1 type error in the editor");
  });

  test("an uncaught error shows its message and the reader’s line", async () => {
    await replaceCode(
      p.page,
      `import { createMachine } from "dma-lab";
const m = createMachine({ arch: "ia64", memory: "1 GiB" });
console.log("before the error");
function fail(reason: string): never {
  throw new RangeError("broken on purpose: " + reason);
}
fail("test");
`,
    );
    const text = await run(p.page);
    expect(text).toContain("before the error");
    const error = embed(p.page).locator(".pg-output .pg-error");
    expect(await error.count()).toBe(1);
    expect(await error.innerText()).toBe("RangeError: broken on purpose: test (line 5)");
    // The line is marked in the editor, beside the line's text, until the next edit.
    const marked = embed(p.page).locator(".monaco-editor .pg-error-line");
    await expect.poll(() => marked.count()).toBe(1);
    const lineBox = await embed(p.page).locator(".monaco-editor .view-line", { hasText: "throw new RangeError" }).boundingBox();
    const markBox = await marked.boundingBox();
    expect(Math.abs(lineBox!.y - markBox!.y)).toBeLessThan(2);
    expect(await embed(p.page).getAttribute("data-error-line")).toBe("5");
  });

  test("an error thrown by the simulator names the reader’s line and its code", async () => {
    await replaceCode(
      p.page,
      `import { createMachine, SimError } from "dma-lab";
const m = createMachine({ arch: "ia64", memory: "1 GiB" });

m.createDomain({ name: "big", mode: "P2M", memory: "4 GiB" });
`,
    );
    await run(p.page);
    const error = await embed(p.page).locator(".pg-output .pg-error").innerText();
    expect(error).toMatch(/^SimError \[[A-Za-z_-]+\]: .+ \(line 4\)$/);
  });

  test("while (true) {} is stopped by the time limit, the page stays responsive, and the next Run works", async () => {
    await replaceCode(p.page, 'console.log("looping");\nwhile (true) {}\n');
    const started = Date.now();
    await embed(p.page).getByRole("button", { name: "Run" }).click();
    // The main thread answers while the worker spins.
    await p.page.waitForTimeout(500);
    const t0 = Date.now();
    expect(await p.page.evaluate(() => 6 * 7)).toBe(42);
    expect(Date.now() - t0).toBeLessThan(1000);
    const timeout = embed(p.page).locator(".pg-output .pg-timeout");
    await timeout.waitFor({ state: "visible", timeout: 15_000 });
    expect(await timeout.innerText()).toContain("Stopped: your code ran longer than 3 s (time limit)");
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    expect(await output(p.page)).toContain("looping");

    await replaceCode(p.page, 'console.log("second run", 1 + 1);\n');
    const text = await run(p.page);
    expect(text.trim()).toBe("second run 2");
  });

  test("a loop that logs forever is stopped, its output capped, and the page stays usable", async () => {
    await replaceCode(p.page, 'let i = 0;\nwhile (true) console.log("spam", i++);\n');
    await embed(p.page).getByRole("button", { name: "Run" }).click();
    await p.page.waitForTimeout(1000);
    const t0 = Date.now();
    expect(await p.page.evaluate(() => document.title)).toContain("Your first DMA mapping");
    expect(Date.now() - t0).toBeLessThan(1000);
    await embed(p.page).locator(".pg-output .pg-timeout").waitFor({ state: "visible", timeout: 15_000 });
    const lines = embed(p.page).locator(".pg-output > div");
    expect(await lines.count()).toBe(1002); // 1000 lines, the truncation notice, the time limit
    expect(await lines.nth(1000).innerText()).toBe("… output truncated after 1000 lines");
  });

  test("Ctrl+Enter in the editor runs the code once", async () => {
    await replaceCode(p.page, 'console.log("from the keyboard");\n');
    const started = async () => Number(await embed(p.page).getAttribute("data-started"));
    const before = await started();
    await p.page.keyboard.press("Control+Enter");
    await expect.poll(() => output(p.page)).toBe("from the keyboard");
    await p.page.waitForTimeout(300);
    expect(await started()).toBe(before + 1);
    // Monaco's default Ctrl+Enter (insert a line below) did not also fire: still 2 lines.
    expect(await embed(p.page).locator(".monaco-editor .view-line").count()).toBe(2);
  });

  test("an exercise: the check fails on the broken code and passes once it is fixed in the editor", async () => {
    // Same browser context: Monaco comes from the cache.
    await p.page.goto(`${preview.baseUrl}/exercises/`, { waitUntil: "load" });
    const n = await embedIndex(p.page, '[data-check="stray-dma"]');
    const check = embed(p.page, n).locator(".pg-check");
    await run(p.page, n);
    await waitForCounter(p.page, "checked", 1, n);
    expect(await check.getAttribute("data-verdict")).toBe("fail");

    await activate(p.page, n);
    await replaceCode(p.page, readFileSync(new URL("../../src/examples/exercise-stray-dma.solution.ts", import.meta.url), "utf8"), n);
    await run(p.page, n);
    await waitForCounter(p.page, "checked", 2, n);
    expect(await check.getAttribute("data-verdict")).toBe("pass");
    expect(await check.innerText()).toMatch(/Passed: \S/);
  });

  test("no console errors on the page", () => {
    expect(p.pageErrors).toEqual([]);
    expect(p.consoleMessages.filter((m) => m.type === "error")).toEqual([]);
  });
});
