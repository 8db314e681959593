// Wraps compiled reader code in a function and maps a thrown error back to the reader's line.
//
// The code runs as the body of an AsyncFunction (so top-level `await` works). The engine puts
// a header of its own before the body, so a runtime line is off by a few; rather than hard-code
// that engine detail we measure it once by throwing from a body of known shape.

const SOURCE_URL = "dma-lab-playground.ts";
const PARAMS = ["require", "exports", "module"] as const;

type UserFunction = (
  require: (name: string) => unknown,
  exports: Record<string, unknown>,
  module: { exports: Record<string, unknown> },
) => Promise<unknown>;

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...argsAndBody: string[]) => UserFunction;

/** Builds the function; the sourceURL names its stack frames so we can find them. */
export function buildUserFunction(js: string): UserFunction {
  return new AsyncFunction(...PARAMS, `${js}\n//# sourceURL=${SOURCE_URL}`);
}

const FRAME = new RegExp(`${SOURCE_URL.replace(/[.]/g, "\\.")}:(\\d+):(\\d+)`);

/** Line of the innermost reader frame in a stack string, as the engine numbers it. */
function rawLineOf(stack: string): number | undefined {
  const m = FRAME.exec(stack);
  return m ? Number(m[1]) : undefined;
}

/** Line of the innermost reader frame in `err`'s stack, as the engine numbers it. */
function rawLine(err: unknown): number | undefined {
  const stack = (err as { stack?: unknown } | null)?.stack;
  return typeof stack === "string" ? rawLineOf(stack) : undefined;
}

/**
 * The reader's 1-based line in a stack string (Chromium's "at f (url:line:col)" or Firefox's
 * "f@url:line:col"), given the engine's header size from {@link headerLines}.
 */
export function readerLineFromStack(stack: string, header: number): number | undefined {
  const line = rawLineOf(stack);
  return line === undefined || line <= header ? undefined : line - header;
}

/** V8's structured stack frame (Chromium, Node), as `Error.prepareStackTrace` receives it. */
interface CallSite {
  getScriptNameOrSourceURL(): string | null | undefined;
  getLineNumber(): number | null;
}

type V8ErrorConstructor = ErrorConstructor & {
  captureStackTrace?: unknown;
  prepareStackTrace?: (error: Error, sites: CallSite[]) => unknown;
};

/**
 * The reader's 1-based line in the current call stack (the innermost reader frame). On V8 it reads
 * the structured frames: about ten times cheaper than formatting the stack string, which matters
 * when every trace event asks. Elsewhere it parses the string.
 */
export function currentReaderLine(header: number): number | undefined {
  const E = Error as V8ErrorConstructor;
  if (typeof E.captureStackTrace !== "function") {
    const stack = new Error().stack;
    return typeof stack === "string" ? readerLineFromStack(stack, header) : undefined;
  }
  const previous = E.prepareStackTrace;
  let sites: unknown;
  E.prepareStackTrace = (_error, callSites) => callSites;
  try {
    sites = new Error().stack;
  } finally {
    E.prepareStackTrace = previous;
  }
  if (!Array.isArray(sites)) return undefined;
  for (const site of sites as CallSite[]) {
    if (site.getScriptNameOrSourceURL() !== SOURCE_URL) continue;
    const line = site.getLineNumber();
    return line === null || line <= header ? undefined : line - header;
  }
  return undefined;
}

let measured: Promise<number | undefined> | undefined;

/** How many lines the engine puts before the body (measured once per worker). */
export function headerLines(): Promise<number | undefined> {
  measured ??= buildUserFunction('throw new Error("probe");')(() => undefined, {}, { exports: {} }).then(
    () => undefined,
    (err: unknown) => {
      const line = rawLine(err);
      return line === undefined ? undefined : line - 1;
    },
  );
  return measured;
}

/** The reader's 1-based line where `err` was thrown, if the stack shows it. */
export async function readerLine(err: unknown): Promise<number | undefined> {
  const line = rawLine(err);
  const header = await headerLines();
  if (line === undefined || header === undefined) return undefined;
  return line - header;
}
