// Drives the playground page in Chromium, recording what a test needs to assert on:
// network requests, console messages, page errors and the workers the page starts.
import type { Browser, Page } from "playwright-core";

export interface PlaygroundPage {
  page: Page;
  requests: string[];
  consoleMessages: { type: string; text: string }[];
  pageErrors: string[];
  workers: string[];
  close(): Promise<void>;
}

export const PLAYGROUND_PATH = "/playground-basics/";
export const EMBED = ".dma-playground";

/** Anything that is Monaco: its chunks, its stylesheet, its workers. */
export const MONACO_URL = /monaco|editor\.main|editor\.worker|ts\.worker|editor\.api|codicon/i;

export async function openPage(browser: Browser, url: string): Promise<PlaygroundPage> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const result: PlaygroundPage = {
    page,
    requests: [],
    consoleMessages: [],
    pageErrors: [],
    workers: [],
    close: () => context.close(),
  };
  page.on("request", (r) => result.requests.push(r.url()));
  page.on("console", (m) => result.consoleMessages.push({ type: m.type(), text: m.text() }));
  page.on("pageerror", (e) => result.pageErrors.push(e.message));
  page.on("worker", (w) => result.workers.push(w.url()));
  await page.goto(url, { waitUntil: "load" });
  return result;
}

/** The `n`-th playground embed of the page (0-based; the first by default). */
export function embed(page: Page, n = 0) {
  return page.locator(EMBED).nth(n);
}

/** Presses Edit and waits until Monaco shows the code. */
export async function activate(page: Page, n = 0): Promise<void> {
  await embed(page, n).getByRole("button", { name: "Edit" }).click();
  await embed(page, n).locator(".monaco-editor .view-lines").waitFor({ state: "visible", timeout: 60_000 });
  await page.waitForFunction(
    ([sel, i]) => document.querySelectorAll<HTMLElement>(sel as string)[i as number]?.dataset.state === "editing",
    [EMBED, n] as const,
  );
}

/** Replaces the editor's whole text the way a reader would: select all, then type. */
export async function replaceCode(page: Page, code: string, n = 0): Promise<void> {
  await embed(page, n).locator(".monaco-editor .view-lines").click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(code);
}

/** A counter the embed keeps in a data attribute (runs, results, checked, compared): 0 when absent. */
export function counter(page: Page, name: string, n = 0): Promise<number> {
  return embed(page, n).evaluate((el, key) => Number((el as HTMLElement).dataset[key] ?? 0), name);
}

/** Waits until counter `name` of embed `n` reaches `atLeast`. */
export async function waitForCounter(page: Page, name: string, atLeast: number, n = 0): Promise<void> {
  await page.waitForFunction(
    ([sel, i, key, want]) =>
      Number(document.querySelectorAll<HTMLElement>(sel as string)[i as number]?.dataset[key as string] ?? 0) >= (want as number),
    [EMBED, n, name, atLeast] as const,
    { timeout: 20_000 },
  );
}

/** Clicks Run and waits for that run to end (finished, failed or stopped). */
export async function run(page: Page, n = 0): Promise<string> {
  const runs = await counter(page, "runs", n);
  await embed(page, n).getByRole("button", { name: "Run" }).click();
  await waitForCounter(page, "runs", runs + 1, n);
  return output(page, n);
}

export function output(page: Page, n = 0): Promise<string> {
  return embed(page, n).locator(".pg-output").innerText();
}

/** Waits until the results views show run number `n` of the first embed (they load lazily). */
export function waitForResults(page: Page, n: number): Promise<void> {
  return waitForCounter(page, "results", n);
}

/** Index of the first embed matching `selector` (e.g. `[data-check="stray-dma"]`), so tests do not depend on a page's order. */
export async function embedIndex(page: Page, selector: string): Promise<number> {
  const n = await page.locator(EMBED).evaluateAll((els, sel) => els.findIndex((el) => el.matches(sel)), `${EMBED}${selector}`);
  if (n < 0) throw new Error(`no embed matches ${selector} on ${page.url()}`);
  return n;
}

/** Opens a results tab (Console, Trace, Stats, Picture) of the first embed. */
export async function openTab(page: Page, name: string): Promise<void> {
  await embed(page).getByRole("tab", { name }).click();
}

/** Reads a number as the results views print it ("12,345"). */
export const parseNumber = (text: string): number => Number(text.replace(/,/g, "").trim());

/** The run status line of embed `n` ("Finished in 3 ms · 1 machine …"). */
export function runStatus(page: Page, n = 0) {
  return embed(page, n).locator(".pg-run-status");
}

/** Waits until embed `n`'s status line says how run number `runs` ended; returns that status. */
export async function waitForStatus(page: Page, runs: number, n = 0): Promise<string> {
  await waitForCounter(page, "runs", runs, n);
  return (await runStatus(page, n).getAttribute("data-status")) ?? "";
}

/**
 * Puts `code` into embed `n` the way a shared link does (the hash changes; the page restores the
 * code and does not run it), without loading the editor.
 */
export async function loadCode(page: Page, code: string, encode: (code: string) => string, n = 0): Promise<void> {
  await page.evaluate(([key, value]) => (location.hash = `${key}=${value}`), [`pg-${n + 1}`, encode(code)] as const);
  await page.waitForFunction(
    ([sel, i, text]) =>
      document.querySelectorAll<HTMLElement>(sel as string)[i as number]?.querySelector<HTMLElement>(".pg-plain code")?.textContent ===
      text,
    [EMBED, n, code.replace(/\n$/, "").split("\n").join("")] as const,
  );
}

/** Workers other than the prepared runner (which starts once an embed is on screen). */
export function workersBesidesRunner(p: PlaygroundPage): string[] {
  return p.workers.filter((u) => !/runner-worker/.test(u));
}
