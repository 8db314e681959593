// Exercises on docs pages: a prediction's guess is judged leniently, and every check or prediction
// a page asks for exists and can be answered.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { CHECKS } from "../../src/playground/page/checks.js";
import { judgeGuess } from "../../src/playground/page/exercise.js";

const DOCS = new URL("../../docs/", import.meta.url).pathname;

function mdxFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? mdxFiles(join(dir, d.name)) : d.name.endsWith(".mdx") ? [join(dir, d.name)] : [],
  );
}

/** Every `<Playground ... />` tag of every page, with its page. */
const embeds = mdxFiles(DOCS).flatMap((file) =>
  [...readFileSync(file, "utf8").matchAll(/<Playground\b[\s\S]*?\/>/g)].map((m) => ({ file, tag: m[0] })),
);

describe("judgeGuess", () => {
  test("case, spacing and number formatting do not matter", () => {
    expect(judgeGuess(" 2 ", "2")).toBe(true);
    expect(judgeGuess("2.0", "2")).toBe(true);
    expect(judgeGuess("1,024", "1024")).toBe(true);
    expect(judgeGuess("Stray  DMA", "stray dma")).toBe(true);
    expect(judgeGuess("3", "2")).toBe(false);
    expect(judgeGuess("", "0")).toBe(false);
    expect(judgeGuess("two", "2")).toBe(false);
  });
});

describe("exercises on the docs pages", () => {
  test("there are some (the exercises page)", () => {
    expect(embeds.some((e) => /\bcheck=/.test(e.tag))).toBe(true);
    expect(embeds.some((e) => /\bpredict=/.test(e.tag))).toBe(true);
  });

  test("every check a page names exists", () => {
    const ids = embeds.flatMap((e) => [...e.tag.matchAll(/\bcheck="([^"]+)"/g)].map((m) => ({ file: e.file, id: m[1]! })));
    for (const { file, id } of ids) expect(Object.keys(CHECKS), `${file} names check "${id}"`).toContain(id);
  });

  test("every prediction with choices offers its answer", () => {
    for (const { file, tag } of embeds) {
      const answer = /\banswer:\s*"([^"]*)"/.exec(tag)?.[1];
      const choices = /\bchoices:\s*\[([^\]]*)\]/.exec(tag)?.[1];
      if (answer === undefined || choices === undefined) continue;
      const list = [...choices.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
      expect(
        list.some((c) => judgeGuess(c, answer)),
        `${file}: answer "${answer}" is not among ${JSON.stringify(list)}`,
      ).toBe(true);
    }
  });
});
