// The explorable figures on the pages (src/components/Explorable.astro): each control redraws
// the picture in place after the simulator loads on first interaction; the step control works
// from the keyboard; stepping shows state over time (a xen-swiotlb bounce slot taken at map and
// given back at unmap; under lazy invalidation a stale IOTLB entry that lasts until the flush).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { closeSite, openSite, type Preview } from "../support/site.js";
import type { Browser, Locator, Page } from "playwright-core";

const FIGURES = [
  { path: "/addresses/", scenario: "address-modes" },
  { path: "/dma-api/", scenario: "iotlb-invalidation" },
  { path: "/spanning-pages/", scenario: "straddle-bounce" },
  { path: "/foreign-pages/", scenario: "foreign-page" },
] as const;

let preview: Preview;
let browser: Browser;

beforeAll(async () => {
  ({ preview, browser } = await openSite());
});

afterAll(async () => {
  await closeSite(preview, browser);
});

async function open(path: string): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(preview.baseUrl + path);
  return { page, errors, close: () => context.close() };
}

/** The picture the reader sees (the wide variant at 1280 px). */
const picture = (figure: Locator) => figure.locator('.dma-figure-variant[data-layout="wide"] svg');
const description = (figure: Locator) => figure.locator(".dma-explorable-description");
const position = (figure: Locator) => figure.locator(".dma-explorable-position");

/** "Event 9 of 13: bounce" → { at: 9, of: 13, kind: "bounce" }. */
async function where(figure: Locator): Promise<{ at: number; of: number; kind: string }> {
  const m = /Event (\d+) of (\d+): (\S+)/.exec(await position(figure).innerText());
  if (!m) throw new Error(`no position in ${await position(figure).innerText()}`);
  return { at: Number(m[1]), of: Number(m[2]), kind: m[3]! };
}

/** Steps to event 1 with the keyboard on the slider, then forward one event at a time, calling `visit` at each. */
async function walk(page: Page, figure: Locator, visit: (at: { at: number; kind: string }) => Promise<void>): Promise<void> {
  const slider = figure.getByRole("slider", { name: "Event" });
  await slider.focus();
  await page.keyboard.press("Home");
  await expect.poll(async () => (await where(figure)).at).toBe(1);
  const { of } = await where(figure);
  for (let i = 1; i <= of; i++) {
    if (i > 1) {
      await page.keyboard.press("ArrowRight");
      await expect.poll(async () => (await where(figure)).at).toBe(i);
    }
    await visit(await where(figure));
  }
}

describe("explorable figures", () => {
  for (const { path, scenario } of FIGURES) {
    test(`${scenario} on ${path}: the static picture is there without JS, and its first control redraws it`, async () => {
      const { page, errors, close } = await open(path);
      try {
        const figure = page.locator(`[data-explorable="${scenario}"]`);
        expect(await picture(figure).count()).toBe(1);
        const before = await picture(figure).innerHTML();
        const said = await description(figure).innerText();
        expect(said).toMatch(/Event \d+ of \d+/);
        const select = figure.locator("select").first();
        const option = select.locator("option").nth(1);
        const second = await option.getAttribute("value");
        const secondLabel = (await option.innerText()).trim();
        await select.selectOption(second!);
        await page.locator(`[data-explorable="${scenario}"][data-explorable-ready]`).waitFor({ state: "attached" });
        await expect.poll(() => picture(figure).innerHTML()).not.toBe(before);
        await expect.poll(() => description(figure).innerText()).toContain(secondLabel);
        expect(await description(figure).getAttribute("aria-live")).toBe("polite");
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    });
  }

  test("without JavaScript every figure still shows its picture and says what it shows", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 800 } });
    try {
      const page = await context.newPage();
      for (const { path, scenario } of FIGURES) {
        await page.goto(preview.baseUrl + path);
        const figure = page.locator(`[data-explorable="${scenario}"]`);
        // At 390 px the narrow layout is the one shown.
        expect(await figure.locator('.dma-figure-variant[data-layout="narrow"] svg').isVisible()).toBe(true);
        expect(await description(figure).innerText()).toMatch(/Event \d+ of \d+ \(/);
      }
    } finally {
      await context.close();
    }
  });

  test("the step buttons work from the keyboard (Tab to them, Enter and Space)", async () => {
    const { page, errors, close } = await open("/spanning-pages/");
    try {
      const figure = page.locator('[data-explorable="straddle-bounce"]');
      const last = await where(figure);
      await figure.getByRole("button", { name: "Previous event" }).focus();
      await page.keyboard.press("Enter");
      await expect.poll(async () => (await where(figure)).at).toBe(last.at - 1);
      await page.keyboard.press("Space");
      await expect.poll(async () => (await where(figure)).at).toBe(last.at - 2);
      await page.keyboard.press("Tab"); // the slider
      await page.keyboard.press("Tab"); // Next
      await page.keyboard.press("Enter");
      await expect.poll(async () => (await where(figure)).at).toBe(last.at - 1);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test("stepping a straddling xen-swiotlb map: the bounce slots are taken at map and given back at unmap", async () => {
    const { page, errors, close } = await open("/spanning-pages/");
    try {
      const figure = page.locator('[data-explorable="straddle-bounce"]');
      expect(await figure.locator('select[name="backend"]').inputValue()).toBe("xen-swiotlb");
      const seen: { kind: string; slots: number; drawn: number }[] = [];
      await walk(page, figure, async ({ kind }) => {
        const slots = Number(/(\d+) bounce slots? in use/.exec(await description(figure).innerText())?.[1] ?? 0);
        seen.push({ kind, slots, drawn: await picture(figure).locator(".dm-bounce").count() });
      });
      const bounce = seen.findIndex((s) => s.kind === "bounce");
      const unmap = seen.findIndex((s) => s.kind === "unmap");
      expect(bounce).toBeGreaterThan(0);
      expect(unmap).toBeGreaterThan(bounce);
      expect(seen.slice(0, bounce).every((s) => s.slots === 0 && s.drawn === 0)).toBe(true);
      expect(seen.slice(bounce, unmap).every((s) => s.slots > 0 && s.drawn > 0)).toBe(true);
      expect(seen.slice(unmap).every((s) => s.slots === 0 && s.drawn === 0)).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test("with lazy invalidation the stale IOTLB entry is drawn from the unmap until the flush; strict has none", async () => {
    const { page, errors, close } = await open("/dma-api/");
    try {
      const figure = page.locator('[data-explorable="iotlb-invalidation"]');
      for (const invalidation of ["lazy", "strict"]) {
        await figure.locator('select[name="invalidation"]').selectOption(invalidation);
        await page.locator('[data-explorable="iotlb-invalidation"][data-explorable-ready]').waitFor({ state: "attached" });
        const seen: { kind: string; stale: number }[] = [];
        await walk(page, figure, async ({ kind }) => {
          seen.push({ kind, stale: await picture(figure).locator(".dm-stale-link").count() });
        });
        const unmap = seen.findIndex((s) => s.kind === "iommu-unmap");
        const flush = seen.findIndex((s) => s.kind === "iotlb-flush");
        expect(unmap).toBeGreaterThan(0);
        expect(seen.slice(0, unmap).every((s) => s.stale === 0)).toBe(true);
        if (invalidation === "lazy") {
          expect(flush).toBeGreaterThan(unmap + 1);
          expect(seen.slice(unmap, flush).every((s) => s.stale > 0)).toBe(true);
          expect(seen.slice(unmap, flush).map((s) => s.kind)).toContain("iotlb-stale");
        } else {
          expect(flush).toBe(unmap + 1);
          expect(seen.slice(unmap + 1).map((s) => s.kind)).not.toContain("iotlb-stale");
        }
        expect(seen.slice(flush).every((s) => s.stale === 0)).toBe(true);
      }
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
