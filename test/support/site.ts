// The built site behind `astro preview` and a Chromium to read it with: what every browser test
// file opens before its tests and closes after them.
import type { Browser } from "playwright-core";
import { launchChromium } from "./chromium.js";
import { startPreview } from "./preview.js";

export type Preview = Awaited<ReturnType<typeof startPreview>>;

/** Starts the preview server of dist/ and launches Chromium. */
export async function openSite(): Promise<{ preview: Preview; browser: Browser }> {
  const preview = await startPreview();
  return { preview, browser: await launchChromium() };
}

/** Closes what {@link openSite} opened; either may be missing if opening failed. */
export async function closeSite(preview: Preview | undefined, browser: Browser | undefined): Promise<void> {
  await browser?.close();
  await preview?.stop();
}
