/** `gpt-lab worker --queue URL`: trains sweep cells from the queue until Ctrl+C, which hands the current cells back. */
import type { BackendName } from '../engine/backend';
import { describeQueue, redisOptionsOf } from '../worker/connection';
import { startCellWorker } from '../worker/worker';
import { UsageError } from './args';

export interface WorkerOptionValues {
  queue: string;
  name?: string;
  concurrency?: string;
  backend?: BackendName;
  threads?: string;
  lockSeconds?: string;
}

function positiveInt(flag: string, raw: string | undefined, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new UsageError(`--${flag}: expected an integer from 1 to ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

export async function workerCommand(opts: WorkerOptionValues): Promise<void> {
  const redis = redisOptionsOf(opts.queue);
  const concurrency = positiveInt('concurrency', opts.concurrency, 64);
  const threads = positiveInt('threads', opts.threads, 256);
  const lockSeconds = positiveInt('lock-seconds', opts.lockSeconds, 3600);
  if (opts.name !== undefined && !/^[\w.-]{1,64}$/.test(opts.name)) throw new UsageError(`--name: letters, digits, '.', '-' and '_' only (at most 64), got ${JSON.stringify(opts.name)}`);
  const log = (message: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);
  const worker = await startCellWorker({ redis, name: opts.name, concurrency, backend: opts.backend, threads, lockMs: lockSeconds && lockSeconds * 1000, log });
  log(`connected to ${describeQueue(redis)}; Ctrl+C hands the current cell back and exits`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      log('stopping: the current cell goes back to the queue at the end of its step (Ctrl+C again to quit at once)');
      process.once('SIGINT', () => process.exit(130));
      worker.close().then(resolve, (error: unknown) => {
        log(`closing failed: ${error instanceof Error ? error.message : String(error)}`);
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
