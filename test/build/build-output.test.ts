// Checks the built HTML: Monaco's CSS must not leak into page heads (it did, +175 KB
// render-blocking, before the CSS stub), and pages without a playground ship no playground code.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";

const dist = new URL("../../dist/", import.meta.url);
const read = (path: string): string => readFileSync(new URL(path.replace(/^\//, ""), dist), "utf8");

function head(html: string): string {
  return html.slice(0, html.indexOf("</head>"));
}

function stylesheets(html: string): string[] {
  return [...head(html).matchAll(/<link[^>]*rel="stylesheet"[^>]*>/g)].map((m) => /href="([^"]+)"/.exec(m[0])![1]!);
}

/** The code of every script a page loads: external module scripts and inline ones. */
function scripts(html: string): { where: string; code: string }[] {
  return [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)].map(([, attrs, body]) => {
    const src = /src="([^"]+)"/.exec(attrs!)?.[1];
    return src ? { where: src, code: read(src) } : { where: "inline", code: body! };
  });
}

const MONACO_CSS = /\.monaco-editor|\.codicon|monaco-/;
const PLAYGROUND_CODE = /dma-playground|runner-worker|monaco-setup|data-action/;
const pages = ["index.html", "playground-basics/index.html"];

describe("built site", () => {
  test("dist/ exists (npm test builds first)", () => {
    expect(existsSync(new URL("index.html", dist))).toBe(true);
  });

  test.each(pages)("%s: the head links only the site stylesheets, none of them Monaco", (page) => {
    const html = read(page);
    const sheets = stylesheets(html);
    expect(sheets.length).toBeGreaterThan(0);
    for (const href of sheets) {
      expect(href).toMatch(/^\/_astro\/[^/]+\.css$/);
      expect(href).not.toMatch(/editor\.main|monaco/i);
      expect(read(href)).not.toMatch(MONACO_CSS);
    }
    expect(head(html)).not.toMatch(MONACO_CSS);
  });

  // The home page has a playground now; the glossary is a page without one.
  test("a page without a playground ships no playground or Monaco script", () => {
    const found = scripts(read("reference/glossary/index.html")).filter((s) => PLAYGROUND_CODE.test(s.code) || /monaco/i.test(s.code));
    expect(found.map((s) => s.where)).toEqual([]);
  });

  test("the playground page ships the playground script, but not Monaco itself", () => {
    const all = scripts(read("playground-basics/index.html"));
    expect(all.some((s) => PLAYGROUND_CODE.test(s.code))).toBe(true);
    // Monaco is reached only through a dynamic import, so its code is not in the page's scripts.
    expect(all.filter((s) => /editor\.api|StandaloneCodeEditor|registerLanguage/.test(s.code)).map((s) => s.where)).toEqual([]);
  });
});
