// Errors must point at the reader's line, whatever header the engine puts before the body.
import { describe, expect, test } from "vitest";
import { compile } from "../../src/playground/worker/compile.js";
import { buildUserFunction, readerLine } from "../../src/playground/worker/user-function.js";

async function lineOfThrow(source: string): Promise<number | undefined> {
  const compiled = compile(source);
  if (!compiled.ok) throw new Error(compiled.message);
  const fn = buildUserFunction(compiled.js);
  try {
    await fn(
      () => ({
        helper: () => {
          throw new Error("from a library");
        },
      }),
      {},
      { exports: {} },
    );
  } catch (err) {
    return readerLine(err);
  }
  throw new Error("did not throw");
}

describe("readerLine", () => {
  test("a throw on line 1", async () => {
    expect(await lineOfThrow('throw new Error("one");')).toBe(1);
  });

  test("a throw after imports and types, inside a function", async () => {
    const source = [
      'import { helper } from "dma-lab";',
      "type T = { n: number };",
      "function f(t: T): number {",
      '  if (t.n > 0) throw new TypeError("bad " + t.n);',
      "  return t.n;",
      "}",
      "f({ n: 2 });",
    ].join("\n");
    expect(await lineOfThrow(source)).toBe(4);
  });

  test("an error thrown inside a library names the reader line that called it", async () => {
    expect(await lineOfThrow('import { helper } from "dma-lab";\n\nhelper();\n')).toBe(3);
  });

  test("top-level await works, and lines after it still map", async () => {
    expect(await lineOfThrow('await Promise.resolve();\nawait null;\nthrow new Error("late");\n')).toBe(3);
  });

  test("no line for values without a stack", async () => {
    expect(await readerLine("just a string")).toBeUndefined();
  });
});
