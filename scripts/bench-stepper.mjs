// @ts-check
// How fast the stepper steps, on the built site (run after `npm run build`): Chromium against
// `astro preview` of dist/. For the /playground/ starter and the Costs page's packet strategies
// (nine machines of up to ~4,800 events each), Run, open a tab, then press Next step by step and
// time, inside the page, from the click until the tab shows that step (the picture redrawn, or
// the trace row marked). Prints the median, 90th percentile and worst per case.
//
// BENCH_STEPS sets how many steps are timed per case (default 40).
import { startPreview } from "../test/support/preview.js";
import { launchChromium } from "../test/support/chromium.js";

const STEPS = Number(process.env.BENCH_STEPS ?? 40);

/** @typedef {import('playwright-core').Page} Page */

/**
 * Clicks Run in embed `n` and waits until its results are shown.
 * @param {Page} page @param {number} n
 */
async function runEmbed(page, n) {
  await page.evaluate(
    (i) =>
      new Promise((resolve) => {
        const root = /** @type {HTMLElement} */ (document.querySelectorAll(".dma-playground")[i]);
        const before = Number(root.dataset.results ?? 0);
        new MutationObserver((_, observer) => {
          if (Number(root.dataset.results ?? 0) > before) {
            observer.disconnect();
            resolve(undefined);
          }
        }).observe(root, { attributes: true, attributeFilter: ["data-results"] });
        /** @type {HTMLButtonElement} */ (root.querySelector('[data-action="run"]')).click();
      }),
    n,
  );
}

/**
 * Presses a stepper button and resolves with the ms until `panel`'s `attribute` changes.
 * @param {Page} page @param {number} n @param {string} button @param {string} panel @param {string} attribute
 */
function timeStep(page, n, button, panel, attribute) {
  return page.evaluate(
    ([i, name, panelName, attr]) =>
      new Promise((resolve) => {
        const root = /** @type {HTMLElement} */ (document.querySelectorAll(".dma-playground")[Number(i)]);
        const target = /** @type {HTMLElement} */ (root.querySelector(`[data-panel="${panelName}"]`));
        const before = target.getAttribute(String(attr));
        const t0 = performance.now();
        new MutationObserver((_, observer) => {
          if (target.getAttribute(String(attr)) !== before) {
            observer.disconnect();
            resolve(performance.now() - t0);
          }
        }).observe(target, { attributes: true, subtree: true });
        /** @type {HTMLButtonElement} */ (root.querySelector(`.pg-stepper [data-step="${name}"]`)).click();
      }),
    [n, button, panel, attribute],
  );
}

/** @param {number[]} xs */
function summary(xs) {
  const s = [...xs].sort((a, b) => a - b);
  /** @param {number} q */
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return `median ${at(0.5).toFixed(1)} ms, p90 ${at(0.9).toFixed(1)} ms, worst ${s[s.length - 1].toFixed(1)} ms (${s.length} steps)`;
}

/** @param {Page} page @param {number} n @param {string} name */
async function measure(page, n, name) {
  await runEmbed(page, n);
  const root = page.locator(".dma-playground").nth(n);
  for (const [tab, attribute] of [
    ["picture", "data-drawn-seq"],
    ["trace", "data-step"],
  ]) {
    await root.locator(`[role="tab"][data-tab="${tab}"]`).click();
    const first = await timeStep(page, n, "first", tab, attribute);
    const times = [];
    for (let i = 0; i < STEPS; i++) {
      if ((await root.locator('.pg-stepper [data-step="next"]').getAttribute("aria-disabled")) === "true") break;
      times.push(await timeStep(page, n, "next", tab, attribute));
    }
    const back = [];
    for (let i = 0; i < Math.min(10, times.length); i++) back.push(await timeStep(page, n, "previous", tab, attribute));
    console.log(`${name}, ${tab}: first step ${first.toFixed(1)} ms; next: ${summary(times)}; previous (seen before): ${summary(back)}`);
  }
}

const preview = await startPreview();
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(`${preview.baseUrl}/playground/`, { waitUntil: "load" });
  await measure(page, 0, "/playground/ starter");
  await page.goto(`${preview.baseUrl}/costs/`, { waitUntil: "load" });
  const n = await page
    .locator(".dma-playground")
    .evaluateAll((els) => els.findIndex((el) => /compareStrategies/.test(/** @type {HTMLElement} */ (el).dataset.code ?? "")));
  await measure(page, n, "/costs/ packet strategies (machine 1)");
} finally {
  await browser.close();
  await preview.stop();
}
