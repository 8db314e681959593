// @ts-check
// How much JavaScript a reader downloads (run after `npm run build`). Loads pages of the built
// site in Chromium and sums every JS response, page and workers alike, raw and gzipped.
import { gzipSync } from "node:zlib";
import { startPreview } from "../test/support/preview.js";
import { launchChromium } from "../test/support/chromium.js";

/**
 * @typedef {import('playwright-core').Page} Page
 * @typedef {{ name: string, path: string, act?: (page: Page) => Promise<void> }} Case
 */

/** @type {Case[]} */
const cases = [
  { name: "docs page without a playground", path: "/" },
  { name: "playground page, before activation", path: "/playground-basics/" },
  ...["addresses", "dma-api", "spanning-pages", "foreign-pages"].map((page) => ({
    name: `${page}, before interaction`,
    path: `/${page}/`,
  })),
  {
    name: "spanning-pages, explorable stepped",
    path: "/spanning-pages/",
    act: async (/** @type {Page} */ page) => {
      const figure = page.locator("[data-explorable]").first();
      if ((await figure.count()) === 0) return; // before the explorable figures existed
      await figure.getByRole("button", { name: "Previous event" }).click();
      await page.locator("[data-explorable][data-explorable-ready]").first().waitFor({ state: "attached" });
    },
  },
  {
    name: "playground page, Run without Edit",
    path: "/playground-basics/",
    act: async (page) => {
      await page.getByRole("button", { name: "Run" }).click();
      await page.locator(".pg-output").getByText("hello from dom0").waitFor();
    },
  },
  {
    name: "playground page, after activation",
    path: "/playground-basics/",
    act: async (page) => {
      const tsWorker = page.waitForEvent("worker", { predicate: (w) => /ts\.worker/.test(w.url()), timeout: 60_000 });
      await page.getByRole("button", { name: "Edit" }).click();
      await page.locator(".monaco-editor .view-lines").waitFor({ timeout: 60_000 });
      await tsWorker;
    },
  },
];

/** @param {Page} page */
function collectJs(page) {
  /** @type {Promise<Buffer | undefined>[]} */
  const bodies = [];
  page.on("response", (res) => {
    const type = res.headers()["content-type"] ?? "";
    if (/javascript/.test(type) || /\.m?js(\?|$)/.test(res.url())) bodies.push(res.body().catch(() => undefined));
  });
  return async () => (await Promise.all(bodies)).filter((b) => b !== undefined);
}

const kb = (/** @type {number} */ n) => `${(n / 1024).toFixed(1)} KB`.padStart(11);

const preview = await startPreview();
const browser = await launchChromium();
try {
  console.log(`${"case".padEnd(38)} ${"files".padStart(5)} ${"raw".padStart(11)} ${"gzip".padStart(11)}`);
  for (const c of cases) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const js = collectJs(page);
    await page.goto(preview.baseUrl + c.path, { waitUntil: "networkidle" });
    if (c.act) await c.act(page);
    await page.waitForLoadState("networkidle");
    await page.waitForTimeout(1000); // late worker imports
    const files = await js();
    const raw = files.reduce((s, b) => s + b.length, 0);
    const gz = files.reduce((s, b) => s + gzipSync(b).length, 0);
    console.log(`${c.name.padEnd(38)} ${String(files.length).padStart(5)} ${kb(raw)} ${kb(gz)}`);
    await context.close();
  }
} finally {
  await browser.close();
  await preview.stop();
}
