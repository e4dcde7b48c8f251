/**
 * Data parallelism as the trainer sees it: helpers (other threads, each with its own replica of the model and of the
 * optimizer) compute the gradient of some rows of every batch while the trainer computes the first rows itself. Then
 * every thread reduces all the shards' gradients the same way (`reduceShards`) and takes the same clipped AdamW
 * step on its own replica, so the replicas stay bit-identical without the weights ever being copied. The full batch's
 * mean loss and gradient are the row-weighted means of the shards', so the step is the one a single thread would
 * take, up to float summation order (dropout masks are keyed by global row, see model/dropout.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../config';
import type { DropoutKey } from '../model/dropout';
import { clipByGlobalNorm, type AdamW, type AdamWOptions, type AdamWState } from './adamw';

/** What one helper computes in a step: rows `rows` of the batch (x and y hold rows × T tokens). */
export interface Shard {
  x: Int32Array;
  y: Int32Array;
  rows: number;
  /** Keys the shard's dropout masks by its rows' places in the whole batch, so they match one thread's. */
  dropout: DropoutKey;
}

export interface ShardGradient {
  /** How many rows of the batch the shard had. */
  rows: number;
  /** Mean loss over the shard's rows. */
  loss: number;
  /** The shard's mean gradient, every parameter flattened in the model's parameter order. */
  grads: Float32Array;
}

/** The optimizer every replica runs: AdamW's settings and the gradient clip, the same on every thread. */
export interface ReplicaOptimizer extends AdamWOptions {
  gradClip: number;
}

export function replicaOptimizerOf(config: RunConfig): ReplicaOptimizer {
  return { beta1: config.beta1, beta2: config.beta2, eps: 1e-8, weightDecay: config.weightDecay, gradClip: config.gradClip };
}

/** The weights and optimizer state a replica starts from (a new run's initial ones, or a resumed run's). */
export interface ReplicaState {
  weights: Record<string, Float32Array>;
  optimizer: AdamWState;
}

/** One evaluation batch: rows × T tokens of inputs and targets. */
export interface EvalBatch {
  x: Int32Array;
  y: Int32Array;
  rows: number;
}

export interface GradientHelpers {
  /** How many helpers there are; with the trainer, a step runs on count + 1 threads. */
  readonly count: number;
  /** Makes every replica a copy of the trainer's model and optimizer; before a run's first step (new or resumed). */
  sync(state: ReplicaState): Promise<void>;
  /** Gives every helper its shard and the step's learning rate and lets them start; returns at once. One per helper. */
  begin(shards: readonly Shard[], lr: number): void;
  /** Where the trainer writes its own shard's flattened gradient for the step begun last. */
  ownGradient(): Float32Array;
  /**
   * Publishes the trainer's shard (its rows and loss; its gradient already in ownGradient()) and waits for the helpers'.
   * Every shard, the trainer's first (valid until the next begin); the helpers reduce and step on their own.
   */
  exchange(own: { rows: number; loss: number }): Promise<ShardGradient[]>;
  /** Lets the helpers drop the step begun last, which the trainer could not finish; the helpers are unusable after it. */
  abandon(): void;
  /** Mean loss of each batch of `perHelper[k]` on helper k's replica, in the same order. */
  evaluate(perHelper: readonly (readonly EvalBatch[])[]): Promise<number[][]>;
  dispose(): Promise<void>;
}

/** Rows per thread for a batch of `batch` rows over `threads` threads: as equal as possible, the first ones larger. */
export function splitRows(batch: number, threads: number): number[] {
  if (!Number.isInteger(threads) || threads < 1 || threads > batch) throw new Error(`cannot split ${batch} rows over ${threads} threads`);
  const base = Math.floor(batch / threads);
  return Array.from({ length: threads }, (_, i) => base + (i < batch % threads ? 1 : 0));
}

/**
 * The all-reduce every thread runs on the same shards, so each gets the same bits: the batch's mean gradient into
 * `out` and its mean loss returned, each the row-weighted mean of the shards' means. The float32 rounding order is
 * the one the trainer used when it alone combined the shards (the helpers' sum, then the trainer's rows scaled in
 * float32 and added), so a run's numbers did not change when the helpers got replicas.
 */
export function reduceShards(shards: readonly ShardGradient[], batch: number, out: Float32Array): number {
  const [first, ...rest] = shards;
  if (!first) throw new Error('no shards to reduce');
  out.fill(0);
  for (const shard of rest) {
    const weight = shard.rows / batch;
    for (let i = 0; i < out.length; i++) out[i] += weight * shard.grads[i]!;
  }
  const firstWeight = Math.fround(first.rows / batch);
  for (let i = 0; i < out.length; i++) out[i] = Math.fround(first.grads[i]! * firstWeight) + out[i]!;
  return rest.reduce((sum, shard) => sum + (shard.rows / batch) * shard.loss, (first.loss * first.rows) / batch);
}

/** The flat gradient as one tensor per parameter (same names and order as `params`); the caller disposes them. */
export function gradientTensors(params: ReadonlyMap<string, tf.Variable>, flat: Float32Array): Record<string, tf.Tensor> {
  const byName: Record<string, tf.Tensor> = {};
  let offset = 0;
  for (const [name, variable] of params) {
    byName[name] = tf.tensor(flat.subarray(offset, offset + variable.size), variable.shape);
    offset += variable.size;
  }
  return byName;
}

/** The optimizer step of one replica (or of a single thread): skipped when the loss or the norm is not finite. */
export function applyStep(optimizer: AdamW, grads: Record<string, tf.Tensor>, loss: number, gradNorm: number, lr: number, gradClip: number): void {
  if (Number.isFinite(loss) && Number.isFinite(gradNorm)) tf.tidy(() => optimizer.apply(clipByGlobalNorm(grads, gradNorm, gradClip), lr));
}
