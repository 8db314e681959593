// What one Run did, gathered from its events as they arrive: the RunOutcome that exercise checks
// judge and that a comparison sets side by side. No DOM: Node tests build outcomes the same way.
import type { RunOutcome } from "./checks.js";
import type { RunEvent } from "./run.js";
import type { VariantApplied } from "../common/variant.js";

export class OutcomeBuilder {
  private readonly lines: string[] = [];
  private error: RunOutcome["error"] = null;
  private machines: RunOutcome["machines"] = [];
  private omitted = 0;
  private reported = false;
  /** The reader's line of the error that ended the run, when known. */
  errorLine: number | undefined;
  /** What the run's variant changed (compare runs only). */
  applied: VariantApplied | undefined;

  add(event: RunEvent): void {
    switch (event.type) {
      case "console":
        this.lines.push(event.text);
        break;
      case "error":
        // The runner reports one uncaught error; the first one is the one that ended the run.
        if (this.error === null) this.errorLine = event.line;
        this.error ??= { name: event.name, message: event.message, ...(event.code !== undefined && { code: event.code }) };
        break;
      case "timeout":
        this.error ??= {
          name: "TimeoutError",
          message: `the code ran longer than the ${event.limitMs / 1000} s time limit and was stopped`,
        };
        break;
      case "crash":
        this.error ??= { name: "RunnerError", message: event.message };
        break;
      case "results":
        this.machines = event.machines;
        this.omitted = event.machinesOmitted;
        this.reported = true;
        if (event.applied) this.applied = event.applied;
        break;
    }
  }

  /** Whether the runner reported its machines (it does not after a syntax error or the time limit). */
  get hasResults(): boolean {
    return this.reported;
  }

  /** Machines created beyond those reported. */
  get machinesOmitted(): number {
    return this.omitted;
  }

  outcome(): RunOutcome {
    return { console: [...this.lines], error: this.error, machines: this.machines };
  }
}
