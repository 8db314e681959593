// Every blockquote on every page that quotes the 2006 thread: same words as the archive (whitespace
// and the archive's doubled apostrophes aside), and the name and date written before it are those
// of the post the words come from. Checked on the MDX sources, not the built HTML: the sources are
// what authors edit and what a failure should point at (file and line), the check needs no build,
// and Astro's typography (curly quotes, dashes) would otherwise have to be undone first.
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { parseThread } from "../../src/data/thread.js";
import { checkThreadQuotes } from "../support/thread-quotes.js";

const DOCS = new URL("../../docs/", import.meta.url).pathname;
const THREAD = new URL("../../src/data/xen-devel-2006-01-vp-thread.txt", import.meta.url).pathname;
const posts = parseThread(readFileSync(THREAD, "utf8"));

function mdxFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? mdxFiles(join(dir, d.name)) : d.name.endsWith(".mdx") ? [join(dir, d.name)] : [],
  );
}

describe("the thread as data", () => {
  it("has its fifteen posts, from Muli's question to his last reply", () => {
    expect(posts).toHaveLength(15);
    expect([posts[0]!.person.name, posts[0]!.date, posts[0]!.time]).toEqual(["Muli Ben-Yehuda", "2006-01-20", "01:55"]);
    expect([posts[14]!.person.name, posts[14]!.date, posts[14]!.time]).toEqual(["Muli Ben-Yehuda", "2006-01-25", "17:54"]);
  });

  it("names the line of a malformed record", () => {
    expect(() => parseThread("Ian Pratt\n2006-01-24 23:42\n[Xen-devel] VP problematic for backend drivers on IA64?\nbody\n")).toThrow(
      /line 2: expected a date/,
    );
    expect(() => parseThread("Ian Pratt\n2006-Jan-24 23:42 UTC\nsubject\n")).toThrow(/four per post/);
  });
});

describe("blockquotes that quote the thread", () => {
  const pages = mdxFiles(DOCS).map((file) => ({
    page: relative(DOCS, file),
    result: checkThreadQuotes(readFileSync(file, "utf8"), posts),
  }));

  it("the pages quote the thread (so the check below is not vacuous)", () => {
    expect(pages.reduce((n, p) => n + p.result.quotes, 0)).toBeGreaterThanOrEqual(20);
  });

  it.each(pages.map((p) => [p.page, p.result] as const))("%s: same words, right author and date", (_page, result) => {
    expect(result.problems).toEqual([]);
  });
});

describe("the check itself", () => {
  const page = (before: string, quote: string) => `---\ntitle: t\n---\n\n## A section\n\n${before}\n\n> ${quote}\n`;
  const problems = (before: string, quote: string) => checkThreadQuotes(page(before, quote), posts).problems.map((p) => p.problem);
  const keir = "We set it to zero if using swiotlb. I think setting it to zero disables driver-specific bounce buffer code?";

  it("accepts a faithful, attributed quote", () => {
    expect(problems("Keir Fraser replied (2006-01-25 16:56):", keir)).toEqual([]);
  });

  it("rejects altered words", () => {
    expect(problems("Keir Fraser replied (2006-01-25 16:56):", keir.replace("zero", "one"))).toEqual([
      expect.stringMatching(/no post of the thread contains/),
    ]);
  });

  it("rejects the wrong author, date or time", () => {
    expect(problems("Muli replied (2006-01-25 16:56):", keir)).toEqual([expect.stringMatching(/the words are Keir Fraser.*names Muli/)]);
    expect(problems("Keir Fraser replied (2006-01-24 16:56):", keir)).toEqual([
      expect.stringMatching(/date before the quote is 2006-01-24/),
    ]);
    expect(problems("Keir Fraser replied (2006-01-25 17:54):", keir)).toEqual([expect.stringMatching(/time before the quote is 17:54/)]);
  });

  it("attributes words to the post that first wrote them, not to a later post that quotes them", () => {
    const gerd = 'One suggestion from the summit was to allocate some "struct page" for foreign pages';
    expect(problems("Muli answered (2006-01-25 14:37):", gerd)).toEqual([
      expect.stringMatching(/the words are Gerd Hoffmann, 2006-01-25 10:29, but the text before names Muli/),
      expect.stringMatching(/time before the quote is 14:37/),
    ]);
  });

  it("rejects a quote with no date, and a thread quote with no author", () => {
    expect(problems("Keir Fraser replied:", keir)).toEqual([expect.stringMatching(/no date/)]);
    expect(problems("Someone wrote (2006-01-25 16:56):", keir)).toEqual([expect.stringMatching(/without naming the author/)]);
  });

  it("reads the archive's doubled apostrophes and elisions", () => {
    expect(
      problems(
        "Alex Williamson (2006-01-23 15:52):",
        "VGA and serial consoles don't typically do DMA-like operations AFAIK. [...] GARTs are similar to IOMMUs",
      ),
    ).toEqual([]);
    expect(problems("Alex Williamson (2006-01-23 15:52):", "GARTs are similar to IOMMUs [...] VGA and serial consoles")).toEqual([
      expect.stringMatching(/no post/),
    ]);
  });
});
