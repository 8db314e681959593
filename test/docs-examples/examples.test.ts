// Every code sample on a docs page runs here against the simulator, and its output is checked.
// Samples live in src/examples/<name>.ts (pages import them with `?raw` into <Playground>);
// the output a reader should see is src/examples/<name>.expected.txt. They run through the same
// compile step, function wrapper and machine recorder as the playground's runner worker
// (run-example.ts).
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { runExample } from "./run-example.js";

const EXAMPLES = new URL("../../src/examples/", import.meta.url).pathname;
const DOCS = new URL("../../docs/", import.meta.url).pathname;

const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith(".ts"))
  .sort();

function mdxFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? mdxFiles(join(dir, d.name)) : d.name.endsWith(".mdx") ? [join(dir, d.name)] : [],
  );
}

describe("docs examples", () => {
  it("there are examples to check", () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  for (const file of examples) {
    it(`${file} prints what its .expected.txt says`, async () => {
      const source = readFileSync(join(EXAMPLES, file), "utf8");
      const expectedPath = join(EXAMPLES, file.replace(/\.ts$/, ".expected.txt"));
      // `npm run examples:update` records the current output (then read the diff before committing).
      if (process.env.UPDATE_EXAMPLES) writeFileSync(expectedPath, `${(await runExample(source)).lines.join("\n")}\n`);
      let expected: string;
      try {
        expected = readFileSync(expectedPath, "utf8");
      } catch {
        throw new Error(`${file} has no ${basename(expectedPath)}: every docs example needs its expected output`);
      }
      const { lines } = await runExample(source);
      expect(lines.join("\n").trimEnd()).toBe(expected.trimEnd());
    });
  }

  it("every docs page takes its runnable code from src/examples (no unchecked dma-lab snippets)", () => {
    for (const page of mdxFiles(DOCS)) {
      const text = readFileSync(page, "utf8");
      const fences = [...text.matchAll(/```(?:ts|typescript|js|javascript)[^\n]*\n([\s\S]*?)```/g)];
      for (const fence of fences) {
        expect(fence[1], `${basename(page)} has an inline snippet using the simulator; move it to src/examples/`).not.toMatch(
          /dma-lab|createMachine/,
        );
      }
      for (const imported of text.matchAll(/from ['"](?:\.\.\/)+src\/examples\/([\w-]+\.ts)\?raw['"]/g)) {
        expect(examples, `${basename(page)} imports a missing example`).toContain(imported[1]);
      }
    }
  });
});
