/**
 * N simulated `gpt-lab worker`s in one process for bench/scale.ts overhead: each takes a cell, sleeps instead of
 * training, and sends what a real cell sends (started, every metric row, one checkpoint of CHECKPOINT_KB, a result).
 *
 *   tsx bench/scaleWorkers.ts URL N SLEEP_MS CHECKPOINT_KB
 */
import { Worker } from 'bullmq';
import { redisOptionsOf } from '../src/worker/connection';
import { CELL_QUEUE, cellJobSchema, type CellReport, type CellResult } from '../src/worker/protocol';

const [url, count, sleepArg, checkpointKb] = process.argv.slice(2);
const redis = redisOptionsOf(url);
const sleepMs = Number(sleepArg);
const checkpoint = Buffer.alloc(Number(checkpointKb) * 1024, 7).toString('base64');
const backend = { name: 'cpu' as const, gpu: false, threads: 1, notes: [] };

function simulatedWorker(name: string): Worker {
  return new Worker(
    CELL_QUEUE,
    async (job): Promise<CellResult> => {
      const cell = cellJobSchema.parse(job.data);
      const steps = cell.config.steps as number;
      const metrics = Array.from({ length: steps }, (_, step) => ({ step, tokens: step, wallMs: step, trainLoss: 1, valLoss: null, lr: 1e-3, gradNorm: 1 }));
      const send = (report: CellReport) => job.updateProgress(report);
      await send({ type: 'started', worker: name, backend, resumedFrom: null });
      await new Promise((resolve) => setTimeout(resolve, sleepMs));
      await send({ type: 'metrics', rows: metrics });
      await send({ type: 'checkpoint', checkpoint: { step: steps - 1, data: checkpoint } });
      return { worker: name, backend, params: 1, status: 'completed', message: null, finalTrainLoss: 1, finalValLoss: 1, tokensPerSecond: 1, metrics, samples: [], checkpoint: { step: steps - 1, data: checkpoint } };
    },
    { connection: redis, name, concurrency: 1 },
  );
}

const workers = Array.from({ length: Number(count) }, (_, i) => simulatedWorker(`sim-${count}-${i}`));
await Promise.all(workers.map((w) => w.waitUntilReady()));
process.stderr.write('simulated workers ready\n');
process.once('SIGTERM', () => void Promise.all(workers.map((w) => w.close())).then(() => process.exit(0)));
