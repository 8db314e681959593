// Exercise checks: pure functions from what a run did (console, uncaught error, machines) to a
// verdict. A page names one with `<Playground check="<id>">`; the embed loads this module only
// then, after a Run. Pure data in, data out: the same checks run in Node tests.
import type { MachineReport } from './protocol';

/** What one Run did, as an exercise check sees it. */
export interface RunOutcome {
  /** Console lines, in order (every level). */
  console: string[];
  /** The uncaught error that ended the run (or the time limit, or a runner crash); null if none. */
  error: { name: string; message: string; code?: string } | null;
  /** The machines the run created, as the results views get them. */
  machines: MachineReport[];
}

/** A check's answer: `message` says why it passed, or what is still wrong. */
export interface CheckVerdict {
  pass: boolean;
  message: string;
}

/** Every exercise check, by the id pages use in `check="..."`. */
export const CHECKS: Record<string, (outcome: RunOutcome) => CheckVerdict> = {
  /** The device's DMA lands only in memory its driver domain may reach: no stray DMA. */
  'no-stray-dma': (outcome) => {
    if (outcome.error) return { pass: false, message: `The run stopped with ${outcome.error.name}: ${outcome.error.message}. Fix that first.` };
    if (outcome.machines.length === 0) return { pass: false, message: 'The code created no machine, so there is no DMA to check.' };
    const strays = outcome.machines.flatMap((m) => m.trace.filter((e) => e.kind === 'stray-dma'));
    if (strays.length > 0) {
      return { pass: false, message: `Still ${strays.length} stray DMA: ${strays[0]!.message}` };
    }
    return { pass: true, message: 'No stray DMA: every device access landed in memory its driver domain may reach.' };
  },
};
