// Runs in the runner worker. Seals the worker before reader code runs: the reader's code gets the
// simulator and the console, nothing that reaches the network, storage, other windows or the
// page's channel. Each removed name becomes an accessor that throws a clear error (a reader who
// tries `fetch` learns the playground does not offer it, instead of a vague "not defined").

/** Network, storage, messaging and script loading: what a shared link's code must not reach. */
export const REMOVED_APIS = [
  "fetch",
  "XMLHttpRequest",
  "WebSocket",
  "WebSocketStream",
  "WebTransport",
  "EventSource",
  "importScripts",
  "Worker",
  "SharedWorker",
  "BroadcastChannel",
  "indexedDB",
  "caches",
  "FontFace",
  "fonts",
  "postMessage",
  "onmessage",
  "onmessageerror",
] as const;

/** Code built from strings at run time could `import()` a URL: the constructors that do it. */
const CODE_FROM_STRINGS = ["eval", "Function"] as const;

export class UnavailableError extends Error {
  override name = "UnavailableError";
}

export function unavailableMessage(name: string): string {
  return `${name} is not available in the playground: code here reaches only the simulator and the console (no network, storage or messaging).`;
}

/** Replaces `name` on `target` and every object on its prototype chain with a throwing accessor. */
function removeEverywhere(target: object, name: string, message: string): void {
  const fail = (): never => {
    throw new UnavailableError(message);
  };
  for (let o: object | null = target; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    if (Object.hasOwn(o, name) && o !== target) delete (o as Record<string, unknown>)[name];
  }
  try {
    Object.defineProperty(target, name, { get: fail, set: fail, configurable: false, enumerable: false });
  } catch {
    // A non-configurable own property: at least make it unusable.
    (target as Record<string, unknown>)[name] = undefined;
  }
}

/** Removes {@link REMOVED_APIS} from `scope` (the worker's global object). */
export function sealNetworkAndMessaging(scope: object): void {
  for (const name of REMOVED_APIS) removeEverywhere(scope, name, unavailableMessage(name));
}

/**
 * Removes eval and the Function constructors (plain, async, generator), reached through
 * `globalThis` or any function's `constructor`. Call after the reader's function is built (it is
 * built with the real AsyncFunction) and before it runs; the worker runs one request, so nothing
 * later needs them.
 */
export function sealCodeFromStrings(scope: object): void {
  const message = (name: string) => `${name} is not available in the playground: code built from strings is turned off.`;
  for (const name of CODE_FROM_STRINGS) removeEverywhere(scope, name, message(name));
  const prototypes = [() => {}, async () => {}, function* () {}, async function* () {}].map((f) => Object.getPrototypeOf(f) as object);
  // A plain function, so that `new (f.constructor)(...)` reaches the message too.
  const refuse = (): never => {
    throw new UnavailableError(message("The Function constructor"));
  };
  for (const proto of prototypes) Object.defineProperty(proto, "constructor", { value: refuse, writable: false, configurable: false });
}
