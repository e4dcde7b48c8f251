/**
 * The coordinator of a distributed sweep: one BullMQ job per cell, and the only writer of the SQLite store. Workers
 * (src/worker/) report through the queue; every write here is idempotent per run and step, so reports read twice —
 * live and again in a cell's final result, or after this process restarted — change nothing. A reconcile pass every
 * few seconds catches what the event stream cannot: results that finished while this process was down, and jobs
 * that vanished with a Redis restarted without persistence (they are queued again from the newest stored checkpoint).
 */
import { Queue, QueueEvents, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { resolveBuiltin, hashText } from '../engine/data/corpus';
import type { RunStore } from '../store';
import { checkRedis, type QueueConnection } from '../worker/connection';
import {
  CELL_QUEUE,
  GPT_LAB_VERSION,
  HEARTBEAT_PREFIX,
  MAX_JOB_TEXT_CHARS,
  cellJobSchema,
  cellReportSchema,
  cellResultSchema,
  describeIssues,
  heartbeatSchema,
  type CellJob,
  type CellReport,
  type CellResult,
  type Heartbeat,
} from '../worker/protocol';
import { runRowOf, type PreparedRun } from './prepare';
import { sameCell } from './sweeps';
import { storedVocab } from '../engine/data/tokenizer';

export interface QueuedCell {
  sweepKey: string;
  prepared: PreparedRun;
}

export interface CellOutcome {
  runId: number;
  status: 'completed' | 'diverged' | 'failed';
  /** The worker that finished the cell (null when it was rejected before any worker trained it). */
  worker: string | null;
  error: string | null;
}

export interface CoordinatorOptions {
  redis: QueueConnection;
  /** Tells this store's jobs from another lab's on a shared Redis (default: one tag for every store). */
  storeTag?: string;
  /** The version written into jobs; only tests set another one, to see workers refuse it. */
  version?: string;
  reconcileMs?: number;
  log?(message: string): void;
  /** Called after every write that changes a run's status (the lab re-emits it to its windows). */
  onStatus?(runId: number, status: string, error: string | null): void;
}

const FINISHED = new Set(['completed', 'diverged', 'failed']);
/**
 * Redis keeps about this many queue events. They are only for live progress (results and the reconcile pass do not
 * need them), and a checkpoint report holds a whole checkpoint (~1.4 MB base64 for nano), so the stream stays short.
 */
const EVENTS_KEPT = 500;

export class SweepCoordinator {
  /** jobId → the cell it trains, for every cell not settled yet. */
  private readonly pending = new Map<string, { runId: number; cell: QueuedCell }>();
  private readonly outcomes = new Map<number, { promise: Promise<CellOutcome>; resolve(outcome: CellOutcome): void }>();
  /** Every store write happens in this chain, in the order the events came. */
  private work: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly store: RunStore,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly redis: Redis,
    private readonly options: CoordinatorOptions,
  ) {
    events.on('progress', ({ jobId, data }) => this.serially(() => this.onReport(jobId, data)));
    events.on('completed', ({ jobId }) => this.serially(() => this.settle(jobId)));
    events.on('failed', ({ jobId }) => this.serially(() => this.settle(jobId)));
    events.on('error', (error) => this.log(`queue events: ${error.message}`));
    queue.on('error', (error) => this.log(`queue: ${error.message}`));
    this.timer = setInterval(() => this.serially(() => this.reconcile()), options.reconcileMs ?? 2_000);
  }

  static async connect(store: RunStore, options: CoordinatorOptions): Promise<SweepCoordinator> {
    await checkRedis(options.redis);
    const queue = new Queue(CELL_QUEUE, { connection: options.redis, streams: { events: { maxLen: EVENTS_KEPT } } });
    const events = new QueueEvents(CELL_QUEUE, { connection: options.redis });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    const redis = new Redis(options.redis);
    redis.on('error', () => undefined);
    return new SweepCoordinator(store, queue, events, redis, options);
  }

  /** Queues every cell and resolves once each is completed, diverged or failed. */
  async run(cells: readonly QueuedCell[]): Promise<CellOutcome[]> {
    return this.wait(await this.submit(cells));
  }

  /**
   * Queues every cell, re-attaching to a run an earlier coordinator left unfinished for the same sweep key and
   * config; resolves with the run ids once the jobs are in the queue.
   */
  async submit(cells: readonly QueuedCell[]): Promise<number[]> {
    const runIds: number[] = [];
    for (const cell of cells) {
      const text = cell.prepared.corpus.text;
      if (resolveBuiltin(cell.prepared.corpus.source) === undefined && text.length > MAX_JOB_TEXT_CHARS)
        throw new Error(`${cell.prepared.corpus.source} has ${text.length} characters; a queued sweep carries at most ${MAX_JOB_TEXT_CHARS} per job`);
    }
    for (const cell of cells) {
      const runId = this.runFor(cell);
      runIds.push(runId);
      this.pending.set(this.jobIdOf(runId), { runId, cell });
      this.outcomeOf(runId);
    }
    await this.serially(async () => {
      for (const runId of runIds) await this.enqueue(this.jobIdOf(runId), runId, this.pending.get(this.jobIdOf(runId))!.cell);
    });
    return runIds;
  }

  wait(runIds: readonly number[]): Promise<CellOutcome[]> {
    return Promise.all(runIds.map((runId) => this.outcomeOf(runId).promise));
  }

  /** The workers whose heartbeat has not expired. */
  async workers(): Promise<Heartbeat[]> {
    // SCAN, not KEYS: it does not block a Redis that other labs or BullMQ share.
    const keys: string[] = [];
    for await (const batch of this.redis.scanStream({ match: `${HEARTBEAT_PREFIX}*`, count: 500 })) keys.push(...(batch as string[]));
    const values = keys.length ? await this.redis.mget(keys) : [];
    return values.flatMap((raw) => {
      const parsed = raw ? heartbeatSchema.safeParse(safeJson(raw)) : null;
      return parsed?.success ? [parsed.data] : [];
    });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.work;
    await this.events.close();
    await this.queue.close();
    this.redis.disconnect();
  }

  // ------------------------------------------------------------ the cells

  private jobIdOf(runId: number): string {
    return `${this.options.storeTag ?? 'lab'}-run-${runId}`;
  }

  /** An unfinished run of this sweep key (an earlier coordinator stopped mid-sweep) or a new queued row. */
  private runFor(cell: QueuedCell): number {
    const { config } = cell.prepared;
    const unfinished = this.store.findRunsBySweepKey(cell.sweepKey).find((run) => !FINISHED.has(run.status) && run.status !== 'stopped' && sameCell(run.config, config));
    if (unfinished && ![...this.pending.values()].some((p) => p.runId === unfinished.id)) return unfinished.id;
    const runId = this.store.createRun({ ...runRowOf(cell.prepared), sweepKey: cell.sweepKey, status: 'queued' });
    this.options.onStatus?.(runId, 'queued', null);
    return runId;
  }

  /**
   * Adds the cell's job unless it is already in the queue (BullMQ keeps the existing job of that id), to continue
   * from the newest stored checkpoint — unless `fromStart`, or that checkpoint is of the last step (nothing would be
   * left to train, and the final losses come only from training).
   */
  private async enqueue(jobId: string, runId: number, cell: QueuedCell, fromStart = false): Promise<void> {
    const stored = fromStart ? undefined : this.store.latestCheckpoint(runId);
    const checkpoint = stored && stored.step + 1 < cell.prepared.config.steps ? stored : undefined;
    const job = cellJobOf(runId, cell, checkpoint, this.options.version);
    this.store.updateRun(runId, { ownerPid: process.pid });
    await this.queue.add('cell', job, { jobId });
  }

  private async onReport(jobId: string, raw: unknown): Promise<void> {
    const cell = this.pending.get(jobId);
    if (!cell) return;
    const parsed = cellReportSchema.safeParse(raw);
    if (!parsed.success) {
      this.log(`run ${cell.runId}: ignored a malformed report (${describeIssues(parsed.error)})`);
      return;
    }
    await this.write(jobId, cell.runId, parsed.data);
  }

  private async write(jobId: string, runId: number, report: CellReport): Promise<void> {
    switch (report.type) {
      case 'started':
        this.store.updateRun(runId, { status: 'running', error: null, startedAt: this.store.getRun(runId)?.startedAt ?? Date.now(), backend: { ...report.backend, worker: report.worker } });
        this.options.onStatus?.(runId, 'running', null);
        this.log(`run ${runId}: ${report.worker} took it${report.resumedFrom === null ? '' : ` from the checkpoint at step ${report.resumedFrom}`}`);
        return;
      case 'metrics':
        this.store.appendMetrics(runId, report.rows);
        return;
      case 'sample':
        this.addSampleOnce(runId, report.sample);
        return;
      case 'checkpoint': {
        const { step, data } = report.checkpoint;
        this.store.saveCheckpoint(runId, step, Buffer.from(data, 'base64'));
        // The job carries the newest stored checkpoint, so a worker that re-takes it after a crash starts there
        // (after the last step the cell is done: nothing to resume, and ~1.4 MB less to send per cell).
        const job = step + 1 < this.pending.get(jobId)!.cell.prepared.config.steps ? await this.queue.getJob(jobId) : undefined;
        const current = job?.data as CellJob | undefined;
        if (job && current && (current.resume?.step ?? -1) < step) await job.updateData({ ...current, resume: report.checkpoint }).catch(() => undefined);
      }
    }
  }

  private addSampleOnce(runId: number, sample: { step: number; prompt: string; text: string }): void {
    if (!this.store.samples(runId).some((s) => s.step === sample.step)) this.store.addSample(runId, sample.step, sample.text, sample.prompt);
  }

  /** Writes a finished job into the store (the status last, so a crash in between leaves it to be read again). */
  private async settle(jobId: string): Promise<void> {
    const cell = this.pending.get(jobId);
    if (!cell) return;
    // The state first: a job read before it finished would lack the result that its state then says it has.
    const state = await this.queue.getJobState(jobId);
    if (state === 'unknown') {
      this.log(`run ${cell.runId}: its job is gone from the queue (was Redis restarted?); queued again`);
      await this.enqueue(jobId, cell.runId, cell.cell);
      return;
    }
    if (state !== 'completed' && state !== 'failed') return;
    const job = await this.queue.getJob(jobId);
    if (!job) return;
    const complete = state === 'completed' ? this.ingestResult(cell.runId, job) : this.fail(cell.runId, job.failedReason || 'the worker gave no reason', job.processedBy ?? null);
    await job.remove().catch(() => undefined);
    if (complete) this.pending.delete(jobId);
    else {
      this.log(`run ${cell.runId}: metric rows are missing (reports lost while Redis restarted); training it again from the start`);
      await this.enqueue(jobId, cell.runId, cell.cell, true);
    }
  }

  /** False when a completed cell's store still lacks metric rows: it is not marked completed then. */
  private ingestResult(runId: number, job: Job): boolean {
    const parsed = cellResultSchema.safeParse(job.returnvalue);
    if (!parsed.success) return this.fail(runId, `the worker sent a malformed result (${describeIssues(parsed.error)})`, job.processedBy ?? null);
    const result: CellResult = parsed.data;
    this.store.appendMetrics(runId, result.metrics);
    const steps = (job.data as CellJob).config.steps as number;
    if (result.status === 'completed' && this.store.metrics(runId).length < steps) return false;
    for (const sample of result.samples) this.addSampleOnce(runId, sample);
    // Usually the live report already stored this last checkpoint; a result read after a restart may bring it first.
    if (result.checkpoint && this.store.latestCheckpoint(runId)?.step !== result.checkpoint.step)
      this.store.saveCheckpoint(runId, result.checkpoint.step, Buffer.from(result.checkpoint.data, 'base64'));
    this.store.updateRun(runId, {
      status: result.status,
      finishedAt: Date.now(),
      params: result.params,
      backend: { ...result.backend, worker: result.worker },
      finalTrainLoss: result.finalTrainLoss,
      finalValLoss: result.finalValLoss,
      tokensPerSecond: result.tokensPerSecond,
      error: result.message,
    });
    this.settled({ runId, status: result.status, worker: result.worker, error: result.message });
    this.log(`run ${runId}: ${result.status} on ${result.worker}, val loss ${result.finalValLoss?.toFixed(4) ?? 'n/a'}`);
    return true;
  }

  private fail(runId: number, reason: string, worker: string | null): true {
    const error = `${worker ? `on worker ${worker}` : 'on a worker'}: ${reason}`;
    this.store.updateRun(runId, { status: 'failed', finishedAt: Date.now(), error });
    this.settled({ runId, status: 'failed', worker, error });
    this.log(`run ${runId}: failed: ${error}`);
    return true;
  }

  private async reconcile(): Promise<void> {
    for (const jobId of [...this.pending.keys()]) await this.settle(jobId);
  }

  private outcomeOf(runId: number): { promise: Promise<CellOutcome>; resolve(outcome: CellOutcome): void } {
    let entry = this.outcomes.get(runId);
    if (!entry) {
      let resolve!: (outcome: CellOutcome) => void;
      const promise = new Promise<CellOutcome>((done) => (resolve = done));
      entry = { promise, resolve };
      this.outcomes.set(runId, entry);
    }
    return entry;
  }

  private settled(outcome: CellOutcome): void {
    this.outcomeOf(outcome.runId).resolve(outcome);
    this.options.onStatus?.(outcome.runId, outcome.status, outcome.error);
  }

  /** Runs fn after everything queued before it; an error is logged, never left to crash the lab. */
  private serially(fn: () => Promise<void>): Promise<void> {
    this.work = this.work.then(fn).catch((error: unknown) => this.log(`coordinator: ${error instanceof Error ? error.message : String(error)}`));
    return this.work;
  }

  private log(message: string): void {
    this.options.log?.(message);
  }
}

/** The job of one cell: its config, its data (the text itself unless builtin) and the checkpoint to continue from. */
export function cellJobOf(runId: number, cell: QueuedCell, checkpoint?: { step: number; data: Uint8Array }, version = GPT_LAB_VERSION): CellJob {
  const { config, corpus } = cell.prepared;
  return cellJobSchema.parse({
    version,
    runId,
    sweepKey: cell.sweepKey,
    config,
    data: {
      source: corpus.source,
      hash: corpus.hash,
      ...(resolveBuiltin(corpus.source) === undefined ? { text: corpus.text } : {}),
      vocab: storedVocab(corpus.tokenizer),
    },
    ...(checkpoint ? { resume: { step: checkpoint.step, data: Buffer.from(checkpoint.data).toString('base64') } } : {}),
  });
}

/** A store's tag for job ids: the same database file always gets the same jobs back after a restart. */
export function storeTagOf(dbPath: string): string {
  return hashText(dbPath).slice(0, 12);
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}
