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
 * overhead: N simulated workers in this process whose "training" is a fixed sleep, each sending what a real cell
 * sends (a started report, metrics, a checkpoint of --checkpoint-kb, a result with every metric row), through the
 * real SweepCoordinator into a real SQLite store; N × rounds cells. The queue's overhead per cell is the time a
 * worker slot spends on a cell beyond the sleep: wall × N / cells − sleep.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'bullmq';
import { SweepCoordinator, type QueuedCell } from '../src/lab/queuedSweep';
import { prepareRun } from '../src/lab/runner';
import { sweepKeyOf } from '../src/lab/sweepKey';
import { RunStore } from '../src/store';
import { redisOptionsOf, type QueueConnection } from '../src/worker/connection';
import { CELL_QUEUE, cellJobSchema, type CellReport, type CellResult } from '../src/worker/protocol';
import { startCli, stopCli } from '../test/helpers/cli';
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

/** A worker whose training is a sleep, speaking the real protocol. */
function simulatedWorker(redis: QueueConnection, name: string, sleepMs: number, checkpoint: string): Worker {
  return new Worker(
    CELL_QUEUE,
    async (job) => {
      const cell = cellJobSchema.parse(job.data);
      const backend = { name: 'cpu' as const, gpu: false, threads: 1, notes: [] };
      const steps = cell.config.steps as number;
      const metrics = Array.from({ length: steps }, (_, step) => ({ step, tokens: step, wallMs: step, trainLoss: 1, valLoss: null, lr: 1e-3, gradNorm: 1 }));
      const send = (report: CellReport) => job.updateProgress(report);
      await send({ type: 'started', worker: name, backend, resumedFrom: null });
      await new Promise((resolve) => setTimeout(resolve, sleepMs));
      await send({ type: 'metrics', rows: metrics });
      await send({ type: 'checkpoint', checkpoint: { step: steps - 1, data: checkpoint } });
      const result: CellResult = { worker: name, backend, params: 1, status: 'completed', message: null, finalTrainLoss: 1, finalValLoss: 1, tokensPerSecond: 1, metrics, samples: [], checkpoint: { step: steps - 1, data: checkpoint } };
      return result;
    },
    { connection: redis, name, concurrency: 1 },
  );
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
    const checkpoint = Buffer.alloc(Number(values['checkpoint-kb']) * 1024, 7).toString('base64');
    for (const n of workerCounts) {
      const workers = Array.from({ length: n }, (_, i) => simulatedWorker(redis, `sim-${n}-${i}`, sleepMs, checkpoint));
      await Promise.all(workers.map((w) => w.waitUntilReady()));
      const count = n * Number(values.rounds);
      const seconds = await timedSweep(redis, dir, `overhead-${n}`, cells(count, 100));
      await Promise.all(workers.map((w) => w.close()));
      const overheadMs = (seconds * 1000 * n) / count - sleepMs;
      const ideal = (count / n) * (sleepMs / 1000);
      process.stdout.write(`workers ${n}: ${count} cells in ${seconds.toFixed(2)} s (ideal ${ideal.toFixed(2)} s), overhead ${overheadMs.toFixed(0)} ms per cell, speed-up ${(((count * sleepMs) / 1000) / seconds).toFixed(1)}×\n`);
    }
  }
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
