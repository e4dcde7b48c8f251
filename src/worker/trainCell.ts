/**
 * Trains one sweep cell on this machine with no database: every step, sample and checkpoint goes to `report`, and
 * the finished cell comes back as a CellResult. A bad job throws JobRejected, whose message lands in the cell's row.
 */
import type { BackendInfo } from '../engine/backend';
import { ConfigError, resolveConfig, type RunConfig } from '../engine/config';
import { buildCorpus, resolveBuiltin, type Corpus } from '../engine/data/corpus';
import { DataError } from '../engine/data/errors';
import { GPT, modelConfigOf } from '../engine/model/gpt';
import { Trainer } from '../engine/train/trainer';
import { BUILTIN_DATA_SEED } from '../lab/corpusLoader';
import { PendingHelpers } from '../lab/parallel/pendingHelpers';
import { GPT_LAB_VERSION, cellJobSchema, describeIssues, type CellJob, type CellReport, type CellResult } from './protocol';

/** The job can never train, on this worker or another: the queue must not retry it. */
export class JobRejected extends Error {
  override name = 'JobRejected';
}

const METRICS_EVERY_ROWS = 25;
const METRICS_EVERY_MS = 500;

export interface CellTraining {
  /** Stops at the end of the current step with a checkpoint; the promise then resolves with 'handed back'. */
  stop(): void;
  done: Promise<CellResult | 'handed back'>;
}

export interface TrainCellOptions {
  worker: string;
  backend: BackendInfo;
  /** Overrides the cell's threads on this machine (wasm/cpu only). */
  threads?: number;
  /** Reports are sent in order; training waits for each checkpoint report to be sent. */
  report(report: CellReport): Promise<void>;
}

/** Validates everything a worker must not trust: the payload's shape, its version, its config and its data. */
export function parseCellJob(raw: unknown): { job: CellJob; config: RunConfig; corpus: Corpus } {
  const parsed = cellJobSchema.safeParse(raw);
  if (!parsed.success) throw new JobRejected(`malformed job: ${describeIssues(parsed.error)}`);
  const job = parsed.data;
  if (job.version !== GPT_LAB_VERSION)
    throw new JobRejected(`the job is for GPT Lab ${job.version} but this worker runs ${GPT_LAB_VERSION}; run workers of the lab's version`);
  let config: RunConfig;
  let corpus: Corpus;
  try {
    config = resolveConfig(job.config as Partial<RunConfig>);
    const builtin = resolveBuiltin(job.data.source) !== undefined;
    if (!builtin && job.data.text === undefined) throw new DataError('empty', `the job carries no text for ${job.data.source}`);
    corpus = buildCorpus({ source: job.data.source, text: builtin ? undefined : job.data.text, blockSize: config.blockSize, valFraction: config.valFraction, tokenizer: config.tokenizer, vocab: job.data.vocab ?? undefined, seed: BUILTIN_DATA_SEED });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DataError) throw new JobRejected(`invalid job: ${error.message.replace(/\n/g, '; ')}`);
    throw error;
  }
  if (corpus.hash !== job.data.hash) throw new JobRejected(`the data of ${job.data.source} on this worker differs from the lab's (hash ${corpus.hash}, expected ${job.data.hash})`);
  return { job, config, corpus };
}

export function trainCell(raw: unknown, options: TrainCellOptions): CellTraining {
  const { job, config: cellConfig, corpus } = parseCellJob(raw);
  const config = options.threads ? { ...cellConfig, threads: options.threads } : cellConfig;
  const model = new GPT(modelConfigOf(config, corpus.tokenizer.size), config.seed);
  let trainer: Trainer | null = null;
  let stopRequested = false;

  const done = (async (): Promise<CellResult | 'handed back'> => {
    const helpers = await PendingHelpers.start(config, model.cfg).forBackend(options.backend);
    const metrics: CellResult['metrics'] = [];
    const samples: CellResult['samples'] = [];
    let unsent: CellResult['metrics'] = [];
    let lastSent = performance.now();
    let checkpoint: CellResult['checkpoint'] | null = null;
    const sendMetrics = (): Promise<void> => {
      const rows = unsent;
      unsent = [];
      lastSent = performance.now();
      return rows.length ? options.report({ type: 'metrics', rows }) : Promise.resolve();
    };
    trainer = new Trainer({
      model,
      config,
      corpus,
      helpers,
      resumeFrom: job.resume ? Buffer.from(job.resume.data, 'base64') : undefined,
      callbacks: {
        onStep: (m) => {
          const row = { step: m.step, tokens: m.tokens, wallMs: m.wallMs, trainLoss: m.trainLoss, valLoss: m.valLoss, lr: m.lr, gradNorm: m.gradNorm };
          metrics.push(row);
          unsent.push(row);
          if (m.valLoss !== null || unsent.length >= METRICS_EVERY_ROWS || performance.now() - lastSent >= METRICS_EVERY_MS) void sendMetrics();
        },
        onSample: (sample) => {
          samples.push(sample);
          void options.report({ type: 'sample', sample });
        },
        onCheckpoint: async (step, data) => {
          checkpoint = { step, data: Buffer.from(data).toString('base64') };
          await sendMetrics();
          await options.report({ type: 'checkpoint', checkpoint });
        },
      },
    });
    if (stopRequested) trainer.stop();
    await options.report({ type: 'started', worker: options.worker, backend: options.backend, resumedFrom: job.resume?.step ?? null });
    try {
      const outcome = await trainer.run();
      await sendMetrics();
      if (outcome.status === 'stopped') return 'handed back';
      return {
        worker: options.worker,
        backend: options.backend,
        params: model.parameterCount,
        status: outcome.status,
        message: outcome.message ?? null,
        finalTrainLoss: outcome.finalTrainLoss,
        finalValLoss: outcome.finalValLoss,
        tokensPerSecond: outcome.tokensPerSecond,
        metrics,
        samples,
        // A diverged run stops before its last checkpoint; the lab then keeps the newest one it has.
        checkpoint: checkpoint ?? job.resume ?? null,
      };
    } finally {
      trainer.dispose();
      model.dispose();
      await helpers?.dispose();
    }
  })();
  done.catch(() => undefined);
  return {
    stop: () => {
      stopRequested = true;
      trainer?.stop();
    },
    done,
  };
}
