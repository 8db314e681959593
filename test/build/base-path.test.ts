// The site built under a base path (`npm run build:base`: SITE_BASE=/dma-lab/ into dist-base/), as
// a project site on GitHub Pages serves it. Every URL in the built HTML, CSS and JS that names a
// place on this site must stay under the base and point at a file the build wrote; the pages
// write their own links root-relative (`/addresses/`), which src/build/rehype-base-links.ts
// rewrites at build time.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, test } from "vitest";
import { BASE_DIST_DIR, SITE_BASE_FOR_TESTS } from "../support/preview.js";

const base = SITE_BASE_FOR_TESTS; // "/dma-lab/"
const dist = BASE_DIST_DIR;

function files(dir: string, ext: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(join(dir, d.name), ext) : d.name.endsWith(ext) ? [join(dir, d.name)] : [],
  );
}

const pages = files(dist, ".html");
/** The URL a built page is served at, under the base. */
const urlOf = (file: string): string => base + relative(dist, file).replace(/index\.html$/, "");

/** Every URL-valued attribute of the page's HTML (srcset split into its URLs). */
function htmlUrls(html: string): string[] {
  const urls: string[] = [];
  for (const [, name, value] of html.matchAll(/\s(href|src|srcset|action|poster|data-src)="([^"]*)"/g)) {
    const decoded = value!.replace(/&amp;/g, "&");
    if (name === "srcset") urls.push(...decoded.split(",").map((part) => part.trim().split(/\s+/)[0]!));
    else urls.push(decoded);
  }
  return urls;
}

/** The file on disk a same-site path names, or undefined when the path is outside the base. */
function fileFor(path: string): string | undefined {
  if (!path.startsWith(base)) return undefined;
  const inside = decodeURIComponent(path.slice(base.length));
  return join(dist, inside === "" || inside.endsWith("/") ? `${inside}index.html` : inside);
}

const isExternal = (url: string): boolean => /^([a-z][a-z0-9+.-]*:|\/\/)/i.test(url);

describe(`site built under ${base}`, () => {
  test("dist-base/ exists (npm test builds it with `npm run build:base`)", () => {
    expect(existsSync(join(dist, "index.html"))).toBe(true);
    expect(pages.length).toBeGreaterThan(10);
  });

  test("every link and asset in the built HTML stays under the base and exists", () => {
    const escaping: string[] = [];
    const missing: string[] = [];
    let checked = 0;
    for (const file of pages) {
      const pageUrl = urlOf(file);
      for (const url of htmlUrls(readFileSync(file, "utf8"))) {
        if (url === "" || url.startsWith("#") || isExternal(url)) continue;
        const path = new URL(url, `http://site${pageUrl}`).pathname;
        checked++;
        const target = fileFor(path);
        if (!target) escaping.push(`${pageUrl} → ${url}`);
        else if (!existsSync(target)) missing.push(`${pageUrl} → ${url}`);
      }
    }
    expect(escaping).toEqual([]);
    expect(missing).toEqual([]);
    // The pages' own links alone are ~70; a check that saw none would prove nothing.
    expect(checked).toBeGreaterThan(200);
  });

  test("the pages’ own root-relative links were rewritten under the base", () => {
    const home = readFileSync(join(dist, "index.html"), "utf8");
    expect(home).toContain(`href="${base}addresses/"`);
    expect(home).toContain(`href="${base}reference/api/"`);
    const history = readFileSync(join(dist, "history", "index.html"), "utf8");
    expect(history).toContain(`href="${base}thread/#afterwards-briefly"`);
  });

  test("scripts and stylesheets name workers, chunks and fonts under the base", () => {
    const escaping: string[] = [];
    const assets = [...files(join(dist, "_astro"), ".js"), ...files(join(dist, "_astro"), ".css")];
    expect(assets.length).toBeGreaterThan(0);
    for (const file of assets) {
      const text = readFileSync(file, "utf8");
      // A root-relative reference to the build's asset folder, as Vite writes worker and chunk
      // URLs. (Pagefind's "/pagefind/" defaults are overridden by Starlight with the base.)
      for (const [ref] of text.matchAll(/["'`(]\/_astro\/[^"'`)\s]*/g)) escaping.push(`${relative(dist, file)}: ${ref}`);
    }
    expect(escaping).toEqual([]);
  });
});
