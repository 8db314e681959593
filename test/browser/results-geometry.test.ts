// The playground's results after Run, at a phone's, a tablet's and a laptop's width (390, 768,
// 1280 px), in the light and the dark theme: every view (Console, Trace, Stats, Picture, and
// Compare with its pictures) fits the page without sideways scrolling, its text never overlaps,
// no table hides a column or its total inside a scroll box, the memory map's labels render at
// least 9 px tall without overlapping. The full-page playground gives the code at least half of a
// laptop's width and lines its title up with the text; a share link scrolls to the embed it
// restores and shows its code highlighted.
//
// One browser; per theme one page, one Run and one comparison, measured at every width.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { closeSite, openSite, type Preview } from "../support/site.js";
import type { Browser, Page } from "playwright-core";
import { measure, measureResults } from "../support/geometry-measure.js";
import { embed, openTab, run, waitForCounter, waitForResults } from "../support/playground-page.js";
import { encodeShare } from "../../src/playground/page/share-code.js";

const WIDTHS = [1280, 768, 390] as const;
const THEMES = ["light", "dark"] as const;
const TABS = ["Console", "Trace", "Stats", "Picture"] as const;
const MIN_LABEL_PX = 9;
/** Boxes meant to scroll down: a long trace, a long console in Compare. */
const MAY_SCROLL_DOWN = ".pg-table-scroll:has(.pg-trace), .pg-compare-console";

interface Sample {
  where: string;
  page: ReturnType<typeof measure>;
  results: ReturnType<typeof measureResults>;
}

interface WideLayout {
  theme: string;
  viewport: number;
  embed: number;
  code: number;
  titleLeft: number;
  textLeft: number;
}

let preview: Preview;
let browser: Browser;
const samples: Sample[] = [];
const wide: WideLayout[] = [];

const nextFrame = (page: Page) =>
  page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));

/** Waits until every shown memory map is drawn in the layout its width calls for (560 px: wide). */
async function picturesSettled(page: Page): Promise<void> {
  await page.waitForFunction(() =>
    [...document.querySelectorAll<HTMLElement>(".dma-playground .pg-picture")]
      .filter((el) => el.checkVisibility())
      .every((el) => el.querySelector("svg") && (!el.dataset.layout || el.dataset.layout === (el.clientWidth >= 560 ? "wide" : "narrow"))),
  );
  await nextFrame(page);
}

async function sample(page: Page, where: string, selector: string): Promise<void> {
  await nextFrame(page);
  samples.push({
    where,
    page: await page.evaluate(measure, MIN_LABEL_PX),
    results: await page.evaluate(measureResults, { selector, mayScrollDown: MAY_SCROLL_DOWN }),
  });
}

async function measureTheme(theme: (typeof THEMES)[number]): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript((t) => localStorage.setItem("starlight-theme", t), theme);
  const page = await context.newPage();
  try {
    await page.goto(`${preview.baseUrl}/playground/`, { waitUntil: "load" });
    wide.push({
      theme,
      ...(await page.evaluate(() => ({
        viewport: document.documentElement.clientWidth,
        embed: document.querySelector(".dma-playground")!.getBoundingClientRect().width,
        code: document.querySelector(".dma-playground .pg-code")!.getBoundingClientRect().width,
        titleLeft: document.querySelector("h1")!.getBoundingClientRect().left,
        textLeft: document.querySelector(".sl-markdown-content p")!.getBoundingClientRect().left,
      }))),
    });
    await run(page);
    await waitForResults(page, 1);
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: width < 700 ? 844 : 800 });
      for (const tab of TABS) {
        await openTab(page, tab);
        if (tab === "Picture") await picturesSettled(page);
        await sample(page, `${tab} @${width} ${theme}`, ".dma-playground .pg-results");
      }
    }
    // Back to Console: the only pictures then on screen are Compare's.
    await openTab(page, "Console");
    await embed(page).getByRole("button", { name: "Compare", exact: true }).click();
    await embed(page).getByRole("button", { name: "Run both" }).click();
    await waitForCounter(page, "compared", 1);
    await embed(page).locator(".pg-compare-pictures summary").click();
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: width < 700 ? 844 : 800 });
      await picturesSettled(page);
      await sample(page, `Compare @${width} ${theme}`, ".dma-playground .pg-compare");
    }
  } finally {
    await context.close();
  }
}

beforeAll(async () => {
  ({ preview, browser } = await openSite());
  for (const theme of THEMES) await measureTheme(theme);
}, 240_000);

afterAll(async () => {
  await closeSite(preview, browser);
});

const failures = (pick: (s: Sample) => string[]) => samples.flatMap((s) => pick(s).map((f) => `${s.where}: ${f}`));

describe("results views at 390, 768 and 1280 px, light and dark", () => {
  test("every view was measured, with text and, on Picture, a memory map", () => {
    expect(samples).toHaveLength(THEMES.length * WIDTHS.length * (TABS.length + 1));
    expect(samples.filter((s) => s.results.views === 0 || s.results.texts < 3).map((s) => s.where)).toEqual([]);
    expect(samples.filter((s) => s.where.startsWith("Picture") && s.page.pictures !== 1).map((s) => s.where)).toEqual([]);
    expect(samples.filter((s) => s.where.startsWith("Compare") && s.page.pictures !== 2).map((s) => s.where)).toEqual([]);
    expect(samples.filter((s) => !s.where.endsWith(s.page.theme ?? "?")).map((s) => s.where)).toEqual([]);
  });

  test("no page scrolls sideways", () => {
    expect(
      samples
        .filter((s) => s.page.scrollWidth > s.page.clientWidth)
        .map((s) => `${s.where}: ${s.page.scrollWidth} > ${s.page.clientWidth}`),
    ).toEqual([]);
  });

  test("no box inside a view scrolls sideways (no column is cut off)", () => {
    expect(failures((s) => s.results.sideways)).toEqual([]);
  });

  test("no two text boxes of a view overlap", () => {
    expect(failures((s) => s.results.overlaps)).toEqual([]);
  });

  test("the stats and Compare tables show every row, Total included, without scrolling inside a box", () => {
    expect(failures((s) => s.results.scrollsDown)).toEqual([]);
  });

  test("a table header’s background spans every column", () => {
    expect(failures((s) => s.results.headerShort)).toEqual([]);
  });

  test("the trace’s messages take at least half its width", () => {
    expect(failures((s) => s.results.narrowMessage)).toEqual([]);
  });

  test("the picture’s step slider spans its row", () => {
    expect(samples.filter((s) => s.where.startsWith("Picture")).length).toBeGreaterThan(0);
    expect(failures((s) => s.results.smallSlider)).toEqual([]);
  });

  test("memory-map labels render at least 9 px tall, inside the picture, never overlapping", () => {
    expect(failures((s) => [...s.page.small, ...s.page.clipped, ...s.page.overlaps])).toEqual([]);
  });
});

describe("the measure itself", () => {
  test("finds text on top of text, a box scrolling sideways or down, a short header background and a squeezed message", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    try {
      const page = await context.newPage();
      await page.setContent(`<div class="view">
        <p style="margin: 0">first words</p><p style="margin: -1em 0 0">second words</p>
        <div class="box" style="overflow: auto; width: 100px; max-height: 2em"><p style="width: 300px">wide text</p><p>a row below</p></div>
        <table class="pg-trace" style="width: 360px"><thead><tr><th style="background: #333">#</th><th>Kind</th><th>Message</th></tr></thead>
          <tbody><tr><td>1</td><td style="width: 300px">map</td><td>a message</td></tr></tbody></table>
        <div style="width: 360px"><input type="range"></div></div>`);
      const found = await page.evaluate(measureResults, { selector: ".view", mayScrollDown: ".none" });
      expect(found.overlaps).toEqual(['"first words" × "second words"']);
      expect(found.sideways).toHaveLength(1);
      expect(found.scrollsDown).toHaveLength(1);
      expect(found.headerShort).toHaveLength(1);
      expect(found.narrowMessage).toHaveLength(1);
      expect(found.smallSlider).toHaveLength(1);
    } finally {
      await context.close();
    }
  });
});

describe("the full-page playground at 1280 px", () => {
  test("the code takes at least half the width", () => {
    expect(wide).toHaveLength(THEMES.length);
    expect(wide.filter((w) => w.code < w.viewport / 2).map((w) => `${w.theme}: code ${Math.round(w.code)} px of ${w.viewport} px`)).toEqual(
      [],
    );
  });

  test("the title lines up with the text", () => {
    expect(
      wide
        .filter((w) => Math.abs(w.titleLeft - w.textLeft) > 1)
        .map((w) => `${w.theme}: H1 at ${w.titleLeft} px, text at ${w.textLeft} px`),
    ).toEqual([]);
  });
});

describe("share link", () => {
  const PAGE = "exercises/";
  const dist = process.env.DIST_DIR ? process.env.DIST_DIR.replace(/\/?$/, "/") : new URL("../../dist/", import.meta.url).pathname;
  const embeds = readFileSync(`${dist}${PAGE}index.html`, "utf8").split('class="dma-playground').length - 1;

  test("opening a link to the page’s last embed scrolls to it and shows its code highlighted", async () => {
    expect(embeds).toBeGreaterThan(3);
    const code =
      'import { createMachine } from "dma-lab";\n// restored from a link\nconst machine = createMachine({ memory: "64 MiB" });\nconsole.log(machine.stats().events, "events");\n';
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    try {
      const page = await context.newPage();
      await page.goto(`${preview.baseUrl}/${PAGE}#pg-${embeds}=${encodeShare(code)}`, { waitUntil: "load" });
      const last = embed(page, embeds - 1);
      await last.locator(".pg-plain").waitFor({ state: "visible" });
      // Scrolling follows the restore by a frame; give it a moment, then measure wherever it is.
      await page
        .waitForFunction((n) => Math.abs(document.querySelectorAll(".dma-playground")[n]!.getBoundingClientRect().top) < 200, embeds - 1, {
          timeout: 3000,
        })
        .catch(() => undefined);
      const where = await last.evaluate((el) => ({ top: el.getBoundingClientRect().top, scrollY, height: innerHeight }));
      expect(where.scrollY, "the page scrolled down to the embed").toBeGreaterThan(1000);
      expect(where.top, "the embed starts near the top of the window").toBeGreaterThanOrEqual(0);
      expect(where.top).toBeLessThan(where.height / 4);
      await last.locator(".pg-plain[data-highlighted]").waitFor({ timeout: 3000 });
      const colours = await last.locator(".pg-plain").evaluate((pre) => ({
        text: getComputedStyle(pre).color,
        keyword: getComputedStyle(pre.querySelector(".pg-tok-keyword")!).color,
        string: getComputedStyle(pre.querySelector(".pg-tok-string")!).color,
        comment: getComputedStyle(pre.querySelector(".pg-tok-comment")!).color,
      }));
      expect(new Set(Object.values(colours)).size, JSON.stringify(colours)).toBe(4);
      expect(await last.locator(".pg-plain code").textContent()).toBe(code.replace(/\n$/, "").split("\n").join(""));
    } finally {
      await context.close();
    }
  });
});
