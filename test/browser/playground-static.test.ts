// The playground page before anyone presses Edit: it renders cleanly, ships no Monaco,
// and Run already works (type-stripped in the runner worker, no editor needed). Also without the
// editor: an exercise's prediction and check, the full-page playground, and Compare.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { closeSite, openSite, type Preview } from "../support/site.js";
import type { Browser } from "playwright-core";
import {
  MONACO_URL,
  PLAYGROUND_PATH,
  counter,
  embed,
  embedIndex,
  openPage,
  run,
  waitForCounter,
  workersBesidesRunner,
} from "../support/playground-page.js";

let preview: Preview;
let browser: Browser;

beforeAll(async () => {
  ({ preview, browser } = await openSite());
});

afterAll(async () => {
  await closeSite(preview, browser);
});

describe("playground page before activation", () => {
  test("renders with the static code, no console errors and no Monaco requested", async () => {
    const p = await openPage(browser, preview.baseUrl + PLAYGROUND_PATH);
    try {
      await expect.poll(() => p.page.locator("h1").innerText()).toBe("Your first DMA mapping");
      const box = embed(p.page);
      await expect.poll(() => box.locator(".pg-static").innerText()).toContain('dom0.dmaApi(disk, "p2m")');
      expect(await box.getByRole("button", { name: "Edit" }).isVisible()).toBe(true);
      expect(await box.getByRole("button", { name: "Run" }).isVisible()).toBe(true);
      await p.page.waitForLoadState("networkidle");
      expect(p.requests.filter((u) => MONACO_URL.test(u))).toEqual([]);
      expect(await p.page.locator(".monaco-editor").count()).toBe(0);
      // Nothing runs on load: no output. The only worker is the runner prepared for the first Run
      // (loaded and warmed up, so that Run is fast); it runs nothing until Run is pressed.
      expect(workersBesidesRunner(p)).toEqual([]);
      expect(await box.locator(".pg-output > *").count()).toBe(0);
      expect(p.pageErrors).toEqual([]);
      expect(p.consoleMessages.filter((m) => m.type === "error")).toEqual([]);
    } finally {
      await p.close();
    }
  });

  test("Run works without loading the editor", async () => {
    const p = await openPage(browser, preview.baseUrl + PLAYGROUND_PATH);
    try {
      const text = await run(p.page);
      expect(text).toMatch(/^bus address 0x[0-9a-f]+$/m);
      expect(text).toContain("hello from dom0");
      expect(text).not.toMatch(/Error|Stopped/);
      await p.page.waitForLoadState("networkidle");
      expect(p.requests.filter((u) => MONACO_URL.test(u))).toEqual([]);
      expect(await p.page.locator(".monaco-editor").count()).toBe(0);
      // The run happened in a worker, not on the page.
      expect(p.workers.length).toBeGreaterThan(0);
      expect(p.pageErrors).toEqual([]);
      expect(p.consoleMessages.filter((m) => m.type === "error")).toEqual([]);
    } finally {
      await p.close();
    }
  });

  test("Ctrl+Enter runs, and the output of the previous run stays until the next", async () => {
    const p = await openPage(browser, preview.baseUrl + PLAYGROUND_PATH);
    try {
      await embed(p.page).getByRole("button", { name: "Run" }).focus();
      await p.page.keyboard.press("Control+Enter");
      await expect.poll(() => embed(p.page).locator(".pg-output").innerText()).toContain("hello from dom0");
      await p.page.waitForTimeout(500);
      expect(await embed(p.page).locator(".pg-output").innerText()).toContain("hello from dom0");
    } finally {
      await p.close();
    }
  });

  test("a page without a playground renders cleanly and starts no worker", async () => {
    const p = await openPage(browser, `${preview.baseUrl}/`);
    try {
      await expect.poll(() => p.page.locator("h1").innerText()).toBe("DMA Lab");
      await p.page.waitForLoadState("networkidle");
      expect(await p.page.locator('a[href*="lists.xensource.com/archives/html/xen-devel/2006-01"]').count()).toBe(1);
      expect(p.requests.filter((u) => MONACO_URL.test(u) || /runner|playground|ui\./.test(u))).toEqual([]);
      expect(p.workers).toEqual([]);
      expect(p.pageErrors).toEqual([]);
      expect(p.consoleMessages.filter((m) => m.type === "error")).toEqual([]);
    } finally {
      await p.close();
    }
  });
});

const EXERCISES_PATH = "/exercises/";
/** The lazily loaded chunks: exercise checks, the exercise UI, the comparison. */
const CHECKS_URL = /\/checks\.[\w-]+\.js$/;
const EXERCISE_URL = /\/exercise\.[\w-]+\.js$/;
const COMPARE_URL = /\/compare-view\.[\w-]+\.js$/;

describe("exercises, the full-page playground and Compare", () => {
  test("an exercise page: checks load only when due; a check fails on the broken code, in a status area", async () => {
    const p = await openPage(browser, preview.baseUrl + EXERCISES_PATH);
    try {
      const n = await embedIndex(p.page, '[data-check="stray-dma"]');
      const check = embed(p.page, n).locator(".pg-check");
      expect(await check.getAttribute("data-verdict")).toBe("pending");
      expect(await check.getAttribute("role")).toBe("status");
      await p.page.waitForLoadState("networkidle");
      expect(p.requests.filter((u) => CHECKS_URL.test(u))).toEqual([]);
      await run(p.page, n);
      await waitForCounter(p.page, "checked", 1, n);
      expect(await check.getAttribute("data-verdict")).toBe("fail");
      expect(await check.innerText()).toMatch(/Not yet: \S/);
      expect(p.requests.filter((u) => CHECKS_URL.test(u))).toHaveLength(1);
      expect(p.pageErrors).toEqual([]);
      expect(p.consoleMessages.filter((m) => m.type === "error")).toEqual([]);
    } finally {
      await p.close();
    }
  });

  test("predict, then run: Run reveals the answer beside the reader’s guess; Skip reveals it too", async () => {
    const p = await openPage(browser, preview.baseUrl + EXERCISES_PATH);
    try {
      const n = await embedIndex(p.page, ':has(.pg-predict input[type="radio"])');
      const predict = embed(p.page, n).locator(".pg-predict");
      const answer = (await predict.getAttribute("data-answer"))!;
      const radios = predict.getByRole("radio");
      const choices = await radios.evaluateAll((els) => els.map((el) => (el as HTMLInputElement).value));
      const wrong = choices.find((c) => c !== answer)!;
      expect(choices).toContain(answer);
      expect(await predict.locator(".pg-predict-result").innerText()).toMatch(/press Run to see the answer/);
      await predict.getByRole("radio", { name: wrong, exact: true }).check();
      await run(p.page, n);
      await expect.poll(() => predict.getAttribute("data-state")).toBe("wrong");
      expect(await predict.locator(".pg-predict-result").innerText()).toBe(
        `Answer: ${answer}. You said ${wrong}: not this time; the trace shows why.`,
      );
      expect(await radios.first().isDisabled()).toBe(true);

      // A fresh page: Skip, then Run still reveals the answer (with no guess to judge).
      await p.page.reload({ waitUntil: "load" });
      await embed(p.page, n).getByRole("button", { name: "Skip" }).click();
      await expect.poll(() => predict.locator(".pg-predict-result").innerText()).toMatch(/^Skipped/);
      await run(p.page, n);
      await expect.poll(() => predict.locator(".pg-predict-result").innerText()).toBe(`Answer: ${answer}.`);
      expect(await predict.getAttribute("data-state")).toBe("none");
    } finally {
      await p.close();
    }
  });

  test("/playground: a wide embed, code above results on a laptop and beside them on a wider screen, that runs the starter", async () => {
    const p = await openPage(browser, `${preview.baseUrl}/playground/`);
    try {
      await expect.poll(() => p.page.locator("h1").innerText()).toBe("Playground");
      const box = embed(p.page);
      expect(await box.getAttribute("data-wide")).toBe("");
      // Wider than a docs page's 45rem column; at 1280 px the code takes the embed's width, with
      // the results below it; from 1700 px there is room for both side by side, the code wider.
      await p.page.setViewportSize({ width: 1280, height: 720 });
      const whole = (await box.boundingBox())!;
      let code = (await box.locator(".pg-code").boundingBox())!;
      let results = (await box.locator(".pg-results").boundingBox())!;
      expect(whole.width).toBeGreaterThan(800);
      expect(code.width).toBeGreaterThanOrEqual(whole.width - 2);
      expect(results.y).toBeGreaterThanOrEqual(code.y + code.height - 1);
      await p.page.setViewportSize({ width: 1700, height: 900 });
      code = (await box.locator(".pg-code").boundingBox())!;
      results = (await box.locator(".pg-results").boundingBox())!;
      expect(results.x).toBeGreaterThanOrEqual(code.x + code.width - 1);
      expect(code.width).toBeGreaterThan(results.width);
      await p.page.setViewportSize({ width: 1280, height: 720 });
      const text = await run(p.page);
      expect(text).toContain('domU1 reads "sector 42"');
      expect(text).toMatch(/^2 hypercalls, 1 IOMMU fault, 0 stray DMA, \d+ cycles$/m);
      await p.page.waitForLoadState("networkidle");
      expect(p.requests.filter((u) => MONACO_URL.test(u) || CHECKS_URL.test(u) || EXERCISE_URL.test(u) || COMPARE_URL.test(u))).toEqual([]);
    } finally {
      await p.close();
    }
  });

  // The thread's VP-without-IOMMU position vs Xen programming an IOMMU, on the /playground starter:
  // the overrun one page past the mapping is a stray DMA into domU1 without the IOMMU, a DMAR
  // fault with it; translation costs one hypercall vs one per map and one per unmap.
  test("Compare runs the code under both variants and marks the differences", async () => {
    const p = await openPage(browser, `${preview.baseUrl}/playground/`);
    try {
      const box = embed(p.page);
      const toggle = box.getByRole("button", { name: "Compare" });
      expect(await toggle.getAttribute("aria-expanded")).toBe("false");
      await toggle.click();
      expect(await toggle.getAttribute("aria-expanded")).toBe("true");
      const panel = box.locator(".pg-compare");
      const preset = panel.getByRole("combobox", { name: "What to compare" });
      await preset.selectOption("hypercall-iommu");
      expect(await panel.getByLabel("Variant A (JSON overrides)").inputValue()).toBe('{"backend":"hypercall","device":{"iommu":false}}');
      await panel.getByRole("button", { name: "Run both" }).click();
      await waitForCounter(p.page, "compared", 1);

      const cells = (kind: string) => panel.locator(`.pg-compare-stats tr[data-kind="${kind}"] td`).allInnerTexts();
      const differs = (kind: string) => panel.locator(`.pg-compare-stats tr[data-kind="${kind}"]`).getAttribute("data-differs");
      expect((await cells("hypercall")).slice(0, 3)).toEqual(["1", "2", "+1"]);
      expect((await cells("stray-dma")).slice(0, 3)).toEqual(["1", "0", "−1"]);
      expect((await cells("iommu-fault")).slice(0, 3)).toEqual(["0", "1", "+1"]);
      expect(await differs("hypercall")).toBe("");
      expect(await differs("alloc")).toBeNull();
      // Not colour alone: a ≠ mark, and words for screen readers.
      expect(await panel.locator('.pg-compare-stats tr[data-kind="stray-dma"] th').textContent()).toBe("≠stray-dma (differs)");
      const side = (s: string) => panel.locator(`.pg-compare-side[data-side="${s}"]`);
      expect(await side("a").locator("h4").innerText()).toBe("A: hypercall, no IOMMU");
      expect(await side("a").locator(".pg-compare-applied").innerText()).toBe("Overrides applied to 1 device, 1 DMA-API.");
      expect(await side("a").locator(".pg-line[data-differs]").last().innerText()).toMatch(/1 hypercall, 0 IOMMU faults, 1 stray DMA/);
      expect(await side("b").locator(".pg-line[data-differs]").last().innerText()).toMatch(/2 hypercalls, 1 IOMMU fault, 0 stray DMA/);
      expect(await side("b").locator(".pg-line:not([data-differs])").allInnerTexts()).toContain('domU1 reads "sector 42"');
      expect(await panel.getByRole("status").innerText()).toMatch(
        /^Compared: \d+ of \d+ event kinds differ; cost [\d,]+ → [\d,]+ cycles \(\+[\d,]+\); error events 1 → 1/,
      );

      // Each side's picture, drawn on request.
      await panel.locator(".pg-compare-pictures summary").click();
      await expect.poll(() => panel.locator('.pg-compare-picture svg[role="img"]').count(), { timeout: 15_000 }).toBe(2);

      // Edited JSON is a custom comparison; a mistake is named and nothing runs.
      const b = panel.getByLabel("Variant B (JSON overrides)");
      await b.fill('{"backend": "dma"}');
      expect(await preset.inputValue()).toBe("custom");
      await panel.getByRole("button", { name: "Run both" }).click();
      await expect.poll(() => panel.getByRole("status").innerText()).toMatch(/^Variant B: "backend" must be one of/);
      expect(await b.getAttribute("aria-invalid")).toBe("true");
      expect(await counter(p.page, "compared")).toBe(1);
      expect(p.pageErrors).toEqual([]);
      expect(p.consoleMessages.filter((m) => m.type === "error")).toEqual([]);
    } finally {
      await p.close();
    }
  });
});
