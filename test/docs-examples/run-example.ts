// Runs one docs example the way the playground's runner worker does: the same compile step and
// function wrapper, "dma-lab" resolved to the simulator through the same machine recorder. Gives
// the console lines a reader would see (what .expected.txt records) and the RunOutcome an
// exercise check judges.
import { compile } from "../../src/playground/compile.js";
import { formatArgs } from "../../src/playground/format.js";
import { createRecorder } from "../../src/playground/recorder.js";
import { buildUserFunction, headerLines } from "../../src/playground/user-function.js";
import type { RunOutcome } from "../../src/playground/checks.js";

export interface ExampleRun {
  /** Console output, then `Uncaught <name>: <message>` if the code threw: the page's console. */
  lines: string[];
  /** What the run did, as `CHECKS` sees it. */
  outcome: RunOutcome;
}

const LEVELS = ["log", "info", "warn", "error", "debug"] as const;

export async function runExample(source: string): Promise<ExampleRun> {
  const compiled = compile(source);
  if (!compiled.ok) {
    const error = { name: "SyntaxError", message: compiled.message };
    return { lines: [`SyntaxError: ${compiled.message}`], outcome: { console: [], error, machines: [] } };
  }
  // As in the runner worker: deep simulator calls must not push the reader's frame off the stack.
  (Error as { stackTraceLimit?: number }).stackTraceLimit = 100;
  const printed: string[] = [];
  let error: RunOutcome["error"] = null;
  const recorder = createRecorder(await headerLines());
  const saved = LEVELS.map((level) => console[level]);
  for (const level of LEVELS) console[level] = (...args: unknown[]) => void printed.push(formatArgs(args));
  try {
    const module = { exports: {} as Record<string, unknown> };
    await buildUserFunction(compiled.js)((name) => {
      if (name === "dma-lab") return recorder.module;
      throw new Error(`Cannot find module '${name}'`);
    }, module.exports, module);
  } catch (thrown) {
    const e = thrown as { name?: string; message?: string; code?: unknown };
    error = { name: e.name ?? "Error", message: e.message ?? String(thrown), ...(typeof e.code === "string" && { code: e.code }) };
  } finally {
    LEVELS.forEach((level, i) => (console[level] = saved[i]!));
    recorder.stop();
  }
  const lines = error ? [...printed, `Uncaught ${error.name}: ${error.message}`] : printed;
  return { lines, outcome: { console: printed, error, machines: recorder.reports() } };
}

