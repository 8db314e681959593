// The runner's warm-up (warm-up.ts) runs simulator code in the worker before the reader's Run:
// it must work (every backend's step runs without an error), stop when a Run is waiting, and
// change nothing the reader's run shows.
import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { warmUp } from "../../src/playground/worker/warm-up.js";
import { runInNodeDetailed } from "../support/run-in-node.js";

const starter = readFileSync(new URL("../../src/examples/playground-starter.ts", import.meta.url), "utf8");

/** What a reader sees of a run: its messages, with durations (which vary) left out. */
async function seen(code: string): Promise<unknown[]> {
  const { messages } = await runInNodeDetailed(code);
  return messages.map((m) => (m.type === "done" ? { ...m, durationMs: 0 } : m));
}

test("every warm-up step runs without an error", async () => {
  const errors: string[] = [];
  let steps = 0;
  await warmUp(
    () => (steps++, false),
    (message) => errors.push(message),
  );
  expect(errors).toEqual([]);
  expect(steps).toBe(6);
});

test("a waiting Run stops the warm-up before its next step", async () => {
  let asked = 0;
  await warmUp(() => ++asked > 1);
  expect(asked).toBe(2);
});

test("a run after the warm-up shows exactly what a run without it shows", async () => {
  const before = await seen(starter);
  await warmUp(() => false);
  expect(await seen(starter)).toEqual(before);
});
