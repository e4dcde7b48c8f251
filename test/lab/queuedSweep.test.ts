/**
 * The coordinator against a real redis-server and real `gpt-lab worker` processes: a worker killed with -9 or
 * stopped with Ctrl+C mid-cell, and Redis restarted without its data, all end with every cell completed, metric rows
 * contiguous and the steps before the break kept as first written (not trained again), with the losses of an
 * uninterrupted run; a job of another version or a malformed one fails with a message naming why.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SweepCoordinator, type CellOutcome } from '../../src/lab/queuedSweep';
import { trainNewRun } from '../../src/lab/runner';
import { RunStore, type MetricRow } from '../../src/store';
import { redisOptionsOf } from '../../src/worker/connection';
import { CELL_QUEUE, cellJobSchema, type CellResult } from '../../src/worker/protocol';
import { useWasmBackend } from '../helpers/backend';
import { tinyCell } from '../helpers/cells';
import { startCli, stopCli, type CliProcess } from '../helpers/cli';
import { NO_REDIS_REASON, hasRedis, startRedis, type TestRedis } from '../helpers/redis';

useWasmBackend();

/** Long enough to be interrupted mid-cell even on a fast machine, short enough to stay a few seconds. */
const LONG = { steps: 300, checkpointEvery: 20, evalEvery: 50, sampleEvery: 100 };
const LOCK_SECONDS = '2';

let dir: string;
let redis: TestRedis;
let uninterrupted: MetricRow[];
let storeCount = 0;
const workers: CliProcess[] = [];

describe.skipIf(!hasRedis)(`queued sweep cells${hasRedis ? '' : ` (skipped: ${NO_REDIS_REASON})`}`, () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gpt-lab-queue-'));
    redis = await startRedis();
    const local = RunStore.open(join(dir, 'local.db'));
    uninterrupted = local.metrics((await trainNewRun(local, tinyCell(LONG).prepared)).runId);
    local.close();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => stopCli(w)));
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startWorker(name: string): Promise<CliProcess> {
    const worker = startCli(['worker', '--queue', redis.url, '--name', name, '--backend', 'wasm', '--lock-seconds', LOCK_SECONDS]);
    workers.push(worker);
    await worker.waitForStderr(/waiting for cells/);
    return worker;
  }

  async function coordinate(options: { version?: string } = {}): Promise<{ store: RunStore; coordinator: SweepCoordinator }> {
    const store = RunStore.open(join(dir, `lab-${++storeCount}.db`));
    const coordinator = await SweepCoordinator.connect(store, { redis: redisOptionsOf(redis.url), storeTag: `t${storeCount}`, reconcileMs: 500, ...options });
    return { store, coordinator };
  }

  async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Starts the long cell on worker A, interrupts it once the store has its first checkpoint (step 19), then (unless
   * `onlyA`) starts worker B.
   */
  async function interruptedCell(interrupt: (a: CliProcess) => Promise<void>, onlyA = false): Promise<{ outcome: CellOutcome; metrics: MetricRow[]; before: MetricRow[]; cut: number }> {
    const { store, coordinator } = await coordinate();
    const a = await startWorker(`a${storeCount}`);
    const running = coordinator.run([tinyCell(LONG)]);
    const runId = () => store.listRuns()[0]?.id;
    await until('the first checkpoint', () => runId() !== undefined && store.latestCheckpoint(runId()!) !== undefined);
    const cut = store.latestCheckpoint(runId()!)!.step;
    const before = store.metrics(runId()!).filter((m) => m.step <= cut);
    await interrupt(a);
    if (!onlyA) await startWorker(`b${storeCount}`);
    const [outcome] = await running;
    const metrics = store.metrics(outcome.runId);
    await coordinator.close();
    store.close();
    return { outcome, metrics, before, cut };
  }

  /** Every step once, with the losses of the uninterrupted run. */
  function expectComplete({ metrics }: { metrics: MetricRow[] }): void {
    expect(metrics.map((m) => m.step)).toEqual(Array.from({ length: LONG.steps }, (_, i) => i));
    expect(metrics.map((m) => m.trainLoss)).toEqual(uninterrupted.map((m) => m.trainLoss));
  }

  function expectResumedExactly(result: { metrics: MetricRow[]; before: MetricRow[]; cut: number }): void {
    expectComplete(result);
    // Rewritten rows would carry the second worker's wall times: steps up to the checkpoint were not trained again.
    expect(result.metrics.filter((m) => m.step <= result.cut)).toEqual(result.before);
  }

  it('a worker killed with -9 mid-cell: another worker continues from the last stored checkpoint', async () => {
    const result = await interruptedCell(async (a) => {
      a.child.kill('SIGKILL');
      await a.exited;
    });
    expect(result.outcome).toMatchObject({ status: 'completed', worker: `b${storeCount}` });
    expectResumedExactly(result);
  });

  it('Ctrl+C on a worker hands its cell back at the end of the step; it exits 0', async () => {
    let exitCode: number | null = null;
    let log = '';
    const result = await interruptedCell(async (a) => {
      a.child.kill('SIGINT');
      exitCode = await a.exited;
      log = a.stderr();
    });
    expect(exitCode).toBe(0);
    expect(log, log).toMatch(/handed back/);
    expect(result.outcome).toMatchObject({ status: 'completed', worker: `b${storeCount}` });
    expectResumedExactly(result);
  });

  it('Redis restarted without its data: worker and coordinator reconnect, the cell is queued again and finishes', async () => {
    const result = await interruptedCell(async () => redis.restart(), true);
    expect(result.outcome).toMatchObject({ status: 'completed', worker: `a${storeCount}` });
    // The worker trained on while Redis was down and its reports of that time are gone, so the coordinator may have
    // had it train the cell again from the start: complete and identical either way.
    expectComplete(result);
  });

  it('Redis restarted and the worker killed: the cell continues from the checkpoint in the store, its only copy', async () => {
    const result = await interruptedCell(async (a) => {
      a.child.kill('SIGKILL');
      await Promise.all([a.exited, redis.restart()]);
    });
    expect(result.outcome).toMatchObject({ status: 'completed', worker: `b${storeCount}` });
    expectResumedExactly(result);
  });

  it('a completed result that leaves metric rows missing is trained again from the start, not marked completed', async () => {
    const { store, coordinator } = await coordinate();
    const takes: (number | null)[] = [];
    const rows = (count: number) => Array.from({ length: count }, (_, step) => ({ step, tokens: step, wallMs: 0, trainLoss: 1, valLoss: null, lr: 0, gradNorm: 0 }));
    // Stands in for a worker whose live reports were lost: its first result brings only 5 of 30 rows.
    const worker = new Worker(
      CELL_QUEUE,
      async (job): Promise<CellResult> => {
        const cell = cellJobSchema.parse(job.data);
        takes.push(cell.resume?.step ?? null);
        // A mid-run checkpoint in the store must not be resumed from: rows before it are missing too.
        if (takes.length === 1) await job.updateProgress({ type: 'checkpoint', checkpoint: { step: 9, data: 'AAAA' } });
        const backend = { name: 'cpu' as const, gpu: false, threads: 1, notes: [] };
        return { worker: 'sim', backend, params: 1, status: 'completed', message: null, finalTrainLoss: 1, finalValLoss: 1, tokensPerSecond: 1, metrics: rows(takes.length === 1 ? 5 : 30), samples: [], checkpoint: { step: 29, data: 'AAAA' } };
      },
      { connection: redisOptionsOf(redis.url) },
    );
    const [outcome] = await coordinator.run([tinyCell()]);
    await worker.close();
    expect(takes).toEqual([null, null]);
    expect(outcome.status).toBe('completed');
    expect(store.metrics(outcome.runId).map((m) => m.step)).toEqual(rows(30).map((r) => r.step));
    await coordinator.close();
    store.close();
  });

  it('a job for another GPT Lab version fails with the reason in its row; a malformed job fails without a crash', async () => {
    const { store, coordinator } = await coordinate({ version: '0.0.0-elsewhere' });
    const worker = await startWorker('v');
    const [outcome] = await coordinator.run([tinyCell()]);
    expect(outcome).toMatchObject({ status: 'failed', worker: 'v' });
    expect(store.getRun(outcome.runId)?.error).toMatch(/on worker v: the job is for GPT Lab 0\.0\.0-elsewhere but this worker runs \d/);

    const queue = new Queue(CELL_QUEUE, { connection: redisOptionsOf(redis.url) });
    await queue.add('cell', { version: 1, runId: 'x' }, { jobId: 'junk' });
    let reason: string | undefined;
    const deadline = Date.now() + 30_000;
    while (reason === undefined && Date.now() < deadline) {
      const job = await queue.getJob('junk');
      if ((await job?.getState()) === 'failed') reason = job?.failedReason;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(reason).toMatch(/^malformed job: version: .*string.*; runId: .*number/);
    expect(worker.child.exitCode).toBeNull();
    await queue.close();
    await coordinator.close();
    store.close();
  });
});
