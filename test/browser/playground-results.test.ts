// The results views without the editor: code restored from a share link (never run by itself),
// its trace with the reader's lines, filters, severity, stats that add up, JSON export, and a
// damaged link refused with a reason.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { closeSite, openSite, type Preview } from "../support/site.js";
import { readFileSync } from "node:fs";
import type { Browser } from "playwright-core";
import {
  MONACO_URL,
  PLAYGROUND_PATH,
  embed,
  openPage,
  openTab,
  parseNumber,
  run,
  waitForResults,
  type PlaygroundPage,
  workersBesidesRunner,
} from "../support/playground-page.js";
import { encodeShare } from "../../src/playground/page/share-code.js";

let preview: Preview;
let browser: Browser;
let p: PlaygroundPage;

// A stray DMA (line 11: the NIC writes into domU1's first frame) and a second machine.
const STRAY = `import { createMachine } from "dma-lab";
const m = createMachine({ arch: "x86_64", memory: "1 GiB" });
const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "256 MiB", privileged: true });
const domU = m.createDomain({ name: "domU1", mode: "VP", memory: "128 MiB" });
const nic = m.attachDevice({ name: "eth0", domain: dom0, dmaMask: 64 });
const dma = dom0.dmaApi(nic, "direct");
const buf = dom0.alloc("8 KiB");
const bus = dma.mapSingle(buf, 8192, "FROM_DEVICE");
if (dma.mappingError(bus)) throw new Error("mapping failed");
const victim = m.snapshot().domains[1]!.p2m[0]!.mfn * m.pageSize;
nic.write(victim, new Uint8Array(16));
dma.unmapSingle(bus, 8192, "FROM_DEVICE");
const other = createMachine({ memory: "64 MiB" });
other.createDomain({ name: "solo", mode: "P2M", memory: "16 MiB" });
console.log("stray example done");
`;

beforeAll(async () => {
  ({ preview, browser } = await openSite());
  // One page for the tests below, in order, as a reader who opened a shared link would use it.
  p = await openPage(browser, `${preview.baseUrl}${PLAYGROUND_PATH}#pg-1=${encodeShare(STRAY)}`);
});

afterAll(async () => {
  await p?.close();
  await closeSite(preview, browser);
});

const rows = () => embed(p.page).locator(".pg-trace tbody tr");

describe("results views (no editor)", () => {
  test("a share link restores its code without running it", async () => {
    const box = embed(p.page);
    await expect.poll(() => box.locator(".pg-plain").innerText()).toContain("nic.write(victim, new Uint8Array(16));");
    expect(await box.locator(".pg-static").isHidden()).toBe(true);
    expect(await box.locator(".pg-status").innerText()).toMatch(/Restored the code from the link/);
    await p.page.waitForLoadState("networkidle");
    expect(workersBesidesRunner(p)).toEqual([]);
    expect(await box.locator(".pg-output > *").count()).toBe(0);
    expect(p.requests.filter((u) => MONACO_URL.test(u))).toEqual([]);
  });

  test("Run runs the restored code; the Trace tab lists its events with the reader’s lines", async () => {
    expect(await run(p.page)).toContain("stray example done");
    await waitForResults(p.page, 1);
    await openTab(p.page, "Trace");
    expect(await rows().count()).toBeGreaterThan(5);
    const lineOf = (kind: string) => embed(p.page).locator(`.pg-trace tr[data-kind="${kind}"] td:nth-child(5)`).allInnerTexts();
    expect(await lineOf("alloc")).toEqual(["7"]);
    expect(await lineOf("map")).toEqual(["8"]);
    expect(await lineOf("unmap")).toEqual(["12"]);
  });

  test("the stray DMA is an error row, on its line; filtering by kind and by text works", async () => {
    const kind = embed(p.page).getByRole("combobox", { name: "Filter by kind" });
    await kind.selectOption("stray-dma");
    expect(await rows().count()).toBe(1);
    const stray = rows().first();
    expect(await stray.getAttribute("class")).toContain("pg-sev-error");
    expect(await stray.innerText()).toMatch(/stray DMA: eth0 wrote 16 bytes .* belongs to domU1/);
    expect(await stray.locator("td").nth(4).innerText()).toBe("11");
    // Red is not the only signal: the row says "error".
    expect(await stray.locator(".pg-sev").innerText()).toMatch(/error/i);

    await kind.selectOption("");
    const all = await rows().count();
    await embed(p.page).getByRole("searchbox", { name: "Filter by text" }).fill("dma_unmap_single");
    expect(await rows().count()).toBe(1);
    await embed(p.page).getByRole("searchbox", { name: "Filter by text" }).fill("");
    expect(await rows().count()).toBe(all);
    expect(await embed(p.page).locator(".pg-trace tr.pg-sev-info, .pg-trace tbody tr:not([class])").count()).toBeGreaterThan(0);
  });

  test("clicking an event’s line marks that line of the code", async () => {
    await embed(p.page).locator('.pg-trace tr[data-kind="stray-dma"]').getByRole("button", { name: "Show line 11" }).click();
    const marked = embed(p.page).locator(".pg-plain .pg-highlight");
    expect(await marked.count()).toBe(1);
    expect(await marked.innerText()).toBe("nic.write(victim, new Uint8Array(16));");
  });

  test("Stats: the cost total is the sum of the kinds, and of the trace’s costs", async () => {
    // The event picked above is the stepper's step: Stats shows the totals up to it.
    const step = Number(await embed(p.page).locator(".pg-trace tr.pg-step-current").getAttribute("data-seq"));
    const traceCosts = await embed(p.page)
      .locator(".pg-trace tbody tr")
      .evaluateAll(
        (rows, upTo) =>
          rows
            .filter((r) => Number((r as HTMLElement).dataset.seq) <= upTo)
            .map((r) => Number(r.querySelector("td:nth-child(4)")!.textContent!.replace(/,/g, ""))),
        step,
      );
    await openTab(p.page, "Stats");
    expect(await embed(p.page).locator('[data-panel="stats"]').getAttribute("data-step")).toBe(String(step));
    const stats = embed(p.page).locator(".pg-stats");
    const byKind = (await stats.locator("tbody td:nth-child(3)").allInnerTexts()).map(parseNumber);
    const total = parseNumber(await stats.locator("tfoot td:nth-child(3)").innerText());
    expect(total).toBeGreaterThan(0);
    expect(byKind.reduce((a, b) => a + b, 0)).toBe(total);
    expect(traceCosts.reduce((a, b) => a + b, 0)).toBe(total);
    expect(await stats.locator('tbody tr[data-kind="stray-dma"] td').first().innerText()).toBe("1");
  });

  test("two machines: a selector switches the views to the second", async () => {
    const machine = embed(p.page).getByRole("combobox", { name: "Machine" });
    expect(await machine.isVisible()).toBe(true);
    expect(await machine.locator("option").allInnerTexts()).toEqual([
      "Machine 1 (line 2): x86_64, 1 GiB, 4 KiB pages",
      "Machine 2 (line 13): ia64, 64 MiB, 16 KiB pages",
    ]);
    await machine.selectOption({ index: 1 });
    expect(await embed(p.page).locator(".pg-stats tbody tr").allInnerTexts()).toEqual([expect.stringMatching(/^setup\s+1\s+0/)]);
    await machine.selectOption({ index: 0 });
  });

  test("Picture: the memory map as an SVG; picking an event steps the picture to it", async () => {
    await openTab(p.page, "Picture");
    const panel = embed(p.page).locator('[data-panel="picture"]');
    const svg = panel.locator('.pg-picture svg[role="img"]');
    await svg.waitFor({ state: "visible", timeout: 15_000 });
    expect(await panel.getAttribute("data-drawn-seq")).toBe("end");
    expect(await svg.getAttribute("aria-label")).toMatch(/domU1/);
    // The stepper shared by Trace, Stats and Picture starts at the end of the run.
    const slider = embed(p.page).locator(".pg-stepper").getByRole("slider", { name: "Step" });
    expect(await slider.inputValue()).toBe(await slider.getAttribute("max"));

    // Picking the stray DMA in the trace moves the step there and marks its line.
    await openTab(p.page, "Trace");
    const stray = embed(p.page).locator('.pg-trace tr[data-kind="stray-dma"]');
    const seq = await stray.getAttribute("data-seq");
    await stray.locator("td").first().click();
    await openTab(p.page, "Picture");
    await expect.poll(() => panel.getAttribute("data-drawn-seq")).toBe(seq);
    expect(await embed(p.page).locator(".pg-stepper .pg-step-caption").innerText()).toMatch(
      new RegExp(`^Step ${seq} of \\d+: stray-dma \\(line 11\\)`),
    );
    // The slider redraws too: step 1 is the first event.
    await slider.focus();
    await p.page.keyboard.press("Home");
    await expect.poll(() => panel.getAttribute("data-drawn-seq")).toBe("1");
    await p.page.keyboard.press("ArrowRight");
    await expect.poll(() => panel.getAttribute("data-drawn-seq")).toBe("2");
    expect(await svg.count()).toBe(1);
  });

  test("Export trace as JSON downloads every machine’s trace and stats", async () => {
    await openTab(p.page, "Trace");
    const [download] = await Promise.all([
      p.page.waitForEvent("download"),
      embed(p.page).getByRole("button", { name: "Export trace as JSON" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("dma-lab-trace.json");
    const data = JSON.parse(readFileSync(await download.path(), "utf8"));
    expect(data.machines).toHaveLength(2);
    expect(data.machines[0].trace.find((e: { kind: string }) => e.kind === "stray-dma")).toMatchObject({ line: 11, severity: "error" });
    expect(data.machines[0].stats.cost.total).toBeGreaterThan(0);
  });

  test("no console errors on the page", () => {
    expect(p.pageErrors).toEqual([]);
    expect(p.consoleMessages.filter((m) => m.type === "error")).toEqual([]);
  });
});

describe("a damaged share link", () => {
  test("shows what is wrong, keeps the page’s code, and Run runs the page’s code", async () => {
    const payload = encodeShare(STRAY);
    const q = await openPage(browser, `${preview.baseUrl}${PLAYGROUND_PATH}#pg-1=${payload.slice(0, payload.length >> 1)}`);
    try {
      const box = embed(q.page);
      const notice = box.locator(".pg-notice");
      await notice.waitFor({ state: "visible" });
      expect(await notice.innerText()).toMatch(/could not be restored: .*cut short.*Showing the page’s original code/);
      expect(await box.locator(".pg-static").innerText()).toContain('dom0.dmaApi(disk, "p2m")');
      expect(await box.locator(".pg-plain").isHidden()).toBe(true);
      expect(await run(q.page)).toContain("hello from dom0");
      expect(q.pageErrors).toEqual([]);
    } finally {
      await q.close();
    }
  });
});
