// An accessibility scan (axe-core, WCAG 2.0/2.1 A and AA) of the built pages, including the
// playground's results views after a run: the trace table and the SVG memory map must pass too.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { closeSite, openSite, type Preview } from "../support/site.js";
import { createRequire } from "node:module";
import type { Browser, Page } from "playwright-core";
import type { AxeResults } from "axe-core";
import { embed, openPage, openTab, run, waitForResults, type PlaygroundPage } from "../support/playground-page.js";

const AXE_PATH = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

let preview: Preview;
let browser: Browser;

beforeAll(async () => {
  ({ preview, browser } = await openSite());
});

afterAll(async () => {
  await closeSite(preview, browser);
});

/**
 * Waits (up to 5 s) for Expressive Code's own script, which makes a code block that scrolls
 * sideways focusable once a ResizeObserver has measured it (debounced, then on idle). Scanning
 * before that would blame a state no reader keeps; if the script never acts, axe reports it.
 */
async function settled(page: Page): Promise<void> {
  await page
    .waitForFunction(
      () =>
        [...document.querySelectorAll<HTMLElement>(".expressive-code pre")].every(
          (pre) => pre.scrollWidth <= pre.clientWidth || pre.hasAttribute("tabindex"),
        ),
      undefined,
      { timeout: 5_000 },
    )
    .catch(() => undefined);
}

/**
 * Runs axe on the page as it is now and returns one line per violation (rule id, what to do,
 * the first offending element, how many there are), so a failing CI log says what to fix.
 */
async function violations(page: Page): Promise<string[]> {
  await settled(page);
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: AXE_PATH });
  const results = await page.evaluate(
    (values) =>
      (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<AxeResults> } }).axe.run(document, {
        runOnly: { type: "tag", values },
        resultTypes: ["violations"],
      }),
    TAGS,
  );
  return results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — first at ${JSON.stringify(v.nodes[0]?.target)} (${v.nodes.length} element(s))`,
  );
}

describe("axe finds no WCAG 2.0/2.1 A or AA violations", () => {
  for (const path of ["/", "/thread/", "/addresses/", "/who-bounces/", "/costs/", "/exercises/", "/reference/api/", "/playground/"]) {
    test(path, async () => {
      const p = await openPage(browser, preview.baseUrl + path);
      try {
        expect(await violations(p.page)).toEqual([]);
      } finally {
        await p.close();
      }
    });
  }

  describe("/playground/ after Run", () => {
    let p: PlaygroundPage;
    beforeAll(async () => {
      p = await openPage(browser, `${preview.baseUrl}/playground/`);
      await run(p.page);
      await waitForResults(p.page, 1);
    });
    afterAll(async () => {
      await p?.close();
    });

    test("the output and the results views", async () => {
      expect(await violations(p.page)).toEqual([]);
    });

    test("the Trace tab", async () => {
      await openTab(p.page, "Trace");
      await embed(p.page).locator(".pg-trace tbody tr").first().waitFor({ state: "visible" });
      expect(await violations(p.page)).toEqual([]);
    });

    test("the Picture tab (the SVG memory map)", async () => {
      await openTab(p.page, "Picture");
      await embed(p.page).locator('.pg-picture svg[role="img"]').waitFor({ state: "visible", timeout: 15_000 });
      expect(await violations(p.page)).toEqual([]);
    });
  });
});
