/**
 * `gpt-lab worker`: takes sweep cells from the BullMQ queue, trains them here and reports everything back through the
 * queue. It holds no database. close() (Ctrl+C) stops each cell at the end of its step and hands it back to the queue,
 * where another worker continues from the newest checkpoint the lab stored.
 */
import { hostname } from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { initBackend, type BackendInfo, type BackendName } from '../engine/backend';
import { checkRedis, type QueueConnection } from './connection';
import { CELL_QUEUE, HEARTBEAT_EVERY_MS, HEARTBEAT_PREFIX, HEARTBEAT_TTL_S, type CellReport, type CellResult, type Heartbeat } from './protocol';
import { JobRejected, trainCell, type CellTraining } from './trainCell';

export interface CellWorkerOptions {
  redis: QueueConnection;
  name?: string;
  concurrency?: number;
  backend?: BackendName;
  threads?: number;
  /** How long a cell's lock lives without renewal: a killed worker's cell goes to another worker after about this. */
  lockMs?: number;
  log?(message: string): void;
}

export interface CellWorker {
  name: string;
  backend: BackendInfo;
  /** Hands back the cells in training (each stops at the end of its step) and disconnects. */
  close(): Promise<void>;
}

export async function startCellWorker(options: CellWorkerOptions): Promise<CellWorker> {
  await checkRedis(options.redis);
  const backend = await initBackend(options.backend);
  const name = options.name ?? `${hostname()}-${process.pid}`.slice(-64);
  const log = options.log ?? (() => undefined);
  const lockMs = options.lockMs ?? 30_000;
  const active = new Map<string, { runId: number; training: CellTraining }>();

  const processCell = async (job: Job, token?: string): Promise<CellResult> => {
    const runId = typeof job.data?.runId === 'number' ? job.data.runId : 0;
    let training: CellTraining;
    try {
      training = trainCell(job.data, { worker: name, backend, threads: options.threads, report: inOrder(job) });
    } catch (error) {
      if (!(error instanceof JobRejected)) throw error;
      log(`job ${job.id}: rejected: ${error.message}`);
      throw new UnrecoverableError(error.message);
    }
    active.set(job.id!, { runId, training });
    log(`job ${job.id}: training run ${runId}${job.data.resume ? ` from step ${job.data.resume.step + 1}` : ''}`);
    try {
      const result = await training.done;
      if (result === 'handed back') {
        await job.moveToWait(token);
        log(`job ${job.id}: handed back`);
        throw new WaitingError();
      }
      log(`job ${job.id}: ${result.status}, val loss ${result.finalValLoss?.toFixed(4) ?? 'n/a'}`);
      return result;
    } finally {
      active.delete(job.id!);
    }
  };

  const worker = new Worker(CELL_QUEUE, processCell, {
    connection: options.redis,
    name,
    concurrency: options.concurrency ?? 1,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    // A cell may be re-taken after several crashes before it counts as failed.
    maxStalledCount: 5,
  });
  worker.on('error', (error) => log(`queue: ${error.message}`));

  const beat = new Redis(options.redis);
  beat.on('error', () => undefined);
  const sendHeartbeat = (): void => {
    const heartbeat: Heartbeat = { name, backend, cells: [...active.values()].map((a) => a.runId), at: Date.now() };
    beat.set(`${HEARTBEAT_PREFIX}${name}`, JSON.stringify(heartbeat), 'EX', HEARTBEAT_TTL_S).catch(() => undefined);
  };
  sendHeartbeat();
  const timer = setInterval(sendHeartbeat, HEARTBEAT_EVERY_MS);
  log(`worker ${name} on ${backend.name}${backend.gpu ? ' (GPU)' : ''} waiting for cells`);

  return {
    name,
    backend,
    close: async () => {
      clearInterval(timer);
      for (const { training } of active.values()) training.stop();
      await worker.close();
      await beat.del(`${HEARTBEAT_PREFIX}${name}`).catch(() => undefined);
      beat.disconnect();
    },
  };
}

/** A job's reports, sent one after another so the lab reads them in the order they happened. */
function inOrder(job: Job): (report: CellReport) => Promise<void> {
  let last: Promise<void> = Promise.resolve();
  return (report) => {
    last = last.then(() => job.updateProgress(report)).catch(() => undefined);
    return last;
  };
}
