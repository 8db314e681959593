// The exercises page (docs/exercises.mdx): each exercise is src/examples/exercise-<id>.ts (the
// broken code the reader starts from) with a reference fix exercise-<id>.solution.ts, judged by
// CHECKS[<id>] from src/playground/page/checks.ts. Both run here exactly as the playground runs them
// (run-example.ts), and the check must fail on the starting code and pass on the fix: a check
// that passes on broken code teaches nothing, one that fails on the fix is a trap.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CHECKS } from "../../src/playground/page/checks.js";
import type { RunOutcome } from "../../src/playground/page/checks.js";
import { runExample } from "./run-example.js";

const EXAMPLES = new URL("../../src/examples/", import.meta.url).pathname;
const DOCS = new URL("../../docs/", import.meta.url).pathname;

const files = readdirSync(EXAMPLES);
const exercises = files
  .map((f) => /^exercise-([\w-]+?)\.ts$/.exec(f)?.[1])
  .filter((id): id is string => id !== undefined && !id.endsWith(".solution"))
  .sort();

async function outcomeOf(file: string): Promise<RunOutcome> {
  return (await runExample(readFileSync(join(EXAMPLES, file), "utf8"))).outcome;
}

function pageChecks(): { page: string; id: string }[] {
  return readdirSync(DOCS)
    .filter((f) => f.endsWith(".mdx"))
    .flatMap((page) => [...readFileSync(join(DOCS, page), "utf8").matchAll(/\bcheck="([^"]*)"/g)].map((m) => ({ page, id: m[1]! })));
}

describe("exercises", () => {
  it("there are four to six exercises, each with a reference solution", () => {
    expect(exercises.length).toBeGreaterThanOrEqual(4);
    expect(exercises.length).toBeLessThanOrEqual(6);
    for (const id of exercises) expect(files, `exercise-${id}.ts has no solution`).toContain(`exercise-${id}.solution.ts`);
  });

  it("every solution belongs to an exercise", () => {
    for (const f of files.filter((f) => f.endsWith(".solution.ts"))) {
      expect(exercises, `${f} has no starting code`).toContain(f.replace(/^exercise-/, "").replace(/\.solution\.ts$/, ""));
    }
  });

  it("every check a docs page names exists, and every exercise is on the exercises page with its own check", () => {
    const used = pageChecks();
    for (const { page, id } of used) expect(Object.keys(CHECKS), `${page} uses check="${id}"`).toContain(id);
    const onPage = used.filter((u) => u.page === "exercises.mdx").map((u) => u.id);
    const page = readFileSync(join(DOCS, "exercises.mdx"), "utf8");
    for (const id of exercises) {
      expect(onPage, `exercises.mdx does not check exercise ${id}`).toContain(id);
      expect(page, `exercises.mdx does not import exercise-${id}.ts`).toContain(`src/examples/exercise-${id}.ts?raw`);
      // The fix is for the reader to find: the page never imports it.
      expect(page).not.toContain(`exercise-${id}.solution.ts`);
    }
  });

  for (const id of exercises) {
    describe(id, () => {
      it(`the check fails on the starting code (exercise-${id}.ts) and says what is wrong`, async () => {
        const verdict = CHECKS[id]!(await outcomeOf(`exercise-${id}.ts`));
        expect(verdict.pass).toBe(false);
        expect(verdict.message.length).toBeGreaterThan(20);
      });

      it(`the check passes on the reference fix (exercise-${id}.solution.ts)`, async () => {
        const verdict = CHECKS[id]!(await outcomeOf(`exercise-${id}.solution.ts`));
        expect(verdict, verdict.message).toMatchObject({ pass: true });
      });
    });
  }
});

// What each starting code gets wrong, in the reader's terms: the check must name the actual
// symptom, not fail for an incidental reason (a crash, a missing machine).
describe("exercise checks name the bug", () => {
  const expectations: Record<string, RegExp> = {
    // dom0 is P2M and "direct" hands the NIC a guest-physical address (device.ts: stray-dma).
    "stray-dma": /reaches memory its driver did not map/,
    // dma-debug at driver unbind, kernel/dma/debug.c: "has pending DMA allocations while released".
    "leaked-mapping": /still live when the driver lets go.*pending DMA allocations/,
    // The NIC was given DMA_MAPPING_ERROR (the swiotlb pool filled: "swiotlb buffer is full").
    "unchecked-error": /handed DMA_MAPPING_ERROR.*dma\.mappingError/,
    // p2m cannot map a pseudo-physically contiguous, machine-discontiguous range (range_straddles_page_boundary).
    "two-pages": /mapping still fails.*range_straddles_page_boundary/,
    // blk_queue_bounce kmap()s the page; a tagged foreign page has no mapping (Gerd, 2006-01-25 16:24).
    "tagged-bounce": /cannot kmap\(\).*tagged foreign page/,
    // dma-debug check_sync: "device driver syncs DMA memory with different direction".
    "sync-direction": /syncs DMA memory with different direction/,
  };

  for (const [id, pattern] of Object.entries(expectations)) {
    it(id, async () => {
      expect(exercises).toContain(id);
      expect(CHECKS[id]!(await outcomeOf(`exercise-${id}.ts`)).message).toMatch(pattern);
    });
  }

  // Other fixes a reader may find pass; ways around the bug that are not fixes fail.
  const variants: { id: string; from: "start" | "solution"; edit: [string | RegExp, string]; pass: boolean; says?: RegExp }[] = [
    { id: "stray-dma", from: "start", edit: ['"direct"', '"xen-swiotlb"'], pass: true },
    { id: "stray-dma", from: "start", edit: [/^nic\.write.*$/m, ""], pass: false, says: /never wrote anything/ },
    { id: "leaked-mapping", from: "start", edit: [/^m\.finish\(\);$/m, ""], pass: false, says: /2 DMA mappings are still live at the end/ },
    { id: "unchecked-error", from: "solution", edit: ['"256 KiB"', '"64 MiB"'], pass: false, says: /No mapping failed/ },
    { id: "two-pages", from: "start", edit: ['"p2m"', '"xen-swiotlb"'], pass: true },
    // With an IOMMU, PCI_DMA_BUS_IS_PHYS is 0 and the block layer never bounces (scsi_calculate_bounce_limit).
    { id: "tagged-bounce", from: "start", edit: ['backend: "p2m"', 'backend: "iommu", dom0Mode: "VP"'], pass: true },
    { id: "tagged-bounce", from: "start", edit: ["dmaMask: 24", "dmaMask: 32"], pass: false, says: /Keep the 24-bit disk/ },
    // ia64's PCI_DMA_BUS_IS_PHYS stays 1 under a swiotlb (no merging IOMMU): the block layer still bounces.
    { id: "tagged-bounce", from: "start", edit: ['backend: "p2m"', 'backend: "xen-swiotlb"'], pass: false },
    { id: "sync-direction", from: "start", edit: [/"(TO|FROM)_DEVICE"/g, '"BIDIRECTIONAL"'], pass: true },
    { id: "sync-direction", from: "start", edit: [/^dma\.syncSingleForCpu.*$/m, ""], pass: false, says: /does not see the packet/ },
  ];
  for (const v of variants) {
    it(`${v.id}: ${v.from} code with ${String(v.edit[0])} → ${JSON.stringify(v.edit[1])} ${v.pass ? "passes" : "fails"}`, async () => {
      const file = `exercise-${v.id}${v.from === "solution" ? ".solution" : ""}.ts`;
      const source = readFileSync(join(EXAMPLES, file), "utf8");
      const edited = source.replace(v.edit[0], v.edit[1]);
      expect(edited, "the edit must change the code").not.toBe(source);
      const verdict = CHECKS[v.id]!((await runExample(edited)).outcome);
      expect(verdict.pass, verdict.message).toBe(v.pass);
      if (v.says) expect(verdict.message).toMatch(v.says);
    });
  }

  it("a reader who deletes the scenario does not pass (an empty run, a run without a machine)", () => {
    const empty: RunOutcome = { console: [], error: null, machines: [] };
    for (const id of exercises) expect(CHECKS[id]!(empty).pass, id).toBe(false);
  });
});
