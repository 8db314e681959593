// Wraps compiled reader code in a function and maps a thrown error back to the reader's line.
//
// The code runs as the body of an AsyncFunction (so top-level `await` works). The engine puts
// a header of its own before the body, so a runtime line is off by a few; rather than hard-code
// that engine detail we measure it once by throwing from a body of known shape.

const SOURCE_URL = 'dma-lab-playground.ts';
const PARAMS = ['require', 'exports', 'module'] as const;

type UserFunction = (
  require: (name: string) => unknown,
  exports: Record<string, unknown>,
  module: { exports: Record<string, unknown> },
) => Promise<unknown>;

const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor as new (
  ...argsAndBody: string[]
) => UserFunction;

/** Builds the function; the sourceURL names its stack frames so we can find them. */
export function buildUserFunction(js: string): UserFunction {
  return new AsyncFunction(...PARAMS, `${js}\n//# sourceURL=${SOURCE_URL}`);
}

const FRAME = new RegExp(`${SOURCE_URL.replace(/[.]/g, '\\.')}:(\\d+):(\\d+)`);

/** Line of the innermost reader frame in `err`'s stack, as the engine numbers it. */
function rawLine(err: unknown): number | undefined {
  const stack = (err as { stack?: unknown } | null)?.stack;
  if (typeof stack !== 'string') return undefined;
  const m = FRAME.exec(stack);
  return m ? Number(m[1]) : undefined;
}

let headerLines: Promise<number | undefined> | undefined;

/** How many lines the engine puts before the body (measured once per worker). */
function measureHeader(): Promise<number | undefined> {
  headerLines ??= buildUserFunction('throw new Error("probe");')(() => undefined, {}, { exports: {} }).then(
    () => undefined,
    (err: unknown) => {
      const line = rawLine(err);
      return line === undefined ? undefined : line - 1;
    },
  );
  return headerLines;
}

/** The reader's 1-based line where `err` was thrown, if the stack shows it. */
export async function readerLine(err: unknown): Promise<number | undefined> {
  const line = rawLine(err);
  const header = await measureHeader();
  if (line === undefined || header === undefined) return undefined;
  return line - header;
}
