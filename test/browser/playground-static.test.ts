// The playground page before anyone presses Edit: it renders cleanly, ships no Monaco,
// and Run already works (type-stripped in the runner worker, no editor needed).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { startPreview } from '../support/preview.mjs';
import { launchChromium } from '../support/chromium.mjs';
import { MONACO_URL, PLAYGROUND_PATH, embed, openPage, run } from '../support/playground-page';

let preview: Awaited<ReturnType<typeof startPreview>>;
let browser: Browser;

beforeAll(async () => {
  preview = await startPreview();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await preview?.stop();
});

describe('playground page before activation', () => {
  test('renders with the static code, no console errors and no Monaco requested', async () => {
    const p = await openPage(browser, preview.baseUrl + PLAYGROUND_PATH);
    try {
      await expect.poll(() => p.page.locator('h1').innerText()).toBe('Your first DMA mapping');
      const box = embed(p.page);
      await expect.poll(() => box.locator('.pg-static').innerText()).toContain('dom0.dmaApi(disk, "p2m")');
      expect(await box.getByRole('button', { name: 'Edit' }).isVisible()).toBe(true);
      expect(await box.getByRole('button', { name: 'Run' }).isVisible()).toBe(true);
      await p.page.waitForLoadState('networkidle');
      expect(p.requests.filter((u) => MONACO_URL.test(u))).toEqual([]);
      expect(await p.page.locator('.monaco-editor').count()).toBe(0);
      // Nothing runs on load: no runner worker, no output.
      expect(p.workers).toEqual([]);
      expect(await box.locator('.pg-output > *').count()).toBe(0);
      expect(p.pageErrors).toEqual([]);
      expect(p.consoleMessages.filter((m) => m.type === 'error')).toEqual([]);
    } finally {
      await p.close();
    }
  });

  test('Run works without loading the editor', async () => {
    const p = await openPage(browser, preview.baseUrl + PLAYGROUND_PATH);
    try {
      const text = await run(p.page);
      expect(text).toMatch(/^bus address 0x[0-9a-f]+$/m);
      expect(text).toContain('hello from dom0');
      expect(text).not.toMatch(/Error|Stopped/);
      await p.page.waitForLoadState('networkidle');
      expect(p.requests.filter((u) => MONACO_URL.test(u))).toEqual([]);
      expect(await p.page.locator('.monaco-editor').count()).toBe(0);
      // The run happened in a worker, not on the page.
      expect(p.workers.length).toBeGreaterThan(0);
      expect(p.pageErrors).toEqual([]);
      expect(p.consoleMessages.filter((m) => m.type === 'error')).toEqual([]);
    } finally {
      await p.close();
    }
  });

  test('Ctrl+Enter runs, and the output of the previous run stays until the next', async () => {
    const p = await openPage(browser, preview.baseUrl + PLAYGROUND_PATH);
    try {
      await embed(p.page).getByRole('button', { name: 'Run' }).focus();
      await p.page.keyboard.press('Control+Enter');
      await expect.poll(() => embed(p.page).locator('.pg-output').innerText()).toContain('hello from dom0');
      await p.page.waitForTimeout(500);
      expect(await embed(p.page).locator('.pg-output').innerText()).toContain('hello from dom0');
    } finally {
      await p.close();
    }
  });

  test('a page without a playground renders cleanly and starts no worker', async () => {
    const p = await openPage(browser, preview.baseUrl + '/');
    try {
      await expect.poll(() => p.page.locator('h1').innerText()).toBe('DMA Lab');
      await p.page.waitForLoadState('networkidle');
      expect(await p.page.locator('a[href*="lists.xensource.com/archives/html/xen-devel/2006-01"]').count()).toBe(1);
      expect(p.requests.filter((u) => MONACO_URL.test(u) || /runner|playground|ui\./.test(u))).toEqual([]);
      expect(p.workers).toEqual([]);
      expect(p.pageErrors).toEqual([]);
      expect(p.consoleMessages.filter((m) => m.type === 'error')).toEqual([]);
    } finally {
      await p.close();
    }
  });
});
