/**
 * HTML in a run name, a sample or an error never runs (issue 9), and divergence shows in the UI: web mode in
 * Debian's Chromium (playwright-core), on a renderer built from the current sources into a private folder (so it
 * never races the other e2e test over out/). A diverged run named `<img src=x onerror=alert(1)>…` with a sample full
 * of markup renders as text, no dialog opens, no element is injected, and the run shows the divergence message.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebMode, type WebMode } from '../../src/server/webMode';
import { RunStore } from '../../src/store';
import { Outcomes, syncDocTable } from './docTable';
import { DIVERGING, nextEvent, statusIs } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
// Outside CI a machine without Chromium skips the browser tests; in CI (.ci/run installs it) they must run.
const hasChromium = existsSync(CHROMIUM) || process.env.CI === 'true';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const NAME = '<img src=x onerror=alert(1)><script>alert(2)</script>"\'><svg onload=alert(3)>';
const SAMPLE = '<img src=x onerror=alert(4)><iframe src="javascript:alert(5)"></iframe>{{ 7*7 }}';
const PROMPT = '<b onmouseover=alert(6)>prompt</b>';
const outcomes = new Outcomes();

describe.skipIf(!hasChromium)('HTML from runs in Chromium (web mode)', () => {
  let dir: string;
  let web: WebMode;
  let browser: Browser;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gpt-lab-xss-'));
    const built = spawnSync(process.execPath, ['node_modules/electron-vite/bin/electron-vite.js', 'build', '--logLevel', 'error', '--outDir', join(dir, 'out')], { encoding: 'utf8', timeout: 120_000 });
    if (built.status !== 0) throw new Error(`electron-vite build failed:\n${built.stderr}${built.stdout}`);
    web = await startWebMode({ dbPath: join(dir, 'runs.db'), port: 0, rendererDir: join(dir, 'out', 'renderer') });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('renders a run name, sample and prompt full of markup as text; no script runs; the divergence shows', async () => {
    const { runId } = await web.service.startRun({ config: DIVERGING, name: NAME });
    const diverged = await nextEvent(web.service, statusIs(runId, 'diverged'));
    const message = (diverged.payload as { error: string }).error;
    const store = RunStore.open(join(dir, 'runs.db'));
    store.addSample(runId, 0, SAMPLE, PROMPT);
    store.close();

    const page = await browser.newPage();
    const dialogs: string[] = [];
    const errors: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${web.server.openUrl}#/runs/${runId}`);
    const row = page.locator(`[data-testid=run-row-${runId}]`);
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('diverged');
    expect(await row.textContent()).toContain(NAME);
    const detail = page.locator('[data-testid=run-detail]');
    await detail.waitFor();
    await page.locator('[data-testid=samples]').waitFor();
    const detailText = (await detail.textContent()) ?? '';
    expect(detailText).toContain(NAME);
    expect(detailText).toContain(message);
    const samples = (await page.locator('[data-testid=samples]').textContent()) ?? '';
    expect(samples).toContain(SAMPLE);
    expect(samples).toContain(PROMPT);
    // Give a broken image's onerror or an iframe's javascript: URL time to fire, had they been created.
    await page.waitForTimeout(500);
    const injected = await page.evaluate(() => document.querySelectorAll('img[src="x"], svg[onload], iframe, script:not([src]), b[onmouseover]').length);
    expect(injected).toBe(0);
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
    outcomes.add(
      'web (Chromium)',
      'run name, sample text and prompt carrying <img onerror>, <script>, <svg onload>, <iframe src=javascript:>, a Vue {{ }} template',
      `all shown as literal text in the runs table, the run detail and the sample list; no dialog, no page error, no such element in the DOM; the diverged run shows "${message}" in its detail`,
    );
  });

  it('docs/RELIABILITY.md lists it', () => {
    syncDocTable('xss-table', ['where', 'attack', 'what happened'], outcomes.rows);
  });
});
