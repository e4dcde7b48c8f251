/**
 * Iterating on experiments in a real browser (web mode, Debian's Chromium): New run keeps its settings after Train,
 * a run queued behind a training one leaves Live on the training run and shows in the queue, Stop evaluates once
 * more, Clone fills New run from a stored run, charts zoom and keep hidden series hidden, the PNG has its title,
 * and the Runs table has its new columns and a message when a filter matches nothing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebMode, type WebMode } from '../../src/server/webMode';
import { buildRendererIfStale, CHROMIUM, download, FLAGS, recordPageErrors, ROOT } from './browser';

const hasChromium = existsSync(CHROMIUM) || process.env.CI === 'true';
const title = hasChromium ? 'iterating on runs in Chromium (web mode)' : `iterating on runs: skipped, ${CHROMIUM} is not installed`;

describe.skipIf(!hasChromium)(title, () => {
  let dir: string;
  let web: WebMode;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  let first = 0;
  let second = 0;

  beforeAll(async () => {
    buildRendererIfStale();
    dir = mkdtempSync(join(tmpdir(), 'gpt-lab-e2e-iterate-'));
    web = await startWebMode({ dbPath: join(dir, 'runs.db'), port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    recordPageErrors(page, pageErrors, { failedResponses: false });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function setAdvanced(values: Record<string, string>): Promise<void> {
    if (!(await page.isVisible('[data-testid=field-steps]'))) await page.click('details.advanced summary');
    for (const [field, value] of Object.entries(values)) await page.fill(`[data-testid=field-${field}]`, value);
  }

  it('keeps the New run settings after Train, and a run queued behind it leaves Live on the training run', async () => {
    await page.goto(web.server.openUrl);
    await page.waitForSelector('[data-testid=train-button]:not([disabled])', { timeout: 60_000 });
    await page.click('[data-testid=scheme-rope]');
    await setAdvanced({ blockSize: '16', steps: '2000', nLayer: '1', nEmbd: '24' });
    await page.waitForSelector('text=ready to train');
    await page.click('[data-testid=train-button]');
    await page.waitForURL(/#\/live\/\d+$/);
    first = Number(/live\/(\d+)/.exec(page.url())![1]);
    await page.waitForSelector('[data-testid=live-status][data-status=running]', { timeout: 60_000 });

    // Back in New run: the last settings are there, not the defaults.
    await page.click('[data-testid=nav-new]');
    await page.waitForSelector('[data-testid=scheme-rope].active');
    await setAdvanced({});
    expect(await page.inputValue('[data-testid=field-steps]')).toBe('2000');
    expect(await page.inputValue('[data-testid=field-blockSize]')).toBe('16');

    // A second run queues behind the first: Live stays on the first, the queue lists the second.
    // One val point only (at its last step): the marker must show in its own colour, not as a grey dot.
    await setAdvanced({ steps: '30', evalEvery: '30' });
    await page.click('[data-testid=scheme-alibi]');
    await page.waitForSelector('text=ready to train');
    await page.click('[data-testid=train-button]');
    await page.waitForSelector('[data-testid=view-live]');
    await expect.poll(() => page.textContent('[data-testid=live-run-name]')).toContain('rope');
    second = (await web.service.queueState()).queued[0];
    expect(second).toBeGreaterThan(first);
    await page.waitForSelector(`[data-testid=queue-panel] [data-testid=queued-${second}]`);
    expect(await page.textContent(`[data-testid=queued-${second}]`)).toMatch(/^1/);
    await expect.poll(() => page.textContent(`[data-testid=queued-${second}] td:last-child`), { timeout: 30_000 }).toMatch(/≈ \d/);
  });

  it('evaluates once more on Stop, so the stopped run’s last row has a val loss', async () => {
    await page.click('[data-testid=stop-button]');
    await expect.poll(async () => (await web.service.getRun({ runId: first })).status, { timeout: 60_000 }).toBe('stopped');
    const rows = await web.service.metrics({ runId: first });
    const last = rows[rows.length - 1];
    expect(last.valLoss).not.toBeNull();
    expect((await web.service.getRun({ runId: first })).finalValLoss).toBe(last.valLoss);
    // The queued run trains next, and Live follows it.
    await expect.poll(async () => (await web.service.getRun({ runId: second })).status, { timeout: 120_000 }).toBe('completed');
    await expect.poll(() => page.textContent('[data-testid=live-run-name]'), { timeout: 30_000 }).toContain('alibi');
  });

  it('clones a run from Runs, Live and Compare into New run', async () => {
    await page.click('[data-testid=nav-runs]');
    await page.click(`[data-testid=run-row-${first}]`);
    await page.click('[data-testid=runs-clone]');
    await page.waitForSelector('[data-testid=cloned-from]');
    expect(await page.textContent('[data-testid=cloned-from]')).toContain(`#${first}`);
    await page.waitForSelector('[data-testid=scheme-rope].active');
    await setAdvanced({});
    expect(await page.inputValue('[data-testid=field-steps]')).toBe('2000');

    await page.click('[data-testid=nav-live]');
    await page.click('[data-testid=clone-button]');
    await page.waitForSelector('[data-testid=scheme-alibi].active');
    expect(await page.inputValue('[data-testid=field-steps]')).toBe('30');

    await page.click('[data-testid=nav-runs]');
    await page.click(`[data-testid=tick-${first}]`);
    await page.click(`[data-testid=tick-${second}]`);
    await page.click('[data-testid=compare-button]');
    // The picker and the legend tell the two apart by what differs, not by a cut-off name.
    expect(await page.textContent(`[data-testid=pick-label-${first}]`)).toBe(`#${first} rope · steps 2000`);
    await page.click(`[data-testid=compare-clone-${first}]`);
    await page.waitForSelector('[data-testid=scheme-rope].active');
  });

  it('zooms with the wheel and resets on double click; a series hidden in the legend stays hidden as the chart redraws', async () => {
    await page.click('[data-testid=nav-compare]');
    const box = page.locator('[data-testid=compare-chart] .chart-box');
    await page.waitForSelector('[data-testid=compare-chart][data-series="2"] canvas');
    const area = (await box.boundingBox())!;
    await page.mouse.move(area.x + area.width / 2, area.y + area.height / 2);
    await page.mouse.wheel(0, -400);
    await expect.poll(() => box.getAttribute('data-zoomed')).toBe('true');
    await page.mouse.dblclick(area.x + area.width / 2, area.y + area.height / 2);
    await expect.poll(() => box.getAttribute('data-zoomed')).toBe('false');

    // The legend sits top right; click along its row until a series is hidden.
    const legendHit = async (): Promise<boolean> => {
      for (let y = area.y + 8; y < area.y + 32; y += 6)
        for (let x = area.x + area.width - 12; x > area.x + area.width / 2; x -= 8) {
          await page.mouse.click(x, y);
          // Chart.js handles pointer events on the next animation frame: let two pass before reading the result.
          await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
          if ((await box.getAttribute('data-hidden')) === '1') return true;
        }
      return false;
    };
    expect(await legendHit()).toBe(true);
    await page.click('[data-testid=metric-valLoss]');
    await page.click('[data-testid=metric-trainLoss]');
    expect(await box.getAttribute('data-hidden')).toBe('1');
  });

  it('exports the PNG with the chart’s title drawn above it', async () => {
    const files = mkdtempSync(join(tmpdir(), 'gpt-lab-e2e-png-'));
    try {
      const png = await download(page, '[data-testid=compare-chart]', 'png-white', files);
      // Decoded in a blank page: the app's CSP (rightly) refuses data: fetches.
      const blank = await browser.newPage();
      const dark = await blank.evaluate(async (base64) => {
        const image = await createImageBitmap(await (await fetch(`data:image/png;base64,${base64}`)).blob());
        const canvas = new OffscreenCanvas(image.width, image.height);
        const ctx = canvas.getContext('2d')!;
        ctx.drawImage(image, 0, 0);
        // The title is centred in the top band; the legend is right-aligned below it.
        const band = ctx.getImageData(Math.round(image.width * 0.3), 0, Math.round(image.width * 0.2), 50).data;
        let count = 0;
        for (let i = 0; i < band.length; i += 4) if (band[i] + band[i + 1] + band[i + 2] < 300) count++;
        return count;
      }, readFileSync(png.path).toString('base64'));
      await blank.close();
      expect(dark).toBeGreaterThan(50);
    } finally {
      rmSync(files, { recursive: true, force: true });
    }
  });

  it('labels attention maps with the tokens, shows their colour scale, the run’s ALiBi heads, and equivariance as bars', async () => {
    await page.click('[data-testid=nav-probes]');
    await page.selectOption('[data-testid=probe-run]', String(first));
    await page.fill('[data-testid=probe-text]', 'the dog');
    await page.click('[data-testid=probe-button]');
    await page.waitForSelector('[data-testid=attention-layer] canvas', { timeout: 60_000 });
    const firstMap = page.locator('[data-testid=attention-layer] .heatmap').first();
    expect(await firstMap.locator('[data-testid=heatmap-cols] span').allTextContents()).toEqual(['t', 'h', 'e', '␣', 'd', 'o', 'g']);
    expect(await firstMap.locator('[data-testid=heatmap-rows] span').count()).toBe(7);
    expect(await firstMap.locator('[data-testid=heatmap-scale]').textContent()).toMatch(/…|\d/);
    // The run has 3 heads: so does the ALiBi panel.
    await expect.poll(() => page.locator('[data-testid=alibi-heads] canvas').count()).toBe(3);
    expect(await page.textContent('[data-testid=alibi-caption]')).toContain(`3 heads, as run #${first} has`);

    await page.click('[data-testid=equivariance-button]');
    await page.waitForSelector('[data-testid=equivariance-chart] canvas', { timeout: 60_000 });
    const files = mkdtempSync(join(tmpdir(), 'gpt-lab-e2e-svg-'));
    try {
      const svg = readFileSync((await download(page, '[data-testid=equivariance-chart]', 'svg', files)).path, 'utf8');
      expect(svg).toContain('<g class="bars"');
      expect(svg).not.toContain('<path ');
    } finally {
      rmSync(files, { recursive: true, force: true });
    }
  });

  it('queues a sweep with its own learning rate and batch size, and says so when one of its cells is deleted', async () => {
    await page.click('[data-testid=nav-sweeps]');
    await page.waitForSelector('[data-testid=sweep-pos-alibi]');
    for (const pos of ['none', 'sinusoidal', 'learned', 'rope', 'alibi']) {
      const checked = await page.isChecked(`[data-testid=sweep-pos-${pos}] input`);
      if (checked !== (pos === 'rope' || pos === 'alibi')) await page.click(`[data-testid=sweep-pos-${pos}] input`);
    }
    await page.selectOption('[data-testid=sweep-data]', 'file');
    expect(await page.textContent('[data-testid=sweep-problem]')).toBe('enter the path of a text file');
    await page.selectOption('[data-testid=sweep-data]', 'builtin:toy-english');
    for (const [field, value] of [['nLayer', '1'], ['nEmbd', '16'], ['blockSize', '16'], ['steps', '20'], ['batchSize', '8'], ['lr', '0.003']]) await page.fill(`[data-testid=sweep-${field}]`, value);
    await page.fill('[data-testid=sweep-name]', 'lr sweep');
    await page.click('[data-testid=sweep-button]');
    await expect.poll(async () => (await web.service.listRuns()).filter((r) => r.name.startsWith('lr sweep') && r.status === 'completed').length, { timeout: 120_000 }).toBe(2);
    const cells = (await web.service.listRuns()).filter((r) => r.name.startsWith('lr sweep'));
    expect(cells.map((r) => [r.config.lr, r.config.batchSize])).toEqual([[0.003, 8], [0.003, 8]]);

    await page.click('[data-testid=nav-runs]');
    await page.click(`[data-testid=delete-${cells[0].id}]`);
    await page.click(`[data-testid=confirm-delete-${cells[0].id}]`);
    await page.waitForSelector(`[data-testid=run-row-${cells[0].id}]`, { state: 'detached' });
    await page.click('[data-testid=nav-sweeps]');
    await expect.poll(() => page.textContent(`[data-testid="sweep-${cells[1].sweepKey}"] [data-testid=sweep-progress]`)).toBe('· 1 / 1 done · 1 of 2 deleted');
  });

  it('draws a lone val point as a marker in the val colour of the legend', async () => {
    await page.click('[data-testid=nav-runs]');
    await page.click(`[data-testid=run-row-${second}]`);
    await expect.poll(() => page.getAttribute('[data-testid=run-loss-chart]', 'data-points').then(Number)).toBeGreaterThan(30);
    const valColored = await page.$eval('[data-testid=run-loss-chart] canvas', (canvas) => {
      const [r, g, b] = getComputedStyle(document.documentElement).getPropertyValue('--series-val').trim().match(/[0-9a-f]{2}/gi)!.map((h) => parseInt(h, 16));
      const pixels = (canvas as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, (canvas as HTMLCanvasElement).width, (canvas as HTMLCanvasElement).height).data;
      let count = 0;
      for (let i = 0; i < pixels.length; i += 4) if (Math.abs(pixels[i] - r) + Math.abs(pixels[i + 1] - g) + Math.abs(pixels[i + 2] - b) < 40 && pixels[i + 3] > 200) count++;
      return count;
    });
    // The legend's swatch alone is 12×2 px; a 4 px marker adds about 50.
    expect(valColored).toBeGreaterThan(40);
  });

  it('shows scheme, norm, params, backend and duration in Runs, and says so when a filter matches nothing', async () => {
    await page.click('[data-testid=nav-runs]');
    const headers = await page.$$eval('[data-testid=runs-table] thead th', (ths) => ths.map((th) => th.textContent?.trim() ?? ''));
    for (const name of ['Scheme', 'Norm', 'Params', 'Backend', 'Duration']) expect(headers).toContain(name);
    const row = await page.textContent(`[data-testid=run-row-${first}]`);
    expect(row).toContain('rope');
    expect(row).toContain('wasm');
    // Tags and notes: saved with the run, shown in the table, matched by the filter.
    await page.click(`[data-testid=run-row-${first}]`);
    await page.fill('[data-testid=tags-input]', 'baseline, rope-long');
    await page.fill('[data-testid=notes-input]', 'stopped early on purpose');
    await page.click('[data-testid=notes-save]');
    await expect.poll(() => page.locator(`[data-testid=tag-${first}]`).allTextContents()).toEqual(['baseline', 'rope-long']);
    expect(await web.service.getRun({ runId: first })).toMatchObject({ tags: ['baseline', 'rope-long'], notes: 'stopped early on purpose' });
    await page.fill('[data-testid=runs-filter]', 'purpose');
    await expect.poll(() => page.locator('[data-testid=runs-table] tbody tr[data-status]').count()).toBe(1);

    await page.fill('[data-testid=runs-filter]', 'no-such-run');
    expect(await page.textContent('[data-testid=runs-no-match]')).toContain('No run matches “no-such-run”');
  });

  it('shows each recipe’s shipped full-size result, labelled as a reference, until it runs here', async () => {
    await page.click('[data-testid=nav-recipes]');
    const reference = page.locator('[data-testid=recipe-learned-vs-sinusoidal] [data-testid=recipe-reference]');
    await reference.waitFor();
    expect(await reference.textContent()).toMatch(/(held|inconclusive)[\s\S]*learned \d\.\d+[\s\S]*reference: the last full-size run shipped with GPT Lab/);
    // A reference measured with another version of the recipe says which.
    const recipes = await web.service.listRecipes();
    const learned = recipes.find((r) => r.name === 'learned-vs-sinusoidal')!;
    const documented = /`learned-vs-sinusoidal` v(\d+)/.exec(readFileSync(join(ROOT, 'docs', 'RECIPES.md'), 'utf8'))![1];
    if (Number(documented) !== learned.version) expect(await reference.textContent()).toContain(`measured with v${documented} of this recipe; this build runs v${learned.version}`);
    expect(pageErrors).toEqual([]);
  });
});
