/** A stored run's weights and model, rebuilt from its config, its tokenizer and its latest checkpoint, without its data. */
import { backendForRun } from '../engine/backend';
import { resolveConfig, type RunConfig } from '../engine/config';
import { createTokenizer, type Tokenizer } from '../engine/data/tokenizer';
import { GPT, modelConfigOf } from '../engine/model/gpt';
import { requireScheme } from '../engine/model/positional/registry';
import type { RopeScaling } from '../engine/model/positional/rope';
import { decodeCheckpoint } from '../engine/train/checkpoint';
import type { RunRecord, RunStore } from '../store';

export interface RunWeights {
  run: RunRecord;
  config: RunConfig;
  tokenizer: Tokenizer;
  weights: Record<string, Float32Array>;
  /** The checkpoint's step: how far the weights were trained. */
  step: number;
}

/** Plain arrays, no tfjs: enough to export. Throws when the run does not exist or has no checkpoint yet. */
export function loadRunWeights(store: RunStore, runId: number): RunWeights {
  const run = store.getRun(runId);
  if (!run) throw new Error(`run ${runId} does not exist`);
  const checkpoint = store.latestCheckpoint(runId);
  if (!checkpoint) throw new Error(`run ${runId} has no checkpoint yet (status ${run.status}); it has no weights to use`);
  const config = resolveConfig(run.config as RunConfig);
  const tokenizer = createTokenizer(config.tokenizer, { vocab: run.vocab });
  return { run, config, tokenizer, weights: decodeCheckpoint(checkpoint.data).weights, step: checkpoint.step };
}

export interface RunModel extends Omit<RunWeights, 'weights'> {
  model: GPT;
}

/**
 * The caller disposes `model`. `ropeScaling` evaluates a rope run with a context-extension method ('none': plain);
 * other schemes refuse it.
 */
export async function loadRunModel(store: RunStore, runId: number, ropeScaling?: RopeScaling): Promise<RunModel> {
  const { weights, ...rest } = loadRunWeights(store, runId);
  if (ropeScaling !== undefined && !requireScheme(rest.config.pos).extensions?.includes(ropeScaling))
    throw new Error(`rope scaling applies to rope runs only; run ${runId} uses the ${rest.config.pos} scheme`);
  const kept = rest.config.posExtension;
  const scaled = ropeScaling !== undefined && ropeScaling !== 'none';
  if (kept && scaled)
    throw new Error(`run ${runId} was fine-tuned with ${kept.method} ×${kept.scale} and keeps it at every length; evaluate it without --rope-scaling`);
  // A run's model is used on the backend the run asked for, so a forced rung is measured on that rung.
  await backendForRun(rest.config.backend);
  const stored = modelConfigOf(rest.config, rest.tokenizer.size);
  const model = new GPT(scaled ? { ...stored, posExtension: ropeScaling } : stored, rest.config.seed);
  model.setWeights(weights);
  return { ...rest, model };
}
