/**
 * Trains one run into the store: everything is validated and the data loaded before a row is written, then
 * metrics are flushed in batches, samples and checkpoints saved as they come, and the final status recorded.
 */
import { backendForRun, type BackendInfo } from '../engine/backend';
import { resolveConfig, type RunConfig, type ThreadsChoice } from '../engine/config';
import type { Corpus } from '../engine/data/corpus';
import { GPT, modelConfigOf } from '../engine/model/gpt';
import { decodeCheckpoint, nonFiniteTensor } from '../engine/train/checkpoint';
import { timePhase, type PhaseProfile } from '../engine/train/profile';
import { Trainer, type StepMetrics, type TrainOutcome } from '../engine/train/trainer';
import { DataError } from '../engine/data/errors';
import { currentOwner, StoreError, type MetricRow, type RunStore } from '../store';
import { loadCorpus } from './corpusLoader';
import { PendingHelpers } from './parallel/pendingHelpers';
import type { ThreadHelpers } from '../hosts/gradientThreads/client';
import { runRowOf, type PreparedRun } from './prepare';
import { storedVocab } from '../engine/data/tokenizer';

/** Metrics reach the database at least this often; a crash loses at most one interval. */
export const METRIC_FLUSH_MS = 1000;
export const METRIC_FLUSH_ROWS = 50;

export interface RunEvents {
  onStep?(runId: number, metrics: StepMetrics): void;
  onSample?(runId: number, sample: { step: number; prompt: string; text: string }): void;
  /** Called with the trainer once the run exists, so the caller can stop or pause it. */
  onStart?(runId: number, trainer: Trainer): void;
  /** Opt-in: receives the time of each phase of the run (start-up, steps, store writes, …). */
  profile?: PhaseProfile;
}

export interface RunResult extends TrainOutcome {
  runId: number;
  backend: BackendInfo;
  params: number;
}

/** The store's row of a step's metrics (without the live-only tokens/s). */
function metricRow(m: StepMetrics): MetricRow {
  return { step: m.step, tokens: m.tokens, wallMs: m.wallMs, trainLoss: m.trainLoss, valLoss: m.valLoss, lr: m.lr, gradNorm: m.gradNorm };
}

/** A stored run that cannot be continued as asked (finished, no checkpoint, a damaged one, trained elsewhere). */
export class RunConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunConflictError';
  }
}

export async function trainNewRun(store: RunStore, prepared: PreparedRun, events: RunEvents = {}): Promise<RunResult> {
  return setUpAndTrain(store, prepared.config, prepared.corpus, events, ({ backend, model }) => {
    const storeStarted = performance.now();
    const runId = store.createRun({ ...runRowOf(prepared), params: model.parameterCount, backend, status: 'running', owner: currentOwner() });
    events.profile?.add('store', storeStarted);
    return runId;
  });
}

/** Train a run whose row the lab created earlier (status 'queued', or an interrupted run with no checkpoint). */
export async function trainQueuedRun(store: RunStore, runId: number, prepared: PreparedRun, events: RunEvents = {}): Promise<RunResult> {
  const { config, corpus } = prepared;
  // A retrain from step 0 replaces whatever an earlier attempt stored.
  return setUpAndTrain(store, config, corpus, events, ({ backend, model }) => {
    takeOver(store, runId, { error: null, finishedAt: null, dataHash: corpus.hash, vocab: storedVocab(corpus.tokenizer), params: model.parameterCount, backend }, -1);
    return runId;
  });
}

/**
 * Continue a run from its latest checkpoint with the same optimizer state and data position. `threads` trains the
 * rest on another thread count (this machine's cores, say): the numbers do not depend on it.
 */
export async function resumeRun(store: RunStore, runId: number, events: RunEvents = {}, threads?: ThreadsChoice): Promise<RunResult> {
  const run = store.getRun(runId);
  if (!run) throw new RunConflictError(`run ${runId} does not exist`);
  if (run.damaged) throw new RunConflictError(`run ${runId} cannot be resumed: its stored record is damaged (${run.damaged})`);
  if (run.status === 'completed') throw new RunConflictError(`run ${runId} already completed; nothing to resume`);
  const checkpoint = store.latestCheckpoint(runId);
  if (!checkpoint) throw new RunConflictError(`run ${runId} has no checkpoint to resume from`);
  checkCheckpoint(runId, checkpoint);
  const stored = resolveConfig(run.config as RunConfig);
  const config = threads === undefined ? stored : resolveConfig({ ...stored, threads });
  const changed = (why: string): RunConflictError =>
    new RunConflictError(`the data of run ${runId} (${config.data}) changed since it was trained${why}; resume needs the same data: restore it, or start a new run on the new text`);
  let corpus: Corpus;
  try {
    corpus = loadCorpus(config, run.vocab ?? undefined, store);
  } catch (error) {
    // A missing or unreadable file is reported as it is; a readable one that no longer fits the run has changed.
    if (error instanceof DataError && ['too-short', 'unknown-char', 'unknown-id', 'bad-vocab'].includes(error.code)) throw changed(` (${error.message.replace(/; use --block.*$/, '')})`);
    throw error;
  }
  if (run.dataHash && corpus.hash !== run.dataHash) throw changed('');
  // Rows the killed attempt stored past the checkpoint are redone from it; keeping them would duplicate or outlive them.
  return setUpAndTrain(store, config, corpus, events, () => {
    takeOver(store, runId, { error: null }, checkpoint.step);
    return runId;
  }, checkpoint.data);
}

/**
 * The setup every way of starting a run shares: helper threads start while the backend loads and the model is
 * built (a failure on the way stops them), then `settle` creates or claims the run's row, then it trains.
 */
async function setUpAndTrain(
  store: RunStore,
  config: RunConfig,
  corpus: Corpus,
  events: RunEvents,
  settle: (loaded: { backend: BackendInfo; model: GPT }) => number,
  resumeFrom?: Uint8Array,
): Promise<RunResult> {
  const { profile } = events;
  const modelConfig = modelConfigOf(config, corpus.tokenizer.size);
  const helpers = PendingHelpers.start(config, modelConfig);
  const { backend, model, runId } = await unlessFailed(helpers, async () => {
    const backend = await timePhase(profile, 'backend', () => backendForRun(config.backend));
    const model = await timePhase(profile, 'model', () => new GPT(modelConfig, config.seed));
    return { backend, model, runId: settle({ backend, model }) };
  });
  return trainStoredRun(store, runId, config, corpus, model, backend, events, helpers, resumeFrom);
}

/** Makes this process the trainer of a stored run and drops the rows stored after step `keepThrough` (−1: all). */
function takeOver(store: RunStore, runId: number, patch: Parameters<RunStore['claimRun']>[2], keepThrough: number): void {
  claim(store, runId, patch);
  store.truncateAfter(runId, keepThrough);
}

/** A checkpoint must decode, match its checksum and hold only finite numbers before a run continues from it. */
function checkCheckpoint(runId: number, checkpoint: { step: number; data: Uint8Array }): void {
  let problem: string | null;
  try {
    problem = nonFiniteTensor(decodeCheckpoint(checkpoint.data));
  } catch (error) {
    problem = error instanceof Error ? error.message : String(error);
  }
  if (problem) throw new RunConflictError(`run ${runId} cannot be resumed: its checkpoint at step ${checkpoint.step} is unusable (${problem})`);
}

/** Makes this process the run's trainer, or says which live process already is. */
function claim(store: RunStore, runId: number, patch: Parameters<RunStore['claimRun']>[2]): void {
  try {
    store.claimRun(runId, currentOwner(), patch);
  } catch (error) {
    if (error instanceof StoreError && error.code === 'RUN_BUSY') throw new RunConflictError(error.message);
    throw error;
  }
}

async function trainStoredRun(
  store: RunStore,
  runId: number,
  config: RunConfig,
  corpus: Corpus,
  model: GPT,
  backend: BackendInfo,
  events: RunEvents,
  pendingHelpers: PendingHelpers,
  resumeFrom?: Uint8Array,
): Promise<RunResult> {
  const profile = events.profile;
  let pending: MetricRow[] = [];
  let lastFlush = performance.now();
  const flush = (): void => {
    const started = performance.now();
    if (pending.length) store.appendMetrics(runId, pending);
    pending = [];
    lastFlush = profile?.add('store', started) ?? performance.now();
  };
  let helpers: ThreadHelpers | undefined;
  try {
    const helpersStarted = performance.now();
    helpers = await pendingHelpers.forBackend(backend);
    profile?.add('helpers', helpersStarted);
  } catch (error) {
    model.dispose();
    store.updateRun(runId, { status: 'failed', finishedAt: Date.now(), error: error instanceof Error ? error.message : String(error) });
    throw error;
  }
  const trainer = new Trainer({
    model,
    config,
    corpus,
    resumeFrom,
    helpers,
    profile,
    callbacks: {
      onStep: (m) => {
        pending.push(metricRow(m));
        if (m.valLoss !== null || pending.length >= METRIC_FLUSH_ROWS || performance.now() - lastFlush >= METRIC_FLUSH_MS) flush();
        const started = performance.now();
        events.onStep?.(runId, m);
        profile?.add('progress', started);
      },
      onFinalEval: (m) => {
        // Same step as the last row: the store replaces it, now with its val loss.
        pending.push(metricRow(m));
        flush();
      },
      onSample: (sample) => {
        const started = performance.now();
        store.addSample(runId, sample.step, sample.text, sample.prompt);
        profile?.add('store', started);
        events.onSample?.(runId, sample);
      },
      onCheckpoint: (step, data) => {
        flush();
        const started = performance.now();
        store.saveCheckpoint(runId, step, data);
        profile?.add('store', started);
      },
    },
  });
  const trainedOn = { ...backend, threads: helpers ? helpers.count + 1 : backend.threads };
  store.updateRun(runId, { startedAt: Date.now(), backend: trainedOn });
  events.onStart?.(runId, trainer);
  try {
    const outcome = await trainer.run();
    flush();
    store.updateRun(runId, {
      status: outcome.status,
      finishedAt: Date.now(),
      finalTrainLoss: outcome.finalTrainLoss,
      finalValLoss: outcome.finalValLoss,
      tokensPerSecond: outcome.tokensPerSecond,
      error: outcome.message ?? null,
    });
    return { ...outcome, runId, backend: trainedOn, params: model.parameterCount };
  } catch (error) {
    markFailed(store, runId, error, flush);
    throw error;
  } finally {
    const teardownStarted = performance.now();
    trainer.dispose();
    model.dispose();
    await helpers?.dispose();
    profile?.add('teardown', teardownStarted);
  }
}

/**
 * The error path: the run must end up 'failed' with the cause that stopped it, even when saving its last metrics
 * fails too (a full disk, a damaged page), which is often the same fault again.
 */
function markFailed(store: RunStore, runId: number, cause: unknown, flush: () => void): void {
  const message = cause instanceof Error ? cause.message : String(cause);
  let lost = '';
  try {
    flush();
  } catch (flushError) {
    lost = ` (its last metrics could not be saved: ${flushError instanceof Error ? flushError.message : String(flushError)})`;
  }
  try {
    store.updateRun(runId, { status: 'failed', finishedAt: Date.now(), error: `${message}${lost}` });
  } catch (markError) {
    process.stderr.write(`gpt-lab: run ${runId} failed (${message}) and could not be marked failed: ${markError instanceof Error ? markError.message : String(markError)}\n`);
  }
}

/** `prepare`, the steps before training; when one fails, the helper threads started early for the run stop too. */
async function unlessFailed<T>(helpers: PendingHelpers, prepare: () => Promise<T>): Promise<T> {
  try {
    return await prepare();
  } catch (error) {
    helpers.discard();
    throw error;
  }
}
