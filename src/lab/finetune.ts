/**
 * Context-extension fine-tuning, Position Interpolation's protocol (Chen et al. 2023, "Extending Context Window of
 * Large Language Models via Positional Interpolation", §3: continue the pretrained weights for a few hundred to a
 * thousand steps at the target length). A stored run's latest weights become step 0 of a new run, its child, which
 * trains at a longer block: same data, vocabulary, seed and model, a fresh AdamW state (the paper restarts the
 * optimizer too). With a rope scaling the child keeps it fixed at s = its block / the parent's, for training and
 * evaluation alike (RunConfig.posExtension).
 *
 * createFinetuneRun only writes the child (its row and that step-0 checkpoint); training it is resumeRun's job, the
 * same path a stopped run takes, so the CLI, the service's queue and recipes train a child like any other run.
 */
import { resolveConfig, type RunConfig } from '../engine/config';
import { modelConfigOf, parameterLayout } from '../engine/model/gpt';
import { requireScheme } from '../engine/model/positional/registry';
import type { RopeScaling } from '../engine/model/positional/rope';
import { decodeCheckpoint, encodeCheckpoint, nonFiniteTensor, startingState } from '../engine/train/checkpoint';
import { createTokenizer, storedVocab } from '../engine/data/tokenizer';
import type { RunRecord, RunStore } from '../store';
import { loadCorpus } from './corpusLoader';
import { checkMemory } from './prepare';
import type { TextLookup } from './uploadedTexts';

export interface FinetuneRequest {
  parentId: number;
  /** The child's block: longer than the parent's. */
  blockSize: number;
  steps: number;
  /** Peak learning rate (default: the parent's); the floor of the cosine decay follows it down if needed. */
  lr?: number;
  /** Rope runs only: the extension the child trains with, fixed at s = blockSize / the parent's block. */
  ropeScaling?: RopeScaling;
  name?: string;
  sweepKey?: string;
}

/** Why a run cannot be fine-tuned as asked; `reason` maps to the CLI's exit codes and the contract's error codes. */
export class FinetuneError extends Error {
  constructor(
    readonly reason: 'unknown-run' | 'invalid' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'FinetuneError';
  }
}

/** Parents still moving their weights: their checkpoint is not the state the user sees as the run. */
const TRAINING = ['queued', 'running', 'paused'];

/** The child's config: the parent's, at the new block, steps and learning rate, with the scaling it keeps. */
export function finetuneConfig(parent: RunConfig, request: Pick<FinetuneRequest, 'blockSize' | 'steps' | 'lr' | 'ropeScaling'>): RunConfig {
  const { blockSize, steps, lr, ropeScaling } = request;
  const scaled = ropeScaling !== undefined && ropeScaling !== 'none';
  return resolveConfig({
    ...parent,
    blockSize,
    steps,
    ...(lr !== undefined && { lr, minLr: Math.min(parent.minLr, lr) }),
    ...(scaled && { posExtension: { method: ropeScaling, scale: blockSize / parent.blockSize } }),
  });
}

function parentOf(store: RunStore, parentId: number): { run: RunRecord; config: RunConfig; weights: Record<string, Float32Array> } {
  const run = store.getRun(parentId);
  if (!run) throw new FinetuneError('unknown-run', `run ${parentId} does not exist in this database`);
  if (run.damaged) throw new FinetuneError('conflict', `run ${parentId} cannot be fine-tuned: its stored record is damaged (${run.damaged})`);
  if (TRAINING.includes(run.status)) throw new FinetuneError('conflict', `run ${parentId} is ${run.status}; fine-tune it once it has finished or been stopped`);
  const checkpoint = store.latestCheckpoint(parentId);
  if (!checkpoint) throw new FinetuneError('conflict', `run ${parentId} has no checkpoint (status ${run.status}), so it has no weights to fine-tune`);
  let state;
  try {
    state = decodeCheckpoint(checkpoint.data);
  } catch (error) {
    throw new FinetuneError('conflict', `run ${parentId} cannot be fine-tuned: its checkpoint at step ${checkpoint.step} is unusable (${error instanceof Error ? error.message : String(error)})`);
  }
  const problem = nonFiniteTensor(state);
  if (problem) throw new FinetuneError('conflict', `run ${parentId} cannot be fine-tuned: its checkpoint at step ${checkpoint.step} is unusable (${problem})`);
  return { run, config: resolveConfig(run.config as RunConfig), weights: state.weights };
}

/**
 * Refuses what cannot extend: a shorter block, a scaling the scheme lacks or on top of one the parent keeps, and
 * schemes whose parameters depend on the block (learned absolute positions: one table row per position, so rows
 * past the parent's block would start untrained; PI has no analogue for a table that was never trained there).
 */
function checkRequest(parent: RunRecord, config: RunConfig, request: FinetuneRequest, vocabSize: number): void {
  const id = parent.id;
  if (!Number.isInteger(request.blockSize) || request.blockSize <= config.blockSize)
    throw new FinetuneError('invalid', `the new block must be longer than run ${id}'s block ${config.blockSize} (fine-tuning extends the context), got ${request.blockSize}`);
  const scaling = request.ropeScaling;
  if (scaling !== undefined && scaling !== 'none') {
    if (!requireScheme(config.pos).extensions?.includes(scaling))
      throw new FinetuneError('invalid', `--rope-scaling applies to rope runs only; run ${id} uses the ${config.pos} scheme`);
    if (config.posExtension)
      throw new FinetuneError('invalid', `run ${id} already keeps ${config.posExtension.method} ×${config.posExtension.scale}; fine-tune it without --rope-scaling, or fine-tune its parent`);
  }
  const before = parameterLayout(modelConfigOf(config, vocabSize));
  const after = new Map(parameterLayout(modelConfigOf({ ...config, blockSize: request.blockSize }, vocabSize)).map((p) => [p.name, p.shape]));
  const grown = before.find((p) => after.get(p.name)?.join() !== p.shape.join());
  if (grown)
    throw new FinetuneError(
      'invalid',
      `run ${id} uses ${config.pos} positions, whose ${grown.name} is [${grown.shape}] at block ${config.blockSize} and would be [${after.get(grown.name)}] at block ` +
        `${request.blockSize}: the new positions would start untrained. Fine-tune a scheme computed at any length (rope, alibi, t5, none, …)`,
    );
}

export interface FinetuneRun {
  runId: number;
  parentId: number;
  config: RunConfig;
}

/** Validates everything, then writes the child: a 'queued' row linked to its parent and its step-0 checkpoint. */
export function createFinetuneRun(store: RunStore, request: FinetuneRequest, texts: TextLookup = store, fileText?: string): FinetuneRun {
  const parent = parentOf(store, request.parentId);
  const vocab = parent.run.vocab ?? undefined;
  const vocabSize = createTokenizer(parent.config.tokenizer, { vocab }).size;
  checkRequest(parent.run, parent.config, request, vocabSize);
  const config = finetuneConfig(parent.config, request);
  checkMemory(config, vocabSize);
  // The parent's data at the new block, read with the parent's vocabulary: too short a text is refused here.
  const corpus = loadCorpus(config, vocab, texts, fileText);
  if (parent.run.dataHash && corpus.hash !== parent.run.dataHash)
    throw new FinetuneError('conflict', `the data of run ${parent.run.id} (${config.data}) changed since it was trained; fine-tuning needs the same data`);
  const checkpoint = encodeCheckpoint(startingState(parent.weights, config.seed));
  const scaled = config.posExtension ? ` · ${config.posExtension.method} ×${config.posExtension.scale}` : '';
  const runId = store.createRun({
    name: request.name ?? `${parent.run.name} → block ${config.blockSize}${scaled}`,
    config,
    dataSource: corpus.source,
    dataHash: corpus.hash,
    vocab: storedVocab(corpus.tokenizer),
    params: parent.run.params ?? undefined,
    sweepKey: request.sweepKey,
    status: 'queued',
    parentId: parent.run.id,
  });
  try {
    store.saveCheckpoint(runId, 0, checkpoint);
  } catch (error) {
    // A child without its starting weights would train from nothing; leave no such row behind.
    store.deleteRun(runId);
    throw error;
  }
  return { runId, parentId: parent.run.id, config };
}
