// Runs one docs example with the playground's own runner (runner-core.ts, through the shared Node
// harness): the console lines a reader would see (what .expected.txt records) and the
// RunOutcome an exercise check judges.
import type { RunOutcome } from "../../src/playground/page/checks.js";
import { runInNodeDetailed } from "../support/run-in-node.js";

export interface ExampleRun {
  /** Console output, then `Uncaught <name>: <message>` if the code threw: the page's console. */
  lines: string[];
  /** What the run did, as `CHECKS` sees it. */
  outcome: RunOutcome;
}

export async function runExample(source: string): Promise<ExampleRun> {
  const { builder, compileError } = await runInNodeDetailed(source);
  const outcome = builder.outcome();
  if (compileError) return { lines: [`SyntaxError: ${compileError.message}`], outcome };
  const { error } = outcome;
  const lines = error ? [...outcome.console, `Uncaught ${error.name}: ${error.message}`] : outcome.console;
  return { lines, outcome };
}
