/**
 * Training on your own text in the browser (web mode, Debian's Chromium): a dropped file and a picked file are
 * uploaded to the lab with a preview (size, tokens, vocabulary); a tiny run trains on the picked one, stops, the
 * original file is deleted, and the run continues to the end and evaluates from the lab's stored copy.
 * The renderer is built into a private folder, so this never races the other e2e tests over out/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebMode, type WebMode } from '../../src/server/webMode';
import { CHROMIUM, FLAGS, recordPageErrors } from './browser';

// Outside CI a machine without Chromium skips the browser tests; in CI (.ci/run installs it) they must run.
const hasChromium = existsSync(CHROMIUM) || process.env.CI === 'true';
/** 2,040 bytes and characters, 16 distinct. */
const CORPUS = 'a small dog ran to the big red barn. '.repeat(56).slice(0, 2040);
const TINY = { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 8, steps: 300, evalEvery: 50, checkpointEvery: 50, sampleEvery: 0 };

describe.skipIf(!hasChromium)('your own text in Chromium (web mode)', () => {
  let dir: string;
  let web: WebMode;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gpt-lab-upload-'));
    const built = spawnSync(process.execPath, ['node_modules/electron-vite/bin/electron-vite.js', 'build', '--logLevel', 'error', '--outDir', join(dir, 'out')], { encoding: 'utf8', timeout: 120_000 });
    if (built.status !== 0) throw new Error(`electron-vite build failed:\n${built.stderr}${built.stdout}`);
    web = await startWebMode({ dbPath: join(dir, 'runs.db'), port: 0, rendererDir: join(dir, 'out', 'renderer') });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    recordPageErrors(page, pageErrors);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('takes a dropped file, shows what it holds, and keeps one radio dot', async () => {
    await page.goto(web.server.openUrl);
    await page.waitForSelector('[data-testid=data-toy-english]');
    await page.click('[data-testid=data-upload]');
    expect(await page.locator('input[name=data]:checked').count()).toBe(1);
    await page.waitForSelector('text=1 problem: Data needs a text file: pick one or drop it here');

    await page.evaluate(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['héllo wörld\n'], 'dropped.txt', { type: 'text/plain' }));
      document.querySelector('[data-testid=data-panel]')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    });
    // 14 bytes (two 2-byte letters), 12 characters, 10 distinct.
    await expect.poll(() => page.textContent('[data-testid=upload-summary]')).toBe('dropped.txt · 14 bytes · 12 tokens · vocabulary 10');
    expect(await page.textContent('[data-testid=upload-preview]')).toBe('héllo wörld\n');
  });

  it('refuses a file that is not text, naming it', async () => {
    await page.setInputFiles('[data-testid=field-data-upload]', { name: 'image.png', mimeType: 'image/png', buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13]) });
    await expect.poll(() => page.textContent('[data-testid=upload-error]')).toBe('uploaded text image.png looks like a binary file, not text');
    // The refusal is the lab's answer to the upload, and the only failed request.
    expect(pageErrors).toEqual(['400 /api/addText', 'Failed to load resource: the server responded with a status of 400 (Bad Request)']);
    pageErrors.length = 0;
  });

  it('trains on a picked file, and resumes and evaluates the run after the file is deleted', async () => {
    const file = join(dir, 'corpus.txt');
    writeFileSync(file, CORPUS);
    await page.setInputFiles('[data-testid=field-data-upload]', file);
    await expect.poll(() => page.textContent('[data-testid=upload-summary]')).toBe('corpus.txt · 2.0 kB · 2,040 tokens · vocabulary 16');

    await page.click('.advanced summary');
    for (const [field, value] of Object.entries(TINY)) await page.fill(`[data-testid=field-${field}]`, String(value));
    await page.waitForSelector('text=ready to train');
    await page.click('[data-testid=train-button]');
    await page.waitForURL(/#\/live\/\d+$/);
    const runId = Number(/live\/(\d+)/.exec(page.url())![1]);
    const run = await web.service.getRun({ runId });
    expect(run.dataSource).toMatch(/^text:[0-9a-f]{64}$/);
    expect(run.config.data).toBe(run.dataSource);

    await page.waitForSelector('[data-testid=live-status][data-status=running]', { timeout: 60_000 });
    await page.click('[data-testid=stop-button]');
    await page.waitForSelector('[data-testid=live-status][data-status=stopped]', { timeout: 60_000 });
    const stoppedAt = (await web.service.getRun({ runId })).lastStep;
    expect(stoppedAt).toBeLessThan(TINY.steps - 1);

    rmSync(file);
    await page.click('[data-testid=continue-button]');
    await page.waitForSelector('[data-testid=live-status][data-status=completed]', { timeout: 120_000 });
    expect(await web.service.getRun({ runId })).toMatchObject({ status: 'completed', lastStep: TINY.steps - 1, error: null });
    const lengths = await web.service.evalLength({ runId, lengths: [8, 16] });
    expect(lengths.results.map((r) => r.length)).toEqual([8, 16]);
    expect(lengths.results.every((r) => Number.isFinite(r.loss))).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 240_000);
});
