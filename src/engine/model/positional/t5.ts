import * as tf from '@tensorflow/tfjs';
import { consecutive } from './positions';
import type { PositionalScheme } from './types';
import { matMul2d, oneHotFloat } from '../ops';

/**
 * T5's causal relative-position bucket for a query at distance n = i − j ≥ 0 behind it: exact for
 * n < buckets/2, then logarithmically spaced up to maxDistance, where everything shares the last bucket.
 */
export function t5Bucket(n: number, buckets: number, maxDistance: number): number {
  const maxExact = Math.floor(buckets / 2);
  if (n < maxExact) return n;
  // T5 computes this in float32 and truncates; Math.fround keeps ties on the same side.
  const scaled = Math.fround(Math.fround(Math.log(n / maxExact)) / Math.fround(Math.log(maxDistance / maxExact)));
  const large = maxExact + Math.trunc(Math.fround(scaled * (buckets - maxExact)));
  return Math.min(large, buckets - 1);
}

/** (T·T) bucket ids, row i = query, column j = key; future keys (j > i) share bucket 0 with distance 0 (causal T5). */
export function t5BucketGrid(T: number, buckets: number, maxDistance: number): Int32Array {
  return t5BucketGridAt(T, consecutive(T), buckets, maxDistance);
}

/** (B·T·T) bucket ids of a (B, T) position grid: distances p_i − p_j of each row's own positions. */
export function t5BucketGridAt(T: number, positions: Int32Array, buckets: number, maxDistance: number): Int32Array {
  const rows = positions.length / T;
  const grid = new Int32Array(rows * T * T);
  for (let b = 0; b < rows; b++)
    for (let i = 0; i < T; i++)
      for (let j = 0; j < T; j++) grid[(b * T + i) * T + j] = t5Bucket(Math.max(positions[b * T + i]! - positions[b * T + j]!, 0), buckets, maxDistance);
  return grid;
}

export const t5: PositionalScheme = {
  name: 't5',
  label: 'T5 relative bias',
  summary: 'A learned scalar per (distance bucket, head) added to the logits; far distances share log-spaced buckets.',
  hook: 'bias',
  knobs: [
    { key: 'buckets', flag: 't5-buckets', label: 'Buckets', help: 'number of distance buckets', default: 32, min: 2, max: 1024, integer: true },
    { key: 'maxDistance', flag: 't5-max-distance', label: 'Max distance', help: 'distance where the last bucket starts', default: 128, min: 2, max: 1e6, integer: true },
  ],
  readsPositions: true,
  maxLength: () => Infinity,
  checkModel: (_shape, { buckets, maxDistance }) =>
    maxDistance > Math.floor(buckets / 2)
      ? []
      : [{ field: 'posOptions.maxDistance', flag: 't5-max-distance', message: `must exceed half the buckets (${Math.floor(buckets / 2)}), where log-spaced buckets start; got ${maxDistance}` }],
  params: (ctx) => [{ name: 'pos.rel_bias', shape: [ctx.options.buckets, ctx.nHead], init: 'normal' }],
  logitBias: (T, ctx, params, positions) => {
    const { buckets, maxDistance } = ctx.options;
    // One-hot matmul instead of gather: gather's gradient needs a kernel the wasm backend lacks.
    const ids = tf.tensor1d(t5BucketGridAt(T, positions ?? consecutive(T), buckets, maxDistance), 'int32');
    const oneHot = oneHotFloat(ids, buckets); // (B·T·T, buckets), B = 1 without positions
    const perHead = matMul2d(oneHot, params['pos.rel_bias'] as tf.Tensor2D); // (B·T·T, nh)
    if (!positions) return tf.transpose(tf.reshape(perHead, [T, T, ctx.nHead]), [2, 0, 1]) as tf.Tensor3D; // (nh, T, T)
    return tf.transpose(tf.reshape(perHead, [positions.length / T, T, T, ctx.nHead]), [0, 3, 1, 2]) as tf.Tensor4D; // (B, nh, T, T)
  },
  // The learned scalar per (bucket, head) needs a run; the bucket ids are the scheme's own.
  preview: ({ length }, { buckets, maxDistance }) => ({ buckets: t5BucketGrid(length, buckets, maxDistance) }),
};
