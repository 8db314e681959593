// Runner side: after a run, the runner stays as the run's session and answers the stepper's
// requests for a machine at an event. The simulator's methods and JSON.stringify are taken when
// the runner loads, before the reader's code runs: code that later replaces Machine.prototype's
// methods or JSON.stringify does not change how the runner answers.
import { Machine } from "../../sim/index.js";
import { PartPacker, type StepAnswer, type StepRequest } from "../common/step-protocol.js";

const snapshotAt = Machine.prototype.snapshot;
const changesAt = Machine.prototype.changes;
const statsAt = Machine.prototype.stats;
const stringify = JSON.stringify.bind(JSON) as (value: unknown) => string;
const parse = JSON.parse.bind(JSON) as (text: string) => unknown;

export interface StepSession {
  answer(request: StepRequest): StepAnswer;
}

/** A session over the run's machines (in creation order). */
export function createStepSession(machines: readonly Machine[]): StepSession {
  const packer = new PartPacker(stringify);
  return {
    answer: ({ id, machine, at }) => {
      const m = machines[machine];
      if (!m) return { type: "step", id, error: `the run has no machine ${machine + 1}` };
      try {
        const snapshot = snapshotAt.call(m, { at });
        const { snapshotJson, parts } = packer.pack(snapshot);
        // Through JSON: what crosses is plain data, whatever the objects were.
        const changes = parse(stringify(changesAt.call(m, { at }))) as ReturnType<typeof changesAt>;
        const stats = parse(stringify(statsAt.call(m, { at }))) as ReturnType<typeof statsAt>;
        return { type: "step", id, snapshotJson, parts, changes, stats };
      } catch (err) {
        return { type: "step", id, error: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}
