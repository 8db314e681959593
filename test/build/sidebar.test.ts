// Every built page can be reached from the sidebar: a page that only a link in some prose leads
// to is lost to a reader who browses. (The Reference group once rendered empty: Starlight's
// `autogenerate` finds nothing when the content root is docs/.)
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const dist = new URL("../../dist/", import.meta.url).pathname;

function htmlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? htmlFiles(join(dir, d.name)) : d.name.endsWith(".html") ? [join(dir, d.name)] : [],
  );
}

const urlOf = (file: string) => `/${relative(dist, file).replace(/index\.html$/, "")}`;
const pages = htmlFiles(dist)
  .filter((f) => !f.endsWith("404.html"))
  .map(urlOf);

/** The links of a page's sidebar navigation (Starlight: <nav aria-label="Main"> around the sidebar). */
function sidebarLinks(url: string): string[] {
  const html = readFileSync(join(dist, url, "index.html"), "utf8");
  const sidebar = /<nav[^>]*aria-label="Main"[^>]*>([\s\S]*?)<\/nav>/.exec(html)?.[1] ?? "";
  return [...sidebar.matchAll(/<a\b[^>]*\shref="([^"#]+)/g)].map((m) => m[1]!);
}

describe("sidebar", () => {
  it("the built site has pages (npm test builds first)", () => {
    expect(pages.length).toBeGreaterThan(5);
  });

  it("every page but the home page is linked from the sidebar", () => {
    const linked = new Set(sidebarLinks("/thread/"));
    // The home page is a splash page without a sidebar; the site title links to it from every page.
    const missing = pages.filter((url) => url !== "/" && !linked.has(url));
    expect(missing).toEqual([]);
  });

  it("no sidebar group is empty", () => {
    const html = readFileSync(join(dist, "thread", "index.html"), "utf8");
    const sidebar = /<nav[^>]*aria-label="Main"[^>]*>([\s\S]*?)<\/nav>/.exec(html)?.[1] ?? "";
    const groups = [...sidebar.matchAll(/<details[^>]*>([\s\S]*?)<\/details>/g)].map((m) => m[1]!);
    expect(groups.length).toBeGreaterThanOrEqual(3);
    for (const group of groups) expect(group).toMatch(/<a\b[^>]*href="\//);
  });

  it("the home page is the site title's link on every page", () => {
    for (const url of pages.filter((u) => u !== "/")) {
      expect(readFileSync(join(dist, url, "index.html"), "utf8"), url).toMatch(/<a[^>]*href="\/"[^>]*class="site-title/);
    }
  });
});
