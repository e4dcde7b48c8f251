/**
 * Evaluation and probes of stored runs: rebuild the model from the run's last checkpoint and its data,
 * measure, and keep the results in the evals table.
 */
import { backendForRun } from '../engine/backend';
import type { RunConfig } from '../engine/config';
import type { Corpus } from '../engine/data/corpus';
import { TASK_NAMES, taskLengthRange, type TaskName } from '../engine/data/tasks';
import { defaultLengths, evalAtLengths, type LengthResult } from '../engine/eval/extrapolation';
import { attentionMaps, biasMatrices, equivarianceProbe, positionTable, EQUIVARIANCE_TEXT, type ProbeKind } from '../engine/eval/probes';
import { taskAccuracy, type TaskSizeResult } from '../engine/eval/taskAccuracy';
import type { GPT } from '../engine/model/gpt';
import { ropeDecay, type RopeScaling } from '../engine/model/positional/rope';
import type { RunStore } from '../store';
import { loadCorpus } from './corpusLoader';
import { memoryLimitBytes } from './prepare';
import { loadRunModel } from './runModel';

export interface EvalLengthResult {
  runId: number;
  block: number;
  scheme: string;
  /** The rope context-extension method evaluated with; absent for the plain scheme. */
  ropeScaling?: RopeScaling;
  results: LengthResult[];
}

export interface TaskLengthResult {
  runId: number;
  task: TaskName;
  trainingMaxSize: number;
  results: TaskSizeResult[];
}

interface TrainedRun {
  config: RunConfig;
  corpus: Corpus;
  model: GPT;
}

/** The run's model with its latest checkpoint's weights, and its data; the caller disposes the model. */
export async function loadTrainedRun(store: RunStore, runId: number, ropeScaling?: RopeScaling): Promise<TrainedRun> {
  const { run, config, model } = await loadRunModel(store, runId, ropeScaling);
  try {
    return { config, corpus: loadCorpus(config, run.vocab ?? undefined, store), model };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** `ropeScaling` (rope runs only) stretches the rotation per evaluated length, s = length / block; 'none' is plain rope. */
export async function evalLengthForRun(store: RunStore, runId: number, lengths?: number[], ropeScaling?: RopeScaling): Promise<EvalLengthResult> {
  const { config, corpus, model } = await loadTrainedRun(store, runId, ropeScaling);
  try {
    const tokenBudget = config.evalBatches * config.batchSize * config.blockSize;
    const results = await evalAtLengths(model, corpus.val, lengths ?? defaultLengths(config.blockSize), { tokenBudget, memoryLimitBytes: memoryLimitBytes() });
    const scaled = ropeScaling !== undefined && ropeScaling !== 'none' ? { ropeScaling } : {};
    const payload: EvalLengthResult = { runId, block: config.blockSize, scheme: config.pos, ...scaled, results };
    store.addEval(runId, 'length', payload);
    return payload;
  } finally {
    model.dispose();
  }
}

/** Exact-match accuracy vs example size for runs trained on a synthetic task corpus. */
export async function taskLengthForRun(store: RunStore, runId: number, sizes?: number[], examples?: number): Promise<TaskLengthResult> {
  const { config, corpus, model } = await loadTrainedRun(store, runId);
  try {
    const task = config.data.replace(/^builtin:/, '') as TaskName;
    if (!config.data.startsWith('builtin:') || !TASK_NAMES.includes(task))
      throw new Error(`run ${runId} was trained on ${config.data}; task accuracy needs one of ${TASK_NAMES.map((t) => `builtin:${t}`).join(', ')}`);
    const results = await taskAccuracy(model, corpus.tokenizer, task, { sizes, examples });
    const payload: TaskLengthResult = { runId, task, trainingMaxSize: taskLengthRange(task).max, results };
    store.addEval(runId, 'task-length', payload);
    return payload;
  } finally {
    model.dispose();
  }
}

/** A probe of a stored run, or (equivariance only) of fresh random weights when runId is null. */
export async function probeForRun(store: RunStore | null, runId: number | null, kind: ProbeKind, text?: string): Promise<unknown> {
  if (runId === null) {
    if (kind !== 'equivariance') throw new Error(`probe ${kind} needs a run; only equivariance works on fresh weights`);
    await backendForRun();
    return { kind, runId: null, text: text ?? EQUIVARIANCE_TEXT, rows: await equivarianceProbe({ text }) };
  }
  if (!store) throw new Error('a run probe needs the run database');
  const { config, corpus, model } = await loadTrainedRun(store, runId);
  try {
    const T = Math.min(config.blockSize, model.maxLength);
    switch (kind) {
      case 'attention': {
        const probeText = text ?? corpus.tokenizer.decode(corpus.val.subarray(0, Math.min(T, 32)));
        return { kind, runId, text: probeText, layers: await attentionMaps(model, corpus.tokenizer.encode(probeText)) };
      }
      case 'pe-table':
        return { kind, runId, scheme: config.pos, table: await positionTable(model, T) };
      case 'bias':
        return { kind, runId, scheme: config.pos, heads: await biasMatrices(model, T) };
      case 'rope-decay':
        return { kind, runId, ...ropeDecay(config.nEmbd / config.nHead, config.posOptions.base ?? 10000, 4 * config.blockSize) };
      case 'equivariance':
        return { kind, runId, text: text ?? EQUIVARIANCE_TEXT, rows: await equivarianceProbe({ text, trained: { model, tokenizer: corpus.tokenizer } }) };
    }
  } finally {
    model.dispose();
  }
}
