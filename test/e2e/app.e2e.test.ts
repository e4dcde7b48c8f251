/**
 * The app in a real browser: web mode on a throwaway database, Debian's Chromium driven by playwright-core.
 * One click starts a nano run; the loss chart fills; the run shows in the list; Stop; after a reload the run and
 * its curve are still there. Then a four-scheme sweep lands in Compare (overlay + diff table) and Extrapolation, charts
 * export as PNG and SVG, probes and recipes render. Every view is photographed into docs/screenshots/.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebMode, type WebMode } from '../../src/server/webMode';
import { buildRendererIfStale, CHROMIUM, download, FLAGS, ROOT, recordPageErrors } from './browser';

// Outside CI a machine without Chromium skips the browser tests; in CI (.ci/run installs it) they must run.
const hasChromium = existsSync(CHROMIUM) || process.env.CI === 'true';

const pointsOf = (page: Page, testid: string): Promise<number> => page.getAttribute(`[data-testid=${testid}]`, 'data-points').then(Number);

const SHOTS = join(ROOT, 'docs', 'screenshots');
/** A screenshot of the current view for the README (after the charts have drawn). */
async function shoot(page: Page, name: string, height = 1000): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.mouse.move(0, 0);
  await page.setViewportSize({ width: 1400, height });
  await page.evaluate(() => document.querySelector('.content')?.scrollTo(0, 0));
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  if (height !== 1000) await page.setViewportSize({ width: 1400, height: 1000 });
}

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
    recordPageErrors(page, pageErrors);
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
    expect(await other.textContent('h1')).toBe('GPT Lab needs the address it printed');
    await other.close();
  });

  it('trains a nano run from one click, stops it, and keeps it across a reload', async () => {
    await page.goto(web.server.openUrl);
    await page.waitForSelector('[data-testid=view-new]');
    await page.waitForSelector('[data-testid=scheme-rope]');
    await expect.poll(() => page.textContent('[data-testid=backend-badge]'), { timeout: 60_000 }).toMatch(/^\s*wasm( · OpenBLAS [^·]+)?\s*CPU/);
    await page.waitForSelector('[data-testid=train-button]:not([disabled])');
    await page.waitForSelector('text=ready to train');
    await page.click('[data-testid=scheme-sinusoidal]');
    await page.waitForSelector('[data-testid=scheme-diagram] canvas');
    await shoot(page, 'new-run', 1500);
    await page.click('[data-testid=scheme-learned]');
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
    await expect.poll(() => pointsOf(page, 'loss-chart'), { timeout: 60_000 }).toBeGreaterThan(40);
    await shoot(page, 'live');

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

  it('lands a sweep in Compare (overlay + diff table) and Extrapolation, and exports charts as PNG and SVG', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-e2e-files-'));
    try {
      await page.click('[data-testid=nav-sweeps]');
      await page.waitForSelector('[data-testid=sweep-pos-alibi]');
      // Four schemes, pre-norm, no dropout: four nano runs on toy English, short enough for CI yet long enough for the
      // screenshots to show the schemes apart (NoPE and RoPE degrade past the training length, ALiBi stays flat).
      for (const pos of ['none', 'sinusoidal', 'learned', 'rope', 'alibi']) {
        const checked = await page.isChecked(`[data-testid=sweep-pos-${pos}] input`);
        if (checked !== (pos !== 'sinusoidal')) await page.click(`[data-testid=sweep-pos-${pos}] input`);
      }
      await page.selectOption('[data-testid=sweep-data]', 'builtin:toy-english');
      // Two threads (not 'auto', whatever the machine): the sweep trains data-parallel through the whole app
      // (training host → helper thread).
      await page.uncheck('[data-testid=sweep-threads-auto]');
      for (const [field, value] of [['nLayer', '3'], ['nHead', '3'], ['nEmbd', '48'], ['blockSize', '16'], ['steps', '200'], ['threads', '2']])
        await page.fill(`[data-testid=sweep-${field}]`, value);
      await page.fill('[data-testid=sweep-name]', 'toy <sweep>');
      await page.waitForSelector('text=4 runs to queue');
      await page.click('[data-testid=sweep-button]');
      await page.waitForSelector('[data-sweep]');
      // Four nano runs of 200 steps: a minute or two on two free cores, much longer on a shared, loaded machine.
      await expect.poll(() => page.textContent('[data-sweep] h3'), { timeout: 420_000 }).toContain('4 / 4 done');
      await shoot(page, 'sweeps');
      const sweepRuns = (await web.service.listRuns()).filter((r) => r.sweepKey?.startsWith('sweep:'));
      expect(sweepRuns).toHaveLength(4);
      expect(sweepRuns.every((r) => r.status === 'completed')).toBe(true);
      expect(sweepRuns.every((r) => r.backend?.threads === 2)).toBe(true);

      // Compare: four curves overlaid, and the table has only what differs (the scheme, and its knobs).
      await page.click('[data-sweep] [data-testid=sweep-compare]');
      await page.waitForSelector('[data-testid=view-compare]');
      await page.waitForSelector('[data-testid=compare-chart][data-series="4"] canvas');
      const fields = await page.$$eval('[data-testid=diff-table] tbody tr[data-field]', (rows) => rows.map((r) => r.getAttribute('data-field')));
      expect(fields[0]).toBe('pos');
      expect(fields).not.toContain('nLayer');
      expect(fields).not.toContain('steps');
      await page.click('[data-testid=x-tokens]');
      await page.click('[data-testid=log-y]');
      await page.selectOption('[data-testid=group-by]', 'pos');
      await page.selectOption('[data-testid=group-by]', { label: 'run' });
      await page.click('[data-testid=log-y]');
      await shoot(page, 'compare');

      // Export the 4-run overlay: a PNG at 2x on white, and an SVG with 4 paths, axis labels and the run names.
      const png = await download(page, '[data-testid=compare-chart]', 'png-white', dir);
      const pngBytes = readFileSync(png.path);
      expect(png.name).toMatch(/\.png$/);
      expect(pngBytes.subarray(1, 4).toString('latin1')).toBe('PNG');
      expect(pngBytes.readUInt32BE(16)).toBe(1800);
      expect(pngBytes.length).toBeGreaterThan(20_000);
      const svg = await download(page, '[data-testid=compare-chart]', 'svg', dir);
      const svgText = readFileSync(svg.path, 'utf8');
      const parsed = await page.evaluate((text) => {
        const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
        return {
          error: doc.querySelector('parsererror')?.textContent ?? null,
          paths: doc.querySelectorAll('path').length,
          texts: [...doc.querySelectorAll('text')].map((t) => t.textContent ?? ''),
        };
      }, svgText);
      expect(parsed.error).toBeNull();
      expect(parsed.paths).toBe(4);
      expect(parsed.texts).toContain('tokens');
      expect(parsed.texts.some((t) => t.startsWith('train loss'))).toBe(true);
      // Legends say what tells the runs apart; the full names are the series' titles (shown on hover).
      for (const run of sweepRuns) expect(parsed.texts).toContain(`#${run.id} ${run.config.pos}`);
      for (const run of sweepRuns) expect(svgText).toContain(`<title>#${run.id} ${run.name.replace('<', '&lt;').replace('>', '&gt;')}</title>`);
      expect(svgText).toContain('toy &lt;sweep&gt;');
      const csv = await download(page, '[data-testid=compare-chart]', 'csv', dir);
      expect(readFileSync(csv.path, 'utf8').split('\n')[0]).toBe('series,tokens,train loss (raw),train loss (EMA 0.6)');

      // Extrapolation of the sweep's runs, one click.
      await page.click('[data-testid=nav-sweeps]');
      await page.click('[data-sweep] [data-testid=sweep-extrapolation]');
      await page.waitForSelector('[data-testid=view-extrapolation]');
      await page.click('[data-testid=evaluate-button]');
      await page.waitForSelector('[data-testid=length-chart][data-series="4"] canvas', { timeout: 120_000 });
      await page.waitForSelector('[data-testid=evaluate-button]:not([disabled])', { timeout: 120_000 });
      await page.waitForSelector('[data-testid=position-chart][data-series="4"]');
      await shoot(page, 'extrapolation');
      const evalSvg = readFileSync((await download(page, '[data-testid=length-chart]', 'svg', dir)).path, 'utf8');
      expect(evalSvg).toContain('trained at 16');
      // The learned run has no positions past 16: marked on the chart itself.
      expect(evalSvg).toMatch(/n\/a from here: #\d+/);
      // The per-position panel: its title on one line, the Export button beside it; the cost chart says what it measures.
      const head = await page.$eval('[data-testid=position-chart] .panel-head', (el) => {
        const title = el.querySelector('h3')!.getBoundingClientRect();
        const button = el.querySelector('[data-testid=export-toggle]')!.getBoundingClientRect();
        return { titleHeight: title.height, lineHeight: parseFloat(getComputedStyle(el.querySelector('h3')!).lineHeight) || 20, sameRow: Math.abs(title.top + title.height / 2 - (button.top + button.height / 2)) < 6 };
      });
      expect(head.titleHeight).toBeLessThan(head.lineHeight * 1.5);
      expect(head.sameRow).toBe(true);
      expect(await page.textContent('[data-testid=cost-chart] [data-testid=chart-caption]')).toContain('above what was allocated before it');
      expect(evalSvg.match(/<path /g)).toHaveLength(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 660_000); // four trainings and their evaluation: its own waits allow 7 + 2 minutes on a loaded machine

  it('renders probes: attention maps, scheme tables, ALiBi heads and the equivariance demo', async () => {
    await page.click('[data-testid=nav-probes]');
    await page.waitForSelector('[data-testid=view-probes]');
    await page.fill('[data-testid=probe-text]', 'the dog chased another dog');
    await page.click('[data-testid=probe-button]');
    await page.waitForSelector('[data-testid=attention-layer] canvas', { timeout: 60_000 });
    expect(await page.locator('[data-testid=attention-layer] canvas').count()).toBeGreaterThanOrEqual(2);
    await page.waitForSelector('[data-testid=alibi-heads] canvas');
    await page.click('[data-testid=equivariance-button]');
    await page.waitForSelector('[data-testid=equivariance-table] tbody tr', { timeout: 60_000 });
    const none = await page.textContent('[data-testid=equivariance-table] tbody tr:first-child');
    expect(none).toContain('none');
    expect(none).toContain('0 · tied');
    await shoot(page, 'probes', 1900);
  });

  it('lists the recipes, runs the quick equivariance recipe and shows its verdict; the Runs list and dark theme', async () => {
    await page.click('[data-testid=nav-recipes]');
    await page.waitForSelector('[data-testid=recipe-dog-equivariance]');
    await page.click('[data-testid=run-quick-dog-equivariance]');
    await page.waitForSelector('[data-testid=recipe-dog-equivariance] [data-testid=verdict]', { timeout: 60_000 });
    expect(await page.textContent('[data-testid=recipe-dog-equivariance] [data-testid=verdict]')).toBe('held');
    await page.waitForSelector('[data-testid=recipe-chart-dog-equivariance] canvas');
    // Its values are per scheme: bars, not a line between unrelated schemes.
    const files = mkdtempSync(join(tmpdir(), 'gpt-lab-e2e-recipe-'));
    try {
      const svg = readFileSync((await download(page, '[data-testid=recipe-chart-dog-equivariance]', 'svg', files)).path, 'utf8');
      expect(svg).toContain('<g class="bars"');
      expect(svg).not.toContain('<path ');
    } finally {
      rmSync(files, { recursive: true, force: true });
    }
    await shoot(page, 'recipes', 1300);

    await page.click('[data-testid=nav-runs]');
    await page.waitForSelector('[data-testid=runs-table]');
    await page.fill('[data-testid=runs-filter]', 'alibi');
    await expect.poll(() => page.locator('[data-testid=runs-table] tbody tr').count()).toBe(1);
    await page.fill('[data-testid=runs-filter]', '');
    await shoot(page, 'runs');

    await page.click('[data-testid=theme-toggle]');
    await page.click('[data-testid=nav-compare]');
    await page.waitForSelector('[data-testid=compare-chart] canvas');
    await shoot(page, 'compare-dark');
    await page.click('[data-testid=theme-toggle]');
    expect(pageErrors).toEqual([]);
  });

  it('samples the toy-English run in the Playground: tokens stream in, shaded by probability, with the window note', async () => {
    await page.click('[data-testid=nav-playground]');
    await page.waitForSelector('[data-testid=playground-run]');
    const toyRun = await page.$$eval('[data-testid=playground-run] option', (options) => options.find((o) => o.textContent?.includes('toy-english'))?.getAttribute('value'));
    expect(toyRun).toBeTruthy();
    await page.selectOption('[data-testid=playground-run]', toyRun!);
    await page.fill('[data-testid=playground-prompt]', 'the ');
    await page.fill('[data-testid=playground-tokens]', '80');
    await page.click('[data-testid=playground-generate]');
    await page.waitForSelector('[data-testid=playground-done]', { timeout: 60_000 });
    expect(await page.locator('[data-testid=playground-output] span[title^="p = "]').count()).toBe(80);
    expect(await page.textContent('[data-testid=playground-window]')).toMatch(/past 64 tokens the model sees a sliding window/);
    expect(await page.textContent('[data-testid=playground-done]')).toMatch(/outgrew the 64-token window/);
    await shoot(page, 'playground');
    expect(pageErrors).toEqual([]);
  });
});
