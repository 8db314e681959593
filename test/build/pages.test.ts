// Every built page: internal links and #anchors resolve, the thread pages carry a picture drawn by
// the simulator, and the head stays free of Monaco's CSS on every page, not just the first two.
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

const pages = htmlFiles(dist).filter((f) => !f.endsWith("404.html"));
const urlOf = (file: string) => `/${relative(dist, file).replace(/index\.html$/, "")}`;

function ids(html: string): Set<string> {
  return new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!));
}

describe("built pages", () => {
  it("the site has all its pages", () => {
    const urls = pages.map(urlOf);
    for (const url of [
      "/",
      "/thread/",
      "/addresses/",
      "/dma-api/",
      "/foreign-pages/",
      "/spanning-pages/",
      "/who-bounces/",
      "/costs/",
      "/reference/api/",
    ])
      expect(urls).toContain(url);
  });

  it("no internal link or #anchor is broken", () => {
    const broken: string[] = [];
    for (const file of pages) {
      const html = readFileSync(file, "utf8");
      for (const [, href] of html.matchAll(/<a\b[^>]*\shref="([^"]+)"/g)) {
        if (/^(https?:|mailto:|\/\/)/.test(href!)) continue;
        const [path, hash] = href!.split("#");
        const target = path ? (path.startsWith("/") ? path : new URL(path, `http://x${urlOf(file)}`).pathname) : urlOf(file);
        const targetFile = join(dist, target.endsWith("/") ? `${target}index.html` : target);
        if (!existsSync(targetFile)) {
          broken.push(`${urlOf(file)} → ${href}`);
          continue;
        }
        if (hash && targetFile.endsWith(".html") && !ids(readFileSync(targetFile, "utf8")).has(decodeURIComponent(hash)))
          broken.push(`${urlOf(file)} → ${href} (no such anchor)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it.each(["thread", "addresses", "dma-api", "foreign-pages", "spanning-pages", "costs"])(
    "/%s/ shows a picture drawn by the simulator",
    (page) => {
      const html = readFileSync(join(dist, page, "index.html"), "utf8");
      const figures = [...html.matchAll(/<figure class="dma-figure[^"]*"[\s\S]*?<\/figure>/g)].map((m) => m[0]);
      expect(figures.length).toBeGreaterThan(0);
      for (const figure of figures) expect(figure).toMatch(/<svg[^>]*role="img"[^>]*aria-label="[^"]{20,}"/);
    },
  );

  it("the costs page draws one chart per published study", () => {
    const html = readFileSync(join(dist, "costs", "index.html"), "utf8");
    expect(html.match(/data-study="(viommu|willmann|markuze)"/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
  });

  it("no page's head links Monaco's CSS", () => {
    for (const file of pages) {
      const head = readFileSync(file, "utf8").split("</head>")[0]!;
      expect(head, urlOf(file)).not.toMatch(/editor\.main[^"]*\.css|monaco[^"]*\.css/i);
    }
  });
});
