/**
 * Distributed sweeps, measured (issue 17; results in docs/SCALE.md). Starts its own redis-server on a free loopback
 * port, like the tests.
 *
 *   npx tsx bench/scale.ts cells    [--workers 1,2] [--cells 4] [--steps 100]
 *   npx tsx bench/scale.ts overhead [--workers 1,8,32] [--rounds 4] [--sleep-ms 500] [--checkpoint-kb 1024]
 *
 * cells: real `gpt-lab worker` processes train a sweep of nano cells (the default config but --steps); prints the
 * sweep's wall time and cells per hour for each worker count.
 *
 * overhead: N simulated workers (bench/scaleWorkers.ts, one process) whose "training" is a fixed sleep, each sending what a real cell
 * sends (a started report, metrics, a checkpoint of --checkpoint-kb, a result with every metric row), through the
 * real SweepCoordinator into a real SQLite store; N × rounds cells. The queue's overhead per cell is the time a
 * worker slot spends on a cell beyond the sleep: wall × N / cells − sleep.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SweepCoordinator, type QueuedCell } from '../src/lab/queuedSweep';
import { prepareRun } from '../src/lab/prepare';
import { sweepKeyOf } from '../src/lab/sweeps';
import { RunStore } from '../src/store';
import { redisOptionsOf, type QueueConnection } from '../src/worker/connection';
import { ROOT, startCli, startNode, stopCli } from '../test/helpers/cli';
import { startRedis } from '../test/helpers/redis';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    workers: { type: 'string' },
    cells: { type: 'string', default: '4' },
    steps: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '4' },
    'sleep-ms': { type: 'string', default: '500' },
    'checkpoint-kb': { type: 'string', default: '1024' },
  },
});
const mode = positionals[0];
if (mode !== 'cells' && mode !== 'overhead') throw new Error('usage: bench/scale.ts cells|overhead [options]');
const workerCounts = (values.workers ?? (mode === 'cells' ? '1,2' : '1,8,32')).split(',').map(Number);

/** Distinct cells: the seed varies so every cell is its own run with its own sweep key. */
function cells(count: number, steps: number): QueuedCell[] {
  return Array.from({ length: count }, (_, i) => {
    const prepared = prepareRun({ config: { steps, seed: 1000 + i, sampleEvery: 0 } });
    return { prepared, sweepKey: sweepKeyOf(prepared.config) };
  });
}

async function timedSweep(redis: QueueConnection, dir: string, label: string, queued: QueuedCell[]): Promise<number> {
  const store = RunStore.open(join(dir, `${label}.db`));
  const coordinator = await SweepCoordinator.connect(store, { redis, storeTag: label, reconcileMs: 1000 });
  const started = performance.now();
  const outcomes = await coordinator.run(queued);
  const seconds = (performance.now() - started) / 1000;
  const failed = outcomes.filter((o) => o.status !== 'completed');
  if (failed.length) throw new Error(`${failed.length} cells did not complete: ${failed[0].error}`);
  await coordinator.close();
  store.close();
  return seconds;
}

const server = await startRedis();
const redis = redisOptionsOf(server.url);
const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-scale-'));
process.stdout.write(`mode ${mode}, ${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
try {
  if (mode === 'cells') {
    const count = Number(values.cells);
    for (const n of workerCounts) {
      const workers = Array.from({ length: n }, (_, i) => startCli(['worker', '--queue', server.url, '--name', `bench-${n}-${i}`]));
      await Promise.all(workers.map((w) => w.waitForStderr(/waiting for cells/)));
      const seconds = await timedSweep(redis, dir, `cells-${n}`, cells(count, Number(values.steps)));
      await Promise.all(workers.map((w) => stopCli(w)));
      process.stdout.write(`workers ${n}: ${count} cells in ${seconds.toFixed(1)} s = ${((count * 3600) / seconds).toFixed(0)} cells/hour\n`);
    }
  } else {
    const sleepMs = Number(values['sleep-ms']);
    for (const n of workerCounts) {
      // In their own process, so their JSON work does not share the coordinator's event loop.
      const workers = startNode(['--import', 'tsx', join(ROOT, 'bench', 'scaleWorkers.ts'), server.url, String(n), String(sleepMs), values['checkpoint-kb']!]);
      await workers.waitForStderr(/simulated workers ready/);
      const count = n * Number(values.rounds);
      const seconds = await timedSweep(redis, dir, `overhead-${n}`, cells(count, 100));
      await stopCli(workers);
      const overheadMs = (seconds * 1000 * n) / count - sleepMs;
      const ideal = (count / n) * (sleepMs / 1000);
      process.stdout.write(`workers ${n}: ${count} cells in ${seconds.toFixed(2)} s (ideal ${ideal.toFixed(2)} s), overhead ${overheadMs.toFixed(0)} ms per cell, speed-up ${(((count * sleepMs) / 1000) / seconds).toFixed(1)}×\n`);
    }
  }
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
