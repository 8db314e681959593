// @ts-check
// Launches the system Chromium (never a downloaded one) through playwright-core.
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

export const chromePath = process.env.CHROME_PATH || "/usr/bin/chromium";

/** @returns {Promise<import('playwright-core').Browser>} */
export async function launchChromium() {
  if (!existsSync(chromePath)) {
    throw new Error(`No Chromium at ${chromePath}: install the Debian package "chromium" or set CHROME_PATH.`);
  }
  // playwright-core gives every launch a fresh temporary user-data-dir.
  return chromium.launch({
    executablePath: chromePath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}
