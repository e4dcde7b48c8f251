/**
 * The app in a real browser: web mode on a throwaway database, Debian's Chromium driven by playwright-core.
 * One click starts a nano run; the loss chart fills; the run shows in the list; Stop; after a reload the run and
 * its curve are still there.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebMode, type WebMode } from '../../src/server/webMode';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  return stat.isDirectory() ? Math.max(0, ...readdirSync(path).map((entry) => newest(join(path, entry)))) : stat.mtimeMs;
}

/** Builds the renderer when out/renderer is missing or older than its sources. */
function buildRendererIfStale(): void {
  const built = newest(join(ROOT, 'out', 'renderer', 'index.html'));
  const sources = Math.max(newest(join(ROOT, 'src', 'renderer')), newest(join(ROOT, 'src', 'shared')), newest(join(ROOT, 'electron.vite.config.ts')));
  if (built > sources) return;
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build', '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`electron-vite build failed:\n${result.stderr}${result.stdout}`);
}

const pointsOf = (page: Page, testid: string): Promise<number> => page.getAttribute(`[data-testid=${testid}]`, 'data-points').then(Number);

const title = hasChromium ? 'the app in Chromium (web mode)' : `the app in Chromium: skipped, ${CHROMIUM} is not installed (apt-get install chromium)`;

describe.skipIf(!hasChromium)(title, () => {
  let dir: string;
  let web: WebMode;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    buildRendererIfStale();
    dir = mkdtempSync(join(tmpdir(), 'gpt-lab-e2e-'));
    web = await startWebMode({ dbPath: join(dir, 'runs.db'), port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('response', (response) => {
      if (response.status() >= 400) pageErrors.push(`${response.status()} ${response.url()}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the page without the token', async () => {
    const other = await browser.newPage();
    const response = await other.goto(web.server.url);
    expect(response?.status()).toBe(401);
    await other.close();
  });

  it('trains a nano run from one click, stops it, and keeps it across a reload', async () => {
    await page.goto(web.server.openUrl);
    await page.waitForSelector('[data-testid=view-new]');
    await page.waitForSelector('[data-testid=scheme-rope]');
    await expect.poll(() => page.textContent('[data-testid=backend-badge]'), { timeout: 60_000 }).toMatch(/wasm\s*CPU/);
    await page.waitForSelector('[data-testid=train-button]:not([disabled])');
    await page.waitForSelector('text=ready to train');

    await page.click('[data-testid=train-button]');
    await page.waitForURL(/#\/live\/\d+$/);
    const runId = Number(/live\/(\d+)/.exec(page.url())![1]);
    await page.waitForSelector('[data-testid=live-status][data-status=running]', { timeout: 60_000 });

    // The loss chart receives points, and keeps receiving them.
    await expect.poll(() => pointsOf(page, 'loss-chart'), { timeout: 60_000 }).toBeGreaterThan(0);
    const first = await pointsOf(page, 'loss-chart');
    await expect.poll(() => pointsOf(page, 'loss-chart'), { timeout: 60_000 }).toBeGreaterThan(first);
    expect(await page.textContent('[data-testid=live-step]')).toMatch(/^\d+ \/ 500$/);

    // The run is in the list with its status.
    await page.click('[data-testid=nav-runs]');
    await page.waitForSelector(`[data-testid=run-row-${runId}][data-status=running]`);
    expect(await page.textContent(`[data-testid=run-row-${runId}]`)).toContain('learned · pre-norm');

    // Stop it from the live view.
    await page.click('[data-testid=nav-live]');
    await page.click('[data-testid=stop-button]');
    await page.waitForSelector('[data-testid=live-status][data-status=stopped]', { timeout: 60_000 });
    const stoppedAt = (await web.service.metrics({ runId })).length;
    expect(stoppedAt).toBeGreaterThan(1);

    // After a reload the run and its curve are still there.
    await page.reload();
    await page.click('[data-testid=nav-runs]');
    await page.waitForSelector(`[data-testid=run-row-${runId}][data-status=stopped]`);
    await page.click(`[data-testid=run-row-${runId}]`);
    await page.waitForSelector('[data-testid=run-detail]');
    await expect.poll(() => pointsOf(page, 'run-loss-chart')).toBeGreaterThanOrEqual(stoppedAt);

    expect(pageErrors).toEqual([]);
  });
});
