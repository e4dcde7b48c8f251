/**
 * Data parallelism as the trainer sees it: helpers (other threads, each with its own copy of the model) compute the
 * gradient of some rows of every batch while the trainer computes the first rows itself. The full batch's mean loss
 * and gradient are the row-weighted means of the shards', so one optimizer step on the combination is the step one
 * thread would take, up to float summation order (dropout masks are keyed by global row, see model/dropout.ts).
 */
import type * as tf from '@tensorflow/tfjs';
import type { DropoutKey } from '../model/dropout';

/** What one helper computes in a step: rows `rows` of the batch (x and y hold rows × T tokens). */
export interface Shard {
  x: Int32Array;
  y: Int32Array;
  rows: number;
  /** Keys the shard's dropout masks by its rows' places in the whole batch, so they match one thread's. */
  dropout: DropoutKey;
}

export interface ShardGradient {
  /** Mean loss over the shard's rows. */
  loss: number;
  /** The shard's mean gradient, every parameter flattened in the model's parameter order. */
  grads: Float32Array;
}

export interface GradientHelpers {
  /** How many helpers there are; with the trainer, a step runs on count + 1 threads. */
  readonly count: number;
  /**
   * Gives every helper the current weights and its shard and lets them start; returns at once so the trainer computes
   * its own rows meanwhile. `shards` has one entry per helper.
   */
  begin(params: readonly tf.Variable[], shards: readonly Shard[]): void;
  /** Waits for every helper to finish the step begun last; their results in helper order (valid until the next begin). */
  end(): Promise<ShardGradient[]>;
  dispose(): Promise<void>;
}

/** Rows per thread for a batch of `batch` rows over `threads` threads: as equal as possible, the first ones larger. */
export function splitRows(batch: number, threads: number): number[] {
  if (!Number.isInteger(threads) || threads < 1 || threads > batch) throw new Error(`cannot split ${batch} rows over ${threads} threads`);
  const base = Math.floor(batch / threads);
  return Array.from({ length: threads }, (_, i) => base + (i < batch % threads ? 1 : 0));
}
