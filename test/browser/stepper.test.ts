// The stepper in Chromium, without the editor (code loaded the way a shared link loads it): a
// straddling xen-swiotlb map takes its bounce slots at the map and gives them back at the unmap;
// under lazy invalidation the stale IOTLB entry stays in the picture until the flush; the stepper
// works from the keyboard, highlights the trace row and marks the code line; Compare steps both
// sides together.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { closeSite, openSite, type Preview } from "../support/site.js";
import type { Browser, Locator } from "playwright-core";
import {
  PLAYGROUND_PATH,
  activate,
  embed,
  loadCode,
  openPage,
  openTab,
  run,
  waitForCounter,
  counter,
  waitForResults,
  type PlaygroundPage,
} from "../support/playground-page.js";
import { encodeShare } from "../../src/playground/page/share-code.js";
import { STRADDLE_CODE } from "../support/straddle-code.js";

let preview: Preview;
let browser: Browser;
let p: PlaygroundPage;

const STRADDLE = `${STRADDLE_CODE}console.log("straddle done");
`;

const LAZY = `import { createMachine } from "dma-lab";
const m = createMachine({ arch: "x86_64", memory: "64 MiB" });
const dom0 = m.createDomain({ name: "dom0", mode: "VP", memory: "16 MiB" });
const nic = m.attachDevice({ name: "eth0", domain: dom0, iommu: { invalidation: "lazy" } });
const dma = dom0.dmaApi(nic, "iommu");
const buf = dom0.alloc("4 KiB");
const bus = dma.mapSingle(buf, 4096, "FROM_DEVICE");
nic.write(bus, new Uint8Array(64).fill(1));
dma.unmapSingle(bus, 4096, "FROM_DEVICE");
nic.write(bus, new Uint8Array(64).fill(2));
m.advanceTime(10_000);
nic.write(bus, new Uint8Array(64).fill(3));
`;

beforeAll(async () => {
  ({ preview, browser } = await openSite());
  p = await openPage(browser, preview.baseUrl + PLAYGROUND_PATH);
});

afterAll(async () => {
  await p?.close();
  await closeSite(preview, browser);
});

const box = () => embed(p.page);
const stepper = () => box().locator(".pg-stepper").first();
const picture = () => box().locator('[data-panel="picture"]');
const svgLabel = () => picture().locator("svg.dm-memory-map").getAttribute("aria-label");

async function loadAndRun(code: string): Promise<void> {
  await loadCode(p.page, code, encodeShare);
  const results = await counter(p.page, "results");
  await run(p.page);
  await waitForResults(p.page, results + 1);
}

/** Clicks the trace row of the first event of `kind` (after `after`), waits for the picture at it; returns its seq. */
async function stepToKind(kind: string, after = 0): Promise<number> {
  await openTab(p.page, "Trace");
  const rows = box().locator(`.pg-trace tbody tr[data-kind="${kind}"]`);
  const seqs = (await rows.evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.seq)))).filter((s) => s > after);
  const seq = seqs[0]!;
  await box().locator(`.pg-trace tbody tr[data-seq="${seq}"] td`).first().click();
  await expect.poll(() => box().locator(".pg-trace tr.pg-step-current").getAttribute("data-seq")).toBe(String(seq));
  await openTab(p.page, "Picture");
  await expect.poll(() => picture().getAttribute("data-drawn-seq")).toBe(String(seq));
  return seq;
}

const slotsInUse = async () => Number(/xen-swiotlb of dom0, [^,]+, (\d+) of \d+ slots in use/.exec((await svgLabel()) ?? "")?.[1] ?? NaN);

describe("the picture at a step", () => {
  test("a straddling xen-swiotlb map takes bounce slots at the map and frees them at the unmap", async () => {
    await loadAndRun(STRADDLE);
    await stepToKind("bounce");
    expect(await slotsInUse()).toBeGreaterThan(0);
    const changes = picture().locator(".pg-step-changes");
    expect(await changes.locator('[data-change="appeared"][data-kind="bounce"]').innerText()).toMatch(/xen-swiotlb slots \d+-\d+ of dom0/);
    expect(await picture().locator('svg [data-step-change="appeared"]').count()).toBeGreaterThan(0);
    // Still taken while the device reads.
    await stepToKind("dma-read");
    expect(await slotsInUse()).toBeGreaterThan(0);
    await stepToKind("unmap");
    expect(await slotsInUse()).toBe(0);
    expect(await changes.locator('[data-change="gone"][data-kind="bounce"]').count()).toBe(1);
    expect(await picture().locator('svg [data-step-change="gone"]').count()).toBeGreaterThan(0);
  });

  test("with lazy invalidation the stale IOTLB entry is in the picture until the flush", async () => {
    await loadAndRun(LAZY);
    const unmapSeq = await stepToKind("iommu-unmap");
    expect(await svgLabel()).toMatch(/stale IOTLB entr/);
    await stepToKind("iotlb-stale", unmapSeq);
    expect(await svgLabel()).toMatch(/stale IOTLB entr/);
    await stepToKind("iotlb-flush", unmapSeq);
    expect(await svgLabel()).not.toMatch(/stale IOTLB entr/);
    expect(await picture().locator('.pg-step-changes [data-change="gone"][data-kind="iotlb"]').count()).toBeGreaterThan(0);
  });
});

describe("stepping", () => {
  test("from the keyboard: Tab reaches the buttons, ←/→ step; the trace row, the code line and the totals follow", async () => {
    await loadAndRun(STRADDLE);
    await openTab(p.page, "Trace");
    await box().getByRole("tab", { name: "Trace" }).focus();
    await p.page.keyboard.press("Tab");
    const focused = () => p.page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.step);
    expect(await focused()).toBe("first");
    await p.page.keyboard.press("Enter");
    await expect.poll(() => stepper().locator(".pg-step-caption").innerText()).toMatch(/^Step 1 of \d+/);
    await p.page.keyboard.press("ArrowRight");
    await p.page.keyboard.press("ArrowRight");
    await expect.poll(() => stepper().locator(".pg-step-caption").innerText()).toMatch(/^Step 3 of \d+/);
    await p.page.keyboard.press("ArrowLeft");
    await expect.poll(() => stepper().locator(".pg-step-caption").innerText()).toMatch(/^Step 2 of \d+/);
    const row = box().locator(".pg-trace tr.pg-step-current");
    expect(await row.getAttribute("aria-current")).toBe("step");
    const seq = Number(await row.getAttribute("data-seq"));
    const line = await row.locator("td").last().innerText();
    expect(line).not.toBe("");
    await expect.poll(() => box().getAttribute("data-highlighted-line")).toBe(line);
    expect(await box().locator(`.pg-highlight`).count()).toBe(1);
    await openTab(p.page, "Stats");
    expect(await box().locator('[data-panel="stats"] .pg-step-totals').innerText()).toContain(`event ${seq}`);
    const total = Number(await box().locator('[data-panel="stats"] [data-total-cost]').getAttribute("data-total-cost"));
    // Buttons: Tab moves through them in order.
    await stepper().locator('[data-step="previous"]').focus();
    await p.page.keyboard.press("Tab");
    expect(await focused()).toBe("play");
    await p.page.keyboard.press("Tab");
    expect(await focused()).toBe("next");
    await p.page.keyboard.press("Enter");
    await expect.poll(() => box().locator('[data-panel="stats"]').getAttribute("data-step")).toBe(String(seq + 1));
    expect(Number(await box().locator('[data-panel="stats"] [data-total-cost]').getAttribute("data-total-cost"))).toBeGreaterThanOrEqual(
      total,
    );
  });

  test("typing in the trace filter does not step", async () => {
    await openTab(p.page, "Trace");
    const caption = await stepper().locator(".pg-step-caption").innerText();
    await box().getByRole("searchbox", { name: "Filter by text" }).focus();
    await p.page.keyboard.press("ArrowLeft");
    expect(await stepper().locator(".pg-step-caption").innerText()).toBe(caption);
  });
});

describe("Compare", () => {
  test("both sides step together", async () => {
    await loadAndRun(STRADDLE);
    await box().getByRole("button", { name: "Compare" }).click();
    const panel = box().locator(".pg-compare");
    const compared = await counter(p.page, "compared");
    await panel.getByRole("button", { name: "Run both" }).click();
    await waitForCounter(p.page, "compared", compared + 1);
    await panel.locator(".pg-compare-pictures summary").click();
    const sides: Locator[] = ["a", "b"].map((s) => panel.locator(`.pg-compare-picture[data-side="${s}"] .pg-compare-picture-panel`));
    const compareStepper = panel.locator(".pg-compare-stepper");
    await compareStepper.locator('[data-step="first"]').click();
    for (const side of sides) await expect.poll(() => side.getAttribute("data-drawn-seq")).toBe("1");
    await compareStepper.locator('[data-step="next"]').click();
    for (const side of sides) await expect.poll(() => side.getAttribute("data-drawn-seq")).toBe("2");
    await compareStepper.getByRole("combobox", { name: "Step both sides by" }).selectOption("line");
    await compareStepper.locator('[data-step="first"]').click();
    await expect
      .poll(() => compareStepper.locator(".pg-step-caption").innerText())
      .toMatch(/^Line step 1 of \d+\. A: event \d+.*\(line \d+\)\. B: event \d+.*\(line \d+\)/);
    await box().getByRole("button", { name: "Compare" }).click();
  });
});

describe("with the editor", () => {
  test("a step marks its line in Monaco; ←/→ while typing in the editor do not step", async () => {
    await loadCode(p.page, STRADDLE, encodeShare);
    await activate(p.page);
    const results = await counter(p.page, "results");
    await run(p.page);
    await waitForResults(p.page, results + 1);
    await openTab(p.page, "Trace");
    await stepper().locator('[data-step="first"]').click();
    await stepper().locator('[data-step="next"]').click();
    await expect.poll(() => stepper().locator(".pg-step-caption").innerText()).toMatch(/^Step 2 of \d+/);
    const line = await box().locator(".pg-trace tr.pg-step-current td").last().innerText();
    expect(await box().getAttribute("data-highlighted-line")).toBe(line);
    await expect.poll(() => box().locator(".monaco-editor .pg-line-highlight").count()).toBe(1);
    const caption = await stepper().locator(".pg-step-caption").innerText();
    await box().locator(".monaco-editor .view-lines").click();
    await p.page.keyboard.press("ArrowRight");
    await p.page.keyboard.press("ArrowLeft");
    expect(await stepper().locator(".pg-step-caption").innerText()).toBe(caption);
  });
});
