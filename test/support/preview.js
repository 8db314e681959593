// @ts-check
// Serves the built site (`dist/`) with `astro preview` on a free port. Plain JS so that both
// the tests and scripts/page-weight.mjs (run by bare Node) can use it. A site built under a base
// path (`npm run build:base` → dist-base/, served at /dma-lab/) is served with
// `startPreview({ distDir: BASE_DIST_DIR, base: SITE_BASE_FOR_TESTS })`.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
/** The built site: `dist/`, or DIST_DIR (an absolute path) to test a build made with `--outDir`. */
const defaultDistDir = process.env.DIST_DIR || `${root}dist`;

/** The base path `npm run build:base` builds with, and the directory it builds into. */
export const SITE_BASE_FOR_TESTS = "/dma-lab/";
export const BASE_DIST_DIR = `${root}dist-base`;

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * @param {string} url
 * @param {import('node:child_process').ChildProcess} child
 * @param {() => string} log
 * @param {number} timeoutMs
 */
async function waitUntilUp(url, child, log, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`astro preview exited (${child.exitCode}):\n${log()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`astro preview did not answer on ${url} within ${timeoutMs} ms:\n${log()}`);
}

/**
 * `baseUrl` is the site's root without a trailing slash (origin + base), so `${baseUrl}/thread/`
 * is a page whatever the base.
 * @param {{ distDir?: string, base?: string }} [options] `base` must be the one the site was built with.
 * @returns {Promise<{ baseUrl: string, stop(): Promise<void> }>}
 */
export async function startPreview({ distDir = defaultDistDir, base = "/" } = {}) {
  if (!existsSync(`${distDir}/index.html`)) {
    const how = distDir.endsWith("dist-base") ? "`npm run build:base`" : "`npm run build`";
    throw new Error(`${distDir} is missing: build the site first (${how}; \`npm test\` does it).`);
  }
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [`${root}node_modules/astro/astro.js`, "preview", "--host", "127.0.0.1", "--port", String(port), "--outDir", distDir],
    // astro preview serves under the config's `base`, which astro.config.mjs reads from SITE_BASE.
    { cwd: root, env: { ...process.env, SITE_BASE: base, ASTRO_TELEMETRY_DISABLED: "1" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (/** @type {Buffer} */ d) => (output += d.toString()));
  child.stderr?.on("data", (/** @type {Buffer} */ d) => (output += d.toString()));
  const baseUrl = `http://127.0.0.1:${port}${base.replace(/\/+$/, "")}`;
  try {
    await waitUntilUp(`${baseUrl}/`, child, () => output, 60_000);
  } catch (err) {
    child.kill("SIGTERM");
    throw err;
  }
  return {
    baseUrl,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
