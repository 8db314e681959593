// Sharing and keeping the reader's code: an edit survives a reload, a Share link restores the code
// in a fresh browser without running it, Reset brings back the page's code, and a trace event's
// line is marked in the editor.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { closeSite, openSite, type Preview } from "../support/site.js";
import type { Browser } from "playwright-core";
import {
  PLAYGROUND_PATH,
  activate,
  embed,
  openPage,
  openTab,
  replaceCode,
  run,
  waitForResults,
  type PlaygroundPage,
  workersBesidesRunner,
} from "../support/playground-page.js";

let preview: Preview;
let browser: Browser;
let p: PlaygroundPage;

beforeAll(async () => {
  ({ preview, browser } = await openSite());
  p = await openPage(browser, preview.baseUrl + PLAYGROUND_PATH);
  await activate(p.page);
});

afterAll(async () => {
  await p?.close();
  await closeSite(preview, browser);
});

const EDITED = `import { createMachine } from "dma-lab";
const m = createMachine({ arch: "ia64", memory: "1 GiB" });
const dom0 = m.createDomain({ name: "dom0", mode: "P2M", memory: "256 MiB", privileged: true });
const disk = m.attachDevice({ name: "sda", domain: dom0, dmaMask: 32 });
const dma = dom0.dmaApi(disk, "p2m");
const buf = dom0.alloc("16 KiB");

const bus = dma.mapSingle(buf, 64, "TO_DEVICE");
console.log("edited and kept");
`;

const plainCode = () => embed(p.page).locator(".pg-plain").innerText();

describe("share and persistence", () => {
  test("a trace event’s line is marked in the editor", async () => {
    await replaceCode(p.page, EDITED);
    expect(await run(p.page)).toContain("edited and kept");
    await waitForResults(p.page, 1);
    await openTab(p.page, "Trace");
    await embed(p.page).locator('.pg-trace tr[data-kind="map"]').getByRole("button", { name: "Show line 8" }).click();
    const marked = embed(p.page).locator(".monaco-editor .pg-line-highlight");
    await expect.poll(() => marked.count()).toBe(1);
    // The marked line is line 8 of the editor: same vertical position as that line's text.
    const lineBox = await embed(p.page).locator(".monaco-editor .view-line", { hasText: "dma.mapSingle(buf, 64" }).boundingBox();
    const markBox = await marked.boundingBox();
    expect(Math.abs(lineBox!.y - markBox!.y)).toBeLessThan(2);
  });

  test("the edit survives a reload, shown without loading the editor, and Run runs it", async () => {
    await p.page.reload({ waitUntil: "load" });
    await expect.poll(plainCode).toContain('console.log("edited and kept");');
    expect(await embed(p.page).locator(".pg-status").innerText()).toMatch(/Restored your last edit/);
    expect(await embed(p.page).locator(".monaco-editor").count()).toBe(0);
    expect(await run(p.page)).toBe("edited and kept");
  });

  test("Share puts the code in the link; a fresh browser restores it and does not run it", async () => {
    await embed(p.page).getByRole("button", { name: "Share" }).click();
    await expect.poll(() => p.page.url()).toMatch(/#pg-1=[A-Za-z0-9+\-$]+$/);
    expect(await embed(p.page).locator(".pg-status").innerText()).toMatch(/Link copied|address bar/);
    const fresh = await openPage(browser, p.page.url());
    try {
      const box = embed(fresh.page);
      await expect.poll(() => box.locator(".pg-plain").innerText()).toContain('console.log("edited and kept");');
      await fresh.page.waitForLoadState("networkidle");
      await fresh.page.waitForTimeout(300);
      expect(workersBesidesRunner(fresh)).toEqual([]);
      expect(await box.locator(".pg-output > *").count()).toBe(0);
      expect(await box.getAttribute("data-started")).toBeNull();
      expect(await run(fresh.page)).toBe("edited and kept");
      expect(fresh.pageErrors).toEqual([]);
    } finally {
      await fresh.close();
    }
  });

  test("Reset brings back the page’s code, drops the link, and a reload keeps the page’s code", async () => {
    await embed(p.page).getByRole("button", { name: "Reset" }).click();
    await expect.poll(() => embed(p.page).locator(".pg-static").isVisible()).toBe(true);
    expect(await embed(p.page).locator(".pg-plain").isHidden()).toBe(true);
    expect(p.page.url()).not.toContain("#pg-1=");
    expect(await run(p.page)).toContain("hello from dom0");
    await p.page.reload({ waitUntil: "load" });
    await p.page.waitForTimeout(300);
    expect(await embed(p.page).locator(".pg-static").isVisible()).toBe(true);
    expect(await embed(p.page).locator(".pg-status").innerText()).toBe("");
  });

  test("no console errors on the page", () => {
    expect(p.pageErrors).toEqual([]);
    expect(p.consoleMessages.filter((m) => m.type === "error")).toEqual([]);
  });
});
