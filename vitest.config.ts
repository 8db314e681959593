// One `vitest run` covers everything: unit/property tests of the simulator in Node, and site
// tests (built-output checks and real Chromium via playwright-core) one file at a time.
import { defineConfig } from "vitest/config";

const ci = Boolean(process.env.CI);

export default defineConfig({
  test: {
    // CI cannot read vitest's console summary; it reads this JSON report (see .ci/run).
    reporters: ci ? ["default", "json"] : ["default"],
    outputFile: ci ? { json: "test-results/vitest.json" } : undefined,
    projects: [
      {
        extends: true,
        resolve: { alias: { "dma-lab": new URL("./src/sim/index.ts", import.meta.url).pathname } },
        test: {
          name: "unit",
          environment: "node",
          include: [
            "test/unit/**/*.test.ts",
            "test/property/**/*.test.ts",
            "test/docs-examples/**/*.test.ts",
            "test/playground/**/*.test.ts",
            "test/render/**/*.test.ts",
          ],
          benchmark: { include: ["test/bench/**/*.bench.ts"] },
          setupFiles: ["test/support/fast-check-seed.ts"],
          // Property tests take 1-3 s alone; on a loaded 2-core machine the default 5 s guard
          // against hangs fires on slowness, not on a hang.
          testTimeout: 20_000,
          // Lets the benchmark force a GC before measuring heap growth.
          execArgv: ["--expose-gc"],
        },
      },
      {
        extends: true,
        test: {
          name: "site",
          environment: "node",
          include: ["test/build/**/*.test.ts", "test/browser/**/*.test.ts"],
          // Each browser test file runs its own preview server and Chromium; two at once on a
          // 2-core CI machine only makes both slow and flaky.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Benchmarks belong to the unit project; without this they would run twice.
          benchmark: { include: [] },
          // Run after the unit project, not beside it: Chromium and the preview server would
          // otherwise compete with CPU-heavy property tests on a 2-core machine.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
