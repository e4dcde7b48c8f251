/**
 * Trains one run into the store: everything is validated and the data loaded before a row is written, then
 * metrics are flushed in batches, samples and checkpoints saved as they come, and the final status recorded.
 */
import { backendForRun, type BackendInfo } from '../engine/backend';
import { resolveConfig, type RunConfig, type RunConfigInput, type ThreadsChoice } from '../engine/config';
import type { Corpus } from '../engine/data/corpus';
import { GPT, modelConfigOf } from '../engine/model/gpt';
import { splitRows } from '../engine/train/shards';
import { timePhase, type PhaseProfile } from '../engine/train/profile';
import { Trainer, type StepMetrics, type TrainOutcome } from '../engine/train/trainer';
import type { MetricRow, RunStore } from '../store';
import { loadCorpus } from './corpusLoader';
import { isTextSource, textSourceId, type TextLookup } from './uploadedTexts';
import { ThreadHelpers } from './parallel/threadHelpers';

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

export interface StartRunInput {
  config: RunConfigInput;
  name?: string;
  sweepKey?: string;
}

/** A run whose settings and data are known good: nothing can fail on user input past this point. */
export interface PreparedRun {
  config: RunConfig;
  corpus: Corpus;
  name: string;
  sweepKey?: string;
}

/** `dataName`: what to call the data when its source says little (an uploaded text's file name). */
export function defaultRunName(config: RunConfig, dataName = config.data.replace(/^.*[\\/]/, '')): string {
  return `${config.pos} · ${config.norm}-norm · ${config.nLayer}L${config.nHead}H${config.nEmbd}d · ${dataName}`;
}

/** Validates config and data (`texts`: where `text:` sources live); throws ConfigError or DataError before anything is written. */
export function prepareRun(input: StartRunInput, texts?: TextLookup): PreparedRun {
  const config = resolveConfig(input.config);
  const corpus = loadCorpus(config, undefined, texts);
  const uploadedName = isTextSource(config.data) ? texts?.getText(textSourceId(config.data))?.name : undefined;
  return { config, corpus, name: input.name ?? defaultRunName(config, uploadedName), sweepKey: input.sweepKey };
}

export async function trainNewRun(store: RunStore, prepared: PreparedRun, events: RunEvents = {}): Promise<RunResult> {
  const { config, corpus } = prepared;
  const { profile } = events;
  const backend = await timePhase(profile, 'backend', () => backendForRun(config.backend));
  const model = await timePhase(profile, 'model', () => new GPT(modelConfigOf(config, corpus.tokenizer.size), config.seed));
  const storeStarted = performance.now();
  const runId = store.createRun({
    name: prepared.name,
    config,
    dataSource: corpus.source,
    dataHash: corpus.hash,
    vocab: [...corpus.tokenizer.vocab],
    params: model.parameterCount,
    backend,
    sweepKey: prepared.sweepKey,
    status: 'running',
  });
  profile?.add('store', storeStarted);
  return trainStoredRun(store, runId, config, corpus, model, backend, events);
}

/** Train a run whose row the lab created earlier (status 'queued', or an interrupted run with no checkpoint). */
export async function trainQueuedRun(store: RunStore, runId: number, prepared: PreparedRun, events: RunEvents = {}): Promise<RunResult> {
  const { config, corpus } = prepared;
  const backend = await backendForRun(config.backend);
  const model = new GPT(modelConfigOf(config, corpus.tokenizer.size), config.seed);
  store.updateRun(runId, {
    status: 'running',
    error: null,
    finishedAt: null,
    dataHash: corpus.hash,
    vocab: [...corpus.tokenizer.vocab],
    params: model.parameterCount,
    backend,
  });
  return trainStoredRun(store, runId, config, corpus, model, backend, events);
}

/**
 * Continue a run from its latest checkpoint with the same optimizer state and data position. `threads` trains the
 * rest on another thread count (this machine's cores, say): the numbers do not depend on it.
 */
export async function resumeRun(store: RunStore, runId: number, events: RunEvents = {}, threads?: ThreadsChoice): Promise<RunResult> {
  const run = store.getRun(runId);
  if (!run) throw new Error(`run ${runId} does not exist`);
  if (run.status === 'completed') throw new Error(`run ${runId} already completed; nothing to resume`);
  const checkpoint = store.latestCheckpoint(runId);
  if (!checkpoint) throw new Error(`run ${runId} has no checkpoint to resume from`);
  const stored = resolveConfig(run.config as RunConfig);
  const config = threads === undefined ? stored : resolveConfig({ ...stored, threads });
  const corpus = loadCorpus(config, run.vocab ?? undefined, store);
  if (run.dataHash && corpus.hash !== run.dataHash) throw new Error(`the data of run ${runId} (${config.data}) changed since it was trained`);
  const backend = await backendForRun(config.backend);
  const model = new GPT(modelConfigOf(config, corpus.tokenizer.size), config.seed);
  store.updateRun(runId, { status: 'running', error: null });
  return trainStoredRun(store, runId, config, corpus, model, backend, events, checkpoint.data);
}

async function trainStoredRun(
  store: RunStore,
  runId: number,
  config: RunConfig,
  corpus: Corpus,
  model: GPT,
  backend: BackendInfo,
  events: RunEvents,
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
    helpers = await startHelpers(config, model, backend);
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
        pending.push({ step: m.step, tokens: m.tokens, wallMs: m.wallMs, trainLoss: m.trainLoss, valLoss: m.valLoss, lr: m.lr, gradNorm: m.gradNorm });
        if (m.valLoss !== null || pending.length >= METRIC_FLUSH_ROWS || performance.now() - lastFlush >= METRIC_FLUSH_MS) flush();
        const started = performance.now();
        events.onStep?.(runId, m);
        profile?.add('progress', started);
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
  store.updateRun(runId, { startedAt: Date.now(), backend: trainedOn, ownerPid: process.pid });
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
    flush();
    store.updateRun(runId, { status: 'failed', finishedAt: Date.now(), error: error instanceof Error ? error.message : String(error) });
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
 * Helper threads for a run with `threads` > 1 on a backend that computes on one thread (wasm, cpu). The native
 * TensorFlow backends already use every core, so there a run trains on one JS thread whatever it asks for.
 */
export async function startHelpers(config: RunConfig, model: GPT, backend: BackendInfo): Promise<ThreadHelpers | undefined> {
  if (config.threads <= 1 || (backend.name !== 'wasm' && backend.name !== 'cpu')) return undefined;
  const rows = splitRows(config.batchSize, config.threads);
  return ThreadHelpers.start(config.threads - 1, model.cfg, model.parameterCount, Math.max(...rows), backend.name);
}
