// The site served under a base path (dist-base/, built by `npm run build:base` with
// SITE_BASE=/dma-lab/) works in Chromium: a page's own link stays under the base, Run starts the
// runner worker from under the base, a Share link points under the base and restores the code, and
// site search loads its index from under the base and links its results there.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Browser } from "playwright-core";
import { BASE_DIST_DIR, SITE_BASE_FOR_TESTS, startPreview } from "../support/preview.js";
import { launchChromium } from "../support/chromium.js";
import { PLAYGROUND_PATH, embed, openPage, run, type PlaygroundPage } from "../support/playground-page.js";

let preview: Awaited<ReturnType<typeof startPreview>>;
let browser: Browser;
let p: PlaygroundPage;
let origin: string;
const failed: string[] = [];

beforeAll(async () => {
  preview = await startPreview({ distDir: BASE_DIST_DIR, base: SITE_BASE_FOR_TESTS });
  origin = new URL(preview.baseUrl).origin;
  browser = await launchChromium();
  p = await openPage(browser, preview.baseUrl + PLAYGROUND_PATH);
  p.page.on("response", (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
  });
});

afterAll(async () => {
  await p?.close();
  await browser?.close();
  await preview?.stop();
});

const underBase = (url: string): boolean => !url.startsWith(origin) || new URL(url).pathname.startsWith(SITE_BASE_FOR_TESTS);

describe(`site served under ${SITE_BASE_FOR_TESTS}`, () => {
  test("the page is served under the base (and the preview really serves only there)", async () => {
    expect(new URL(p.page.url()).pathname).toBe(`${SITE_BASE_FOR_TESTS}playground-basics/`);
    expect(await p.page.locator("h1").innerText()).toBe("Your first DMA mapping");
    const outside = await fetch(`${origin}/playground-basics/`);
    expect(outside.status).toBe(404);
  });

  test("Run starts the runner worker from under the base and prints the result", async () => {
    const text = await run(p.page);
    expect(text).toMatch(/^bus address 0x[0-9a-f]+$/m);
    expect(p.workers.length).toBeGreaterThan(0);
    expect(p.workers.filter((u) => !underBase(u))).toEqual([]);
    expect(p.requests.filter((u) => !underBase(u))).toEqual([]);
    expect(failed).toEqual([]);
    expect(p.pageErrors).toEqual([]);
  });

  test("Share gives a link under the base that restores the code in a fresh browser", async () => {
    await embed(p.page).getByRole("button", { name: "Share" }).click();
    await expect.poll(() => p.page.url()).toMatch(/#/);
    const link = p.page.url();
    expect(new URL(link).pathname).toBe(`${SITE_BASE_FOR_TESTS}playground-basics/`);
    const fresh = await openPage(browser, link);
    try {
      await expect.poll(() => embed(fresh.page).locator(".pg-plain, .pg-static").first().innerText()).toContain('dmaApi(disk, "p2m")');
      await expect.poll(() => embed(fresh.page).locator(".pg-status").innerText()).toMatch(/Restored the code from the link/);
    } finally {
      await fresh.close();
    }
  });

  test("search finds pages and links them under the base", async () => {
    await p.page.locator("button[data-open-modal]").first().click();
    await p.page.locator("#starlight__search input").fill("swiotlb");
    const links = p.page.locator("#starlight__search a.pagefind-ui__result-link");
    await links.first().waitFor({ timeout: 20_000 });
    const hrefs = await links.evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
    expect(hrefs.length).toBeGreaterThan(0);
    expect(hrefs.filter((u) => !new URL(u).pathname.startsWith(SITE_BASE_FOR_TESTS))).toEqual([]);
    await p.page.keyboard.press("Escape");
  });

  test("a link written root-relative in the page’s text leads to a page under the base", async () => {
    await p.page.locator('.sl-markdown-content a[href$="/playground/"]').first().click();
    await p.page.waitForURL(`**${SITE_BASE_FOR_TESTS}playground/`);
    expect(await p.page.locator("h1").innerText()).toMatch(/Playground/i);
    expect(failed).toEqual([]);
  });
});
