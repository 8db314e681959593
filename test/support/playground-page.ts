// Drives the playground page in Chromium, recording what a test needs to assert on:
// network requests, console messages, page errors and the workers the page starts.
import type { Browser, Page } from 'playwright-core';

export interface PlaygroundPage {
  page: Page;
  requests: string[];
  consoleMessages: { type: string; text: string }[];
  pageErrors: string[];
  workers: string[];
  close(): Promise<void>;
}

export const PLAYGROUND_PATH = '/playground-basics/';
export const EMBED = '.dma-playground';

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
  page.on('request', (r) => result.requests.push(r.url()));
  page.on('console', (m) => result.consoleMessages.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => result.pageErrors.push(e.message));
  page.on('worker', (w) => result.workers.push(w.url()));
  await page.goto(url, { waitUntil: 'load' });
  return result;
}

export function embed(page: Page) {
  return page.locator(EMBED).first();
}

/** Presses Edit and waits until Monaco shows the code. */
export async function activate(page: Page): Promise<void> {
  await embed(page).getByRole('button', { name: 'Edit' }).click();
  await embed(page).locator('.monaco-editor .view-lines').waitFor({ state: 'visible', timeout: 60_000 });
  await page.waitForFunction((sel) => document.querySelector<HTMLElement>(sel)?.dataset.state === 'editing', EMBED);
}

/** Replaces the editor's whole text the way a reader would: select all, then type. */
export async function replaceCode(page: Page, code: string): Promise<void> {
  await embed(page).locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(code);
}

/** Clicks Run and waits for that run to end (finished, failed or stopped). */
export async function run(page: Page): Promise<string> {
  const runs = await embed(page).evaluate((el) => Number((el as HTMLElement).dataset.runs ?? 0));
  await embed(page).getByRole('button', { name: 'Run' }).click();
  await page.waitForFunction(
    ([sel, n]) => Number(document.querySelector<HTMLElement>(sel as string)?.dataset.runs ?? 0) > (n as number),
    [EMBED, runs] as const,
    { timeout: 20_000 },
  );
  return output(page);
}

export function output(page: Page): Promise<string> {
  return embed(page).locator('.pg-output').innerText();
}

/** Waits until the results views show run number `n` of the first embed (they load lazily). */
export async function waitForResults(page: Page, n: number): Promise<void> {
  await page.waitForFunction(
    ([sel, want]) => Number(document.querySelector<HTMLElement>(sel as string)?.dataset.results ?? 0) >= (want as number),
    [EMBED, n] as const,
    { timeout: 20_000 },
  );
}

/** Opens a results tab (Console, Trace, Stats, Picture) of the first embed. */
export async function openTab(page: Page, name: string): Promise<void> {
  await embed(page).getByRole('tab', { name }).click();
}

/** Reads a number as the results views print it ("12,345"). */
export const parseNumber = (text: string): number => Number(text.replace(/,/g, '').trim());
