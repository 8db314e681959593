// The highlighter for restored code: every character kept, line by line, and the tokens a reader
// tells apart by colour (keywords, strings, comments, numbers, calls, types) marked.
import { describe, expect, test } from "vitest";
import { highlightLines, type Token } from "../../src/playground/page/highlight-ts.js";

const kinds = (line: Token[]) => line.filter((t) => t.kind).map((t) => `${t.kind}:${t.text}`);

describe("highlightLines", () => {
  test("keeps every character, one token list per line", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the input is source code that holds a template literal
    const code = 'import { x } from "dma-lab";\n\n/* a\n   b */ const n = 0x1f; // end\nconst s = `t\n${n}`;';
    const lines = highlightLines(code);
    expect(lines.map((l) => l.map((t) => t.text).join("")).join("\n")).toBe(code);
    expect(lines).toHaveLength(code.split("\n").length);
  });

  test("marks keywords, strings, comments, numbers, calls and types", () => {
    const [line] = highlightLines('const m = createMachine({ memory: "64 MiB", cpus: 2 }) as Machine; // note');
    expect(kinds(line!)).toEqual([
      "keyword:const",
      "function:createMachine",
      'string:"64 MiB"',
      "number:2",
      "keyword:as",
      "type:Machine",
      "comment:// note",
    ]);
  });

  test("a comment or template string over several lines is marked on each line", () => {
    const lines = highlightLines("/* one\ntwo */ x\n`a\nb`");
    expect(lines.map(kinds)).toEqual([["comment:/* one"], ["comment:two */"], ["string:`a"], ["string:b`"]]);
  });

  test("an unterminated string or comment ends the line or the code, not the page", () => {
    expect(highlightLines('"open\nlet x').map(kinds)).toEqual([['string:"open'], ["keyword:let"]]);
    expect(highlightLines("/* open\nlet x").map(kinds)).toEqual([["comment:/* open"], ["comment:let x"]]);
  });
});
