// Run's type-stripping must keep the reader's lines where they were, or error lines lie.
import { describe, expect, test } from "vitest";
import { compile } from "../../src/playground/worker/compile.js";

describe("compile (sucrase, for Run)", () => {
  test("strips types and turns the dma-lab import into require, line for line", () => {
    const source = [
      "import {",
      "  createMachine,",
      "  type SimError,",
      '} from "dma-lab";',
      "interface Point { x: number }",
      "const p: Point = { x: 1 } as Point;",
      "console.log(createMachine, p);",
    ].join("\n");
    const result = compile(source);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const lines = result.js.split("\n");
    expect(lines).toHaveLength(7);
    expect(lines[3]).toContain("require('dma-lab')");
    expect(lines[5]).toMatch(/^const p = \{ x: 1 \}\s*;$/);
    expect(lines[6]).toContain("console.log(");
  });

  test("keeps modern syntax as written", () => {
    const result = compile("const a = b?.c ?? 1;\nclass K { #x = 1 }\n");
    expect(result).toEqual({ ok: true, js: expect.stringContaining("b?.c ?? 1") });
  });

  test("reports a syntax error with its line", () => {
    expect(compile("const ok = 1;\nconst broken = ;\n")).toEqual({
      ok: false,
      message: expect.stringMatching(/Unexpected token/),
      line: 2,
    });
  });
});
