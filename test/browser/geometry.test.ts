// Every page at a phone's, a tablet's and a laptop's width (390, 768, 1280 px), in the light and
// the dark theme: the page never scrolls sideways, and in the pictures drawn by the simulator
// (memory maps, cost charts) no two labels overlap, no label is cut off by the picture's edge,
// and every label renders at least 9 px tall (its font size times the picture's scale). In the
// playground embeds, Expressive Code's copy button leaves line 1 of the code uncovered, and the
// keyboard hint (Ctrl+Enter, Ctrl+M) is hidden on a touch screen.
//
// One browser, one tab per theme; each page is loaded once per theme and measured at every width.
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { closeSite, openSite, type Preview } from "../support/site.js";
import type { Browser, Page } from "playwright-core";
import { measure } from "../support/geometry-measure.js";

const WIDTHS = [390, 768, 1280] as const;
const THEMES = ["light", "dark"] as const;
const MIN_LABEL_PX = 9;

const dist = new URL("../../dist/", import.meta.url).pathname;
function htmlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? htmlFiles(join(dir, d.name)) : d.name.endsWith(".html") ? [join(dir, d.name)] : [],
  );
}
const PAGES = htmlFiles(dist).map((f) => `/${relative(dist, f).replace(/index\.html$/, "")}`);

/** What one page showed at one width in one theme. */
interface Measurement {
  where: string;
  theme: string | undefined;
  scrollWidth: number;
  clientWidth: number;
  pictures: number;
  labels: number;
  small: string[];
  overlaps: string[];
  clipped: string[];
  covered: string[];
}

const nextFrame = (page: Page) =>
  page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));

let preview: Preview;
let browser: Browser;
const results: Measurement[] = [];

beforeAll(async () => {
  ({ preview, browser } = await openSite());
  for (const theme of THEMES) {
    const context = await browser.newContext({ viewport: { width: WIDTHS[0], height: 844 } });
    // Starlight reads the reader's choice from localStorage before the first paint.
    await context.addInitScript((t) => localStorage.setItem("starlight-theme", t), theme);
    const page = await context.newPage();
    for (const path of PAGES) {
      await page.setViewportSize({ width: WIDTHS[0], height: 844 });
      await page.goto(preview.baseUrl + path, { waitUntil: "load" });
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: width < 700 ? 844 : 800 });
        await nextFrame(page);
        results.push({ where: `${path} @${width} ${theme}`, ...(await page.evaluate(measure, MIN_LABEL_PX)) });
      }
    }
    await context.close();
  }
}, 300_000);

afterAll(async () => {
  await closeSite(preview, browser);
});

const failures = (pick: (m: Measurement) => string[]) => results.flatMap((m) => pick(m).map((f) => `${m.where}: ${f}`));

describe("geometry at 390, 768 and 1280 px, light and dark", () => {
  test("every page was measured in the theme it asked for, pictures included", () => {
    expect(PAGES.length).toBeGreaterThan(10);
    expect(results).toHaveLength(PAGES.length * WIDTHS.length * THEMES.length);
    expect(results.filter((m) => !m.where.endsWith(m.theme ?? "?")).map((m) => m.where)).toEqual([]);
    // The thread pages carry pictures at every width; a measurement that found none proves nothing.
    for (const width of WIDTHS) {
      const addresses = results.find((m) => m.where.startsWith(`/addresses/ @${width} `))!;
      expect(addresses.pictures, `/addresses/ @${width}`).toBeGreaterThan(0);
      expect(addresses.labels, `/addresses/ @${width}`).toBeGreaterThan(20);
    }
  });

  test("no page scrolls sideways", () => {
    expect(results.filter((m) => m.scrollWidth > m.clientWidth).map((m) => `${m.where}: ${m.scrollWidth} > ${m.clientWidth}`)).toEqual([]);
  });

  test("picture labels render at least 9 px tall", () => {
    expect(failures((m) => m.small)).toEqual([]);
  });

  test("no two labels of a picture overlap", () => {
    expect(failures((m) => m.overlaps)).toEqual([]);
  });

  test("no label is cut off by its picture’s edge", () => {
    expect(failures((m) => m.clipped)).toEqual([]);
  });

  test("the copy button of an embed’s code leaves line 1 uncovered", () => {
    expect(results.filter((m) => m.where.startsWith("/playground-basics/")).length).toBeGreaterThan(0);
    expect(failures((m) => m.covered)).toEqual([]);
  });
});

describe("keyboard hint", () => {
  const hintShown = async (touch: boolean): Promise<boolean> => {
    const context = await browser.newContext(
      touch ? { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true } : { viewport: { width: 1280, height: 800 } },
    );
    try {
      const page = await context.newPage();
      await page.goto(`${preview.baseUrl}/playground-basics/`, { waitUntil: "load" });
      return await page.locator(".dma-playground .pg-hint").first().isVisible();
    } finally {
      await context.close();
    }
  };

  test("shows with a mouse and a keyboard, hides on a touch screen", async () => {
    expect(await hintShown(false)).toBe(true);
    expect(await hintShown(true)).toBe(false);
  });
});

describe("explorable figures in every setting, at 390 and 1280 px", () => {
  test("after each redraw, labels stay at least 9 px, apart and inside their picture", async () => {
    const context = await browser.newContext({ viewport: { width: WIDTHS[0], height: 844 } });
    const found: string[] = [];
    let pictures = 0;
    try {
      const page = await context.newPage();
      for (const path of ["/addresses/", "/dma-api/", "/spanning-pages/", "/foreign-pages/"]) {
        await page.setViewportSize({ width: WIDTHS[0], height: 844 });
        await page.goto(preview.baseUrl + path, { waitUntil: "load" });
        const figures = page.locator("[data-explorable]");
        for (let f = 0; f < (await figures.count()); f++) {
          const figure = figures.nth(f);
          const selects = figure.locator("select");
          for (let s = 0; s < (await selects.count()); s++) {
            const values = await selects
              .nth(s)
              .locator("option")
              .evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
            for (const value of values) {
              await selects.nth(s).selectOption(value);
              await page.locator("[data-explorable][data-explorable-ready]").first().waitFor({ state: "attached" });
              for (const width of [WIDTHS[0], WIDTHS[2]]) {
                await page.setViewportSize({ width, height: 844 });
                await nextFrame(page);
                const m = await page.evaluate(measure, MIN_LABEL_PX);
                pictures += m.pictures;
                found.push(...[...m.small, ...m.overlaps, ...m.clipped].map((x) => `${path} ${value} @${width}: ${x}`));
              }
            }
          }
        }
      }
    } finally {
      await context.close();
    }
    expect(pictures).toBeGreaterThan(20);
    expect(found).toEqual([]);
  }, 120_000);
});
