// @ts-check
// Serves the built site (`dist/`) with `astro preview` on a free port. Plain JS so that both
// the tests and scripts/page-weight.mjs (run by bare Node) can use it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** The built site: `dist/`, or DIST_DIR (an absolute path) to test a build made with `--outDir`. */
const distDir = process.env.DIST_DIR || `${root}dist`;

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
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

/** @returns {Promise<{ baseUrl: string, stop(): Promise<void> }>} */
export async function startPreview() {
  if (!existsSync(`${distDir}/index.html`)) {
    throw new Error('dist/ is missing: build the site first (`npm run build`; `npm test` does it).');
  }
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [`${root}node_modules/astro/astro.js`, 'preview', '--host', '127.0.0.1', '--port', String(port), '--outDir', distDir],
    { cwd: root, env: { ...process.env, ASTRO_TELEMETRY_DISABLED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (/** @type {Buffer} */ d) => (output += d.toString()));
  child.stderr?.on('data', (/** @type {Buffer} */ d) => (output += d.toString()));
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitUntilUp(`${baseUrl}/`, child, () => output, 60_000);
  } catch (err) {
    child.kill('SIGTERM');
    throw err;
  }
  return {
    baseUrl,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
