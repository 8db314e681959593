import { describe, expect, test } from "vitest";
import { formatArgs } from "../../src/playground/worker/format.js";

describe("formatArgs (console lines)", () => {
  test("strings as they are, other values readably", () => {
    expect(formatArgs(["bus", 0x1000, 10n, true, null, undefined])).toBe("bus 4096 10n true null undefined");
    expect(formatArgs([{ a: 1, b: ["x", 2] }])).toBe('{ a: 1, b: ["x", 2] }');
    expect(formatArgs([new Uint8Array([1, 2, 3])])).toBe("Uint8Array(3) [1, 2, 3]");
    expect(formatArgs([new RangeError("no")])).toBe("RangeError: no");
    expect(formatArgs([{}])).toBe("{}");
  });

  test("cycles and functions do not break it", () => {
    const o: Record<string, unknown> = { name: "o" };
    o.self = o;
    expect(formatArgs([o])).toBe('{ name: "o", self: [Circular] }');
    expect(formatArgs([function mapSingle() {}])).toBe("[Function mapSingle]");
  });
});
