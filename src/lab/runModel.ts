/** A stored run's model, rebuilt from its config, its tokenizer and its latest checkpoint, without its data. */
import { activeBackend, initBackend } from '../engine/backend';
import { resolveConfig, type RunConfig } from '../engine/config';
import { createTokenizer, type Tokenizer } from '../engine/data/tokenizer';
import { GPT, modelConfigOf } from '../engine/model/gpt';
import { decodeCheckpoint } from '../engine/train/checkpoint';
import type { RunRecord, RunStore } from '../store';

export interface RunModel {
  run: RunRecord;
  config: RunConfig;
  tokenizer: Tokenizer;
  model: GPT;
  /** The checkpoint's step: how far the weights were trained. */
  step: number;
}

/** The caller disposes `model`. Throws when the run does not exist or has no checkpoint yet. */
export async function loadRunModel(store: RunStore, runId: number): Promise<RunModel> {
  const run = store.getRun(runId);
  if (!run) throw new Error(`run ${runId} does not exist`);
  const checkpoint = store.latestCheckpoint(runId);
  if (!checkpoint) throw new Error(`run ${runId} has no checkpoint yet (status ${run.status}); it has no weights to use`);
  if (!activeBackend()) await initBackend();
  const config = resolveConfig(run.config as RunConfig);
  const tokenizer = createTokenizer(config.tokenizer, { vocab: run.vocab });
  const model = new GPT(modelConfigOf(config, tokenizer.size), config.seed);
  model.setWeights(decodeCheckpoint(checkpoint.data).weights);
  return { run, config, tokenizer, model, step: checkpoint.step };
}
