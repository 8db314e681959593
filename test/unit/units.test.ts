import { describe, expect, it } from "vitest";
import { parseSize, formatSize } from "../../src/sim/units.js";
import { simError, smallMachine } from "./helpers.js";

describe("sizes", () => {
  it("parses binary units and plain numbers", () => {
    expect(parseSize("16 KiB", "x")).toBe(16384);
    expect(parseSize("4 GiB", "x")).toBe(4 * 2 ** 30);
    expect(parseSize("64MiB", "x")).toBe(64 * 2 ** 20);
    expect(parseSize("1.5 KiB", "x")).toBe(1536);
    expect(parseSize(4096, "x")).toBe(4096);
  });

  it("rejects decimal units, junk and fractions of a byte with a message naming the field", () => {
    expect(simError(() => parseSize("16 KB", "memory")).message).toMatch(/memory .*"16 KB".*use binary units: KiB/);
    expect(simError(() => parseSize("lots", "memory")).code).toBe("INVALID_SIZE");
    expect(simError(() => parseSize(1.5, "size")).message).toMatch(/whole/);
    expect(simError(() => parseSize(-4, "size")).message).toMatch(/non-negative/);
  });

  it("formats sizes the way readers write them", () => {
    expect(formatSize(16384)).toBe("16 KiB");
    expect(formatSize(3 * 2 ** 30)).toBe("3 GiB");
    expect(formatSize(100)).toBe("100 bytes");
  });
});

describe("page sizes", () => {
  it("defaults by architecture: ia64 16 KiB, x86_64 4 KiB", () => {
    expect(smallMachine().pageSize).toBe(16384);
    expect(smallMachine({ arch: "x86_64" }).pageSize).toBe(4096);
  });

  it("accepts any power of two from 4 KiB to 64 KiB", () => {
    for (const size of ["4 KiB", "8 KiB", "16 KiB", "32 KiB", "64 KiB"]) expect(() => smallMachine({ pageSize: size })).not.toThrow();
  });

  it("rejects other page sizes with the exact rule", () => {
    const error = simError(() => smallMachine({ pageSize: 3000 }));
    expect(error.code).toBe("INVALID_PAGE_SIZE");
    expect(error.message).toBe("pageSize must be a power of two between 4 KiB and 64 KiB, got 3000");
    expect(simError(() => smallMachine({ pageSize: "128 KiB" })).code).toBe("INVALID_PAGE_SIZE");
  });
});
