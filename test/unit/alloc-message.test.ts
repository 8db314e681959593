// Why an allocation failed, in words that point at the real cause: a request bigger than the whole
// domain, a domain that has too little free, or free memory that is not in one piece.
import { describe, expect, test } from "vitest";
import { createMachine } from "../../src/sim/index.js";

const domain = () => {
  const m = createMachine({ arch: "ia64", memory: "1 GiB" });
  return m.createDomain({ name: "domU1", mode: "P2M", memory: "256 MiB" });
};

describe("alloc that cannot be satisfied", () => {
  test("a request larger than the domain says it exceeds the domain", () => {
    expect(() => domain().alloc("64 GiB")).toThrow("domU1: cannot allocate 64 GiB: the request exceeds the domain's 256 MiB");
  });

  test("a request larger than what is free says how much is free", () => {
    const d = domain();
    d.alloc("200 MiB");
    expect(() => d.alloc("100 MiB")).toThrow(/cannot allocate 100 MiB: only \d+(\.\d+)? MiB of its 256 MiB is free$/);
  });
});
