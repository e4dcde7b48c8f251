/**
 * Every core, or every core but one, while the UI is attached (issue 21, item 3). The lab in web mode with Debian's
 * Chromium (headless, software rendering: the window's drawing costs CPU as it does on a laptop without a GPU
 * compositor) showing a run's live view while the run trains, once per `--threads` choice, the choices alternating
 * over `--rounds`. For each run: its tokens/s (the trainer's own figure), and what the user sees of the page while
 * it trains: frame gaps from requestAnimationFrame (median, p95, max) and the long tasks (> 50 ms) the page's main
 * thread ran, from PerformanceObserver.
 *
 *   npx tsx bench/uiThreads.ts [--preset nano] [--steps 300] [--threads auto,1] [--rounds 2] [--json out.json]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { startWebMode } from '../src/server/webMode';
import { buildRendererIfStale, CHROMIUM, FLAGS } from '../test/e2e/browser';

const { values } = parseArgs({
  options: {
    preset: { type: 'string', default: 'nano' },
    steps: { type: 'string', default: '300' },
    threads: { type: 'string', default: 'auto,1' },
    rounds: { type: 'string', default: '2' },
    json: { type: 'string' },
  },
});
const choices = values.threads!.split(',').map((t) => (t === 'auto' ? 'auto' : Number(t)));
const steps = Number(values.steps);

interface PageLoad {
  frames: number[];
  longTasks: number[];
}

/**
 * Starts recording frame times and long tasks in the page. A string, not a function: tsx would wrap a function's
 * inner functions in a helper the page does not have.
 */
const RECORD = `
  if (!window.__load) {
    const frame = (t) => { window.__load.frames.push(t); requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__load.longTasks.push(e.duration); }).observe({ type: 'longtask' });
  }
  window.__load = { frames: [], longTasks: [] };
`;

async function record(page: Page): Promise<void> {
  await page.evaluate(RECORD);
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

buildRendererIfStale();
const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-ui-threads-'));
const web = await startWebMode({ dbPath: join(dir, 'runs.db'), port: 0 });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
const rows: Record<string, unknown>[] = [];
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(web.server.openUrl);
  await page.waitForSelector('[data-testid=view-new]');
  console.log(`${os.cpus().length} cores, preset ${values.preset}, ${steps} steps, load ${os.loadavg()[0]!.toFixed(1)}`);
  console.log(`${'round'.padEnd(7)}${'threads'.padEnd(9)}${'tok/s'.padEnd(9)}${'frame p50/p95/max ms'.padEnd(23)}${'long tasks (n, total ms)'}`);
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const threads of choices) {
      const { runId } = await web.service.startRun({ config: { preset: values.preset as 'nano', steps, threads, sampleEvery: 0 } });
      await page.evaluate((id) => (location.hash = `#/live/${id}`), runId);
      await page.waitForSelector('[data-testid=live-status][data-status=running]', { timeout: 120_000 });
      await record(page);
      let run = await web.service.getRun({ runId });
      while (run.status === 'running' || run.status === 'queued') {
        await page.waitForTimeout(250);
        run = await web.service.getRun({ runId });
      }
      const load = (await page.evaluate('window.__load')) as PageLoad;
      const gaps = load.frames.slice(1).map((t, i) => t - load.frames[i]!).sort((a, b) => a - b);
      const row = {
        round,
        threads,
        resolvedThreads: run.config.threads,
        status: run.status,
        tokensPerSecond: run.tokensPerSecond,
        frameP50: quantile(gaps, 0.5),
        frameP95: quantile(gaps, 0.95),
        frameMax: gaps.at(-1) ?? NaN,
        longTasks: load.longTasks.length,
        longTaskMs: load.longTasks.reduce((a, b) => a + b, 0),
      };
      rows.push(row);
      const f = (x: number) => x.toFixed(0);
      console.log(
        `${String(round).padEnd(7)}${`${threads}${threads === 'auto' ? `=${row.resolvedThreads}` : ''}`.padEnd(9)}${f(row.tokensPerSecond ?? NaN).padEnd(9)}` +
          `${`${row.frameP50.toFixed(1)} / ${row.frameP95.toFixed(1)} / ${f(row.frameMax)}`.padEnd(23)}${row.longTasks}, ${f(row.longTaskMs)}`,
      );
    }
  }
} finally {
  await browser.close();
  await web.close();
  rmSync(dir, { recursive: true, force: true });
}
if (values.json) writeFileSync(values.json, `${JSON.stringify({ date: new Date().toISOString(), cores: os.cpus().length, preset: values.preset, steps, rows }, null, 2)}\n`);
