// Property tests explore fresh random cases on every local run; in CI they replay one fixed seed,
// so a landing is never decided by the luck of the draw. Override with FC_SEED=<n>.
import fc from "fast-check";

const seed = process.env.FC_SEED ?? (process.env.CI ? "20060120" : undefined);
if (seed !== undefined) fc.configureGlobal({ seed: Number(seed) });
