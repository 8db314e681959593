// Exercise checks: pure functions from what a run did (console, uncaught error, machines) to a
// verdict. A page names one with `<Playground check="<id>">`; the embed loads this module only
// then, after a Run. Pure data in, data out: the same checks run in Node tests.
//
// The exercise checks (ids = the names of src/examples/exercise-<id>.ts) judge behaviour the
// reader can see in the trace, not the shape of the code: any fix that makes the machine behave
// passes. Each also insists on what the exercise is about still happening (the packet still
// arrives, the pool still fills), so deleting the scenario does not count as fixing it.
import type { TraceEvent } from "../../sim/index.js";
import type { MachineReport } from "../common/protocol.js";

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

type Check = (outcome: RunOutcome) => CheckVerdict;

const fail = (message: string): CheckVerdict => ({ pass: false, message });
const pass = (message: string): CheckVerdict => ({ pass: true, message });

/** Every event of every reported machine, in run order per machine. */
function allEvents(outcome: RunOutcome): TraceEvent[] {
  return outcome.machines.flatMap((m) => m.trace);
}

function eventsOf(outcome: RunOutcome, kind: TraceEvent["kind"], code?: string): TraceEvent[] {
  return allEvents(outcome).filter((e) => e.kind === kind && (code === undefined || e.code === code));
}

/** How many events of `kind` the machines counted (stats count events the trace did not keep). */
function countOf(outcome: RunOutcome, kind: TraceEvent["kind"]): number {
  return outcome.machines.reduce((n, m) => n + (m.stats.events[kind] ?? 0), 0);
}

/** Bytes devices moved by DMA (reads of memory and writes to it). */
function deviceBytes(outcome: RunOutcome, kind: "dma-read" | "dma-write"): number {
  return eventsOf(outcome, kind).reduce((n, e) => n + (e.bytes ?? 0), 0);
}

/** The first line of a trace message (dma-debug's D15 has a second line of details). */
const firstLine = (e: TraceEvent): string => e.message.split("\n")[0]!;

/** Where an event came from, when the playground located it. */
const at = (e: TraceEvent): string => (e.line === undefined ? "" : ` (line ${e.line})`);

/** The run must have ended normally and built a machine before anything else can be judged. */
function ranToEnd(outcome: RunOutcome): CheckVerdict | null {
  const { error } = outcome;
  if (error?.code === "DMA_MAPPING_ERROR_USED") {
    return fail(
      `A device was handed DMA_MAPPING_ERROR: a mapping failed and the driver used its result anyway (${error.message}). Check every mapping with dma.mappingError(bus) before giving the address to the device.`,
    );
  }
  if (error?.code === "KERNEL_PANIC") return fail(`The kernel stopped: ${error.message.split("\n")[0]}`);
  if (error) return fail(`The run stopped with ${error.name}: ${error.message}. Fix that first.`);
  if (outcome.machines.length === 0) return fail("The code created no machine, so there is nothing to check.");
  return null;
}

/** Stray DMA, DMA to frames no mapping covers, IOMMU faults and panics: always wrong. */
function memoryDamage(outcome: RunOutcome): CheckVerdict | null {
  const stray = eventsOf(outcome, "stray-dma")[0];
  if (stray) return fail(`A device still reaches memory its driver did not map for it${at(stray)}: ${stray.message}`);
  const unmapped = eventsOf(outcome, "unmapped-dma")[0];
  if (unmapped) return fail(`A device still touches memory that no live mapping covers${at(unmapped)}: ${unmapped.message}`);
  const fault = eventsOf(outcome, "iommu-fault")[0];
  if (fault) return fail(`The IOMMU blocked a DMA${at(fault)}: ${fault.message}`);
  const panic = eventsOf(outcome, "panic")[0];
  if (panic) return fail(`The kernel stopped${at(panic)}: ${firstLine(panic)}`);
  return null;
}

/** dma-debug findings, then mappings still live when the run ended (with or without m.finish()). */
function apiHygiene(outcome: RunOutcome): CheckVerdict | null {
  const leak = eventsOf(outcome, "dma-debug", "D15")[0];
  if (leak)
    return fail(
      `Mappings are still live when the driver lets go of the device${at(leak)}: ${firstLine(leak)}. Every successful map needs its unmap, on every path.`,
    );
  const report = eventsOf(outcome, "dma-debug")[0];
  if (report) return fail(`dma-debug still reports a misuse${at(report)}: ${firstLine(report)}`);
  const live = outcome.machines.flatMap((m) => m.snapshot?.mappings ?? []);
  if (live.length > 0) {
    const first = live[0]!;
    return fail(
      `${live.length} DMA mapping${live.length === 1 ? " is" : "s are"} still live at the end of the run (the first: ${first.size} bytes at bus 0x${first.busAddress.toString(16)} for ${first.device}). Unmap ${live.length === 1 ? "it" : "them"} once the device is done.`,
    );
  }
  return null;
}

/** The first verdict that fails, else null. */
function firstFailure(...verdicts: (() => CheckVerdict | null)[]): CheckVerdict | null {
  for (const verdict of verdicts) {
    const v = verdict();
    if (v) return v;
  }
  return null;
}

/** The packet exercise-sync-direction's NIC receives; the reader's header line must show it. */
const PACKET = "GET /index.html";

/** Every exercise check, by the id pages use in `check="..."`. */
export const CHECKS: Record<string, Check> = {
  /** The device's DMA lands only in memory its driver domain may reach: no stray DMA. */
  "no-stray-dma": (outcome) => {
    if (outcome.error)
      return { pass: false, message: `The run stopped with ${outcome.error.name}: ${outcome.error.message}. Fix that first.` };
    if (outcome.machines.length === 0) return { pass: false, message: "The code created no machine, so there is no DMA to check." };
    const strays = outcome.machines.flatMap((m) => m.trace.filter((e) => e.kind === "stray-dma"));
    if (strays.length > 0) {
      return { pass: false, message: `Still ${strays.length} stray DMA: ${strays[0]!.message}` };
    }
    return { pass: true, message: "No stray DMA: every device access landed in memory its driver domain may reach." };
  },

  /** exercise-stray-dma: the NIC's packet lands in dom0's own rx buffer (a P2M dom0 must translate). */
  "stray-dma": (outcome) =>
    firstFailure(
      () => ranToEnd(outcome),
      () => memoryDamage(outcome),
      () =>
        countOf(outcome, "dma-write") === 0
          ? fail("The NIC never wrote anything: keep the packet arriving (nic.write) so there is a DMA to check.")
          : null,
      () => apiHygiene(outcome),
    ) ?? pass("The packet landed in dom0's rx buffer: the bus address the DMA-API gave the NIC is the machine address of that buffer."),

  /** exercise-leaked-mapping: packets still go out, and nothing is mapped when the run ends. */
  "leaked-mapping": (outcome) =>
    firstFailure(
      () => ranToEnd(outcome),
      () => memoryDamage(outcome),
      () => apiHygiene(outcome),
      () => (countOf(outcome, "dma-read") === 0 ? fail("The NIC sent no packet at all: keep transmitting, just without leaking.") : null),
    ) ?? pass("No leaks: every mapping transmit() made was unmapped, on the queue-full path too."),

  /** exercise-unchecked-error: the pool still fills, and the driver notices every failed mapping. */
  "unchecked-error": (outcome) =>
    firstFailure(
      () => ranToEnd(outcome),
      () => {
        const unchecked = eventsOf(outcome, "dma-debug", "D8")[0];
        return unchecked
          ? fail(
              `A mapping was used without asking dma.mappingError() first${at(unchecked)}: ${firstLine(unchecked)}. Check every mapping, the ones that succeed too.`,
            )
          : null;
      },
      () => memoryDamage(outcome),
      () => apiHygiene(outcome),
      () =>
        countOf(outcome, "mapping-error") === 0
          ? fail(
              "No mapping failed in this run, so it does not show that the driver copes. Keep the ring at 8 buffers and the pool at 256 KiB.",
            )
          : null,
      () =>
        countOf(outcome, "dma-write") === 0
          ? fail("No packet arrived: post the buffers that did map, and let the NIC write into them.")
          : null,
    ) ??
    pass(
      "The pool filled up and the driver noticed: the failed mappings never reached the NIC, and every buffer it did post was unmapped.",
    ),

  /** exercise-two-pages: the whole 32 KiB block reaches the disk, however it is split or bounced. */
  "two-pages": (outcome) =>
    firstFailure(
      () => ranToEnd(outcome),
      () => {
        const failed = eventsOf(outcome, "mapping-error")[0];
        return failed ? fail(`A mapping still fails${at(failed)}: ${failed.message}`) : null;
      },
      () => memoryDamage(outcome),
      () => {
        const read = deviceBytes(outcome, "dma-read");
        return read < 32 * 1024
          ? fail(`The disk read ${read} bytes; the block is 32768. Let the device fetch the whole block (every segment, if you split it).`)
          : null;
      },
      () => apiHygiene(outcome),
    ) ?? pass("The whole block reached the disk, in machine-contiguous pieces or through a bounce buffer."),

  /** exercise-tagged-bounce: a 24-bit disk still gets its sectors, without kmap() of an unmapped page. */
  "tagged-bounce": (outcome) =>
    firstFailure(
      () => ranToEnd(outcome),
      () => {
        const failed = eventsOf(outcome, "kmap", "KMAP_FAILED")[0];
        return failed ? fail(`The block layer still cannot kmap() the domU's page${at(failed)}: ${failed.message}`) : null;
      },
      () => {
        const masks = outcome.machines.flatMap((m) => m.snapshot?.devices.map((d) => d.dmaMask) ?? []);
        return masks.some((bits) => bits <= 24)
          ? null
          : fail(
              "Keep the 24-bit disk: with a disk that reaches every page nothing bounces, and the exercise is about the case that does.",
            );
      },
      () => {
        const failed = eventsOf(outcome, "mapping-error")[0];
        return failed ? fail(`A mapping failed${at(failed)}: ${failed.message}`) : null;
      },
      () => memoryDamage(outcome),
      () => {
        const read = deviceBytes(outcome, "dma-read");
        return read < 8 * 512 ? fail(`The disk read ${read} bytes; the 8 sectors are 4096. The write has not reached it.`) : null;
      },
    ) ?? pass("The 8 sectors reached the 24-bit disk: the page the block layer had to bounce was one it could kmap()."),

  /** exercise-sync-direction: the CPU gets the packet at the sync, and dma-debug is quiet. */
  "sync-direction": (outcome) =>
    firstFailure(
      () => ranToEnd(outcome),
      () => {
        const report = eventsOf(outcome, "dma-debug").find((e) => e.code !== "D15");
        return report
          ? fail(`dma-debug still reports${at(report)}: ${firstLine(report)}. A sync takes the direction the buffer was mapped with.`)
          : null;
      },
      () =>
        countOf(outcome, "bounce-copy") === 0
          ? fail("Nothing was bounced: keep swiotlb: { force: true }, where the direction decides what gets copied.")
          : null,
      // The symptom the reader sees: the header the CPU read. (The copy-back at unmap comes too late for it.)
      () =>
        outcome.console.some((line) => line.includes(PACKET))
          ? null
          : fail(
              `The CPU still does not see the packet ("${PACKET}") when it reads the header: sync the buffer for the CPU, with the direction it was mapped with, before reading it.`,
            ),
      () => memoryDamage(outcome),
      () => apiHygiene(outcome),
    ) ?? pass("The sync copied the packet out of the bounce buffer before the CPU read it, and dma-debug has nothing to say."),
};
