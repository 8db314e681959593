// The runner's work for one request, apart from the Worker around it (runner-worker.ts), so Node
// tests run reader code exactly as the page does: compile, the dma-lab module (recording machines,
// applying a comparison's variant), uncaught errors with the reader's line, and the results.
import { compile } from './compile';
import { createRecorder, MACHINE_REPORT_LIMIT, type Recorder } from './recorder';
import { buildUserFunction, headerLines, readerLine } from './user-function';
import { withVariant } from './variant-module';
import type { VariantApplied } from './variant';
import type { RunRequest, RunnerMessage } from './protocol';

export type Post = (msg: RunnerMessage) => void;

/** What `import ... from "dma-lab"` resolves to: the simulator, recording the reader's machines. */
function requireFrom(module: Recorder['module']): (name: string) => unknown {
  return (name) => {
    if (name === 'dma-lab') return module;
    throw new Error(`Cannot find module '${name}': the playground provides only "dma-lab".`);
  };
}

function postResults(post: Post, recorder: Recorder, applied: VariantApplied | undefined): void {
  recorder.stop();
  try {
    const machines = recorder.reports();
    const machinesOmitted = Math.max(0, recorder.machines.length - MACHINE_REPORT_LIMIT);
    post({ type: 'results', machines, machinesOmitted, ...(applied && { applied }) });
  } catch (err) {
    // A report that cannot be cloned must not hide the run's own output.
    post({ type: 'console', level: 'warn', text: `Results unavailable: ${err instanceof Error ? err.message : String(err)}` });
  }
}

async function reportError(post: Post, err: unknown): Promise<void> {
  const isObject = typeof err === 'object' && err !== null;
  const name = isObject && typeof (err as Error).name === 'string' ? (err as Error).name : 'Error';
  const message = isObject && 'message' in err ? String((err as Error).message) : String(err);
  const code = isObject && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : undefined;
  const line = await readerLine(err);
  post({ type: 'error', name, message, ...(line !== undefined && { line }), ...(code !== undefined && { code }) });
}

/**
 * Runs one request: compiles the code, runs it against the simulator (under the request's variant,
 * if any) and posts what happened, ending with `done`. Console output is the caller's business
 * (the worker turns `console.*` into messages before calling this).
 */
export async function runRequest({ code, variant }: RunRequest, post: Post): Promise<void> {
  const compiled = compile(code);
  if (!compiled.ok) {
    post({ type: 'error', name: 'SyntaxError', message: compiled.message, ...(compiled.line !== undefined && { line: compiled.line }) });
    post({ type: 'done' });
    return;
  }
  let fn;
  try {
    fn = buildUserFunction(compiled.js);
  } catch (err) {
    // A syntax error sucrase let through (it does not check everything V8 does).
    await reportError(post, err);
    post({ type: 'done' });
    return;
  }
  const recorder = createRecorder(await headerLines());
  // A comparison's variant: overrides applied to what the code creates (see variant-module.ts).
  const { module: sim, applied } = variant ? withVariant(recorder.module, variant) : { module: recorder.module, applied: undefined };
  post({ type: 'started' });
  const module = { exports: {} as Record<string, unknown> };
  try {
    await fn(requireFrom(sim), module.exports, module);
  } catch (err) {
    await reportError(post, err);
  }
  postResults(post, recorder, applied);
  post({ type: 'done' });
}
