// Page side: the machine at a step, asked of the finished run's runner and kept. Each answer's
// new shared arrays go into the session's part store, so later steps carry only what changed;
// the last STEPS_KEPT answers are kept, and neighbours are asked for ahead, so stepping back and
// forth draws without waiting for the runner.
import type { MachineSnapshot, SnapshotChanges, Stats } from "../../sim/index.js";
import { PartStore, type StepAnswer } from "../common/step-protocol.js";

export interface StepState {
  seq: number;
  snapshot: MachineSnapshot;
  changes: SnapshotChanges;
  stats: Stats;
}

export type StepResult = { ok: true; state: StepState } | { ok: false; message: string };

const STEPS_KEPT = 256;

export class StepSource {
  private readonly parts = new PartStore();
  private readonly kept = new Map<string, Promise<StepResult>>();

  /** `ask`: the runner's answer for machine `index` at event `at` (undefined: the runner is gone). */
  constructor(private readonly ask: (index: number, at: number) => Promise<StepAnswer | undefined>) {}

  at(machine: number, seq: number): Promise<StepResult> {
    const key = `${machine}@${seq}`;
    let result = this.kept.get(key);
    if (result) {
      // Most recently used last.
      this.kept.delete(key);
      this.kept.set(key, result);
      return result;
    }
    // Answers are unpacked in the order they arrive; parts sent earlier are always stored first
    // because the runner answers in order and each answer is unpacked before the next is awaited.
    result = this.ask(machine, seq).then((answer) => this.unpack(answer, seq));
    this.kept.set(key, result);
    if (this.kept.size > STEPS_KEPT) this.kept.delete(this.kept.keys().next().value!);
    return result;
  }

  private unpack(answer: StepAnswer | undefined, seq: number): StepResult {
    if (!answer) return { ok: false, message: "The run’s details are gone: run the code again to step through it." };
    if ("error" in answer) return { ok: false, message: answer.error };
    try {
      return { ok: true, state: { seq, snapshot: this.parts.unpack(answer), changes: answer.changes, stats: answer.stats } };
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
  }
}
