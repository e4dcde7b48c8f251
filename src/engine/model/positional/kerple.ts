import * as tf from '@tensorflow/tfjs';
import { consecutive } from './positions';
import type { PositionalScheme } from './types';

/** |i − j| as a (T, T) table, row i = query, column j = key. */
export function distanceGrid(T: number): Float32Array {
  return distanceGridAt(T, consecutive(T));
}

/** |p_i − p_j| for each row of a (B, T) position grid, as (B, T, T). */
export function distanceGridAt(T: number, positions: Int32Array): Float32Array {
  const rows = positions.length / T;
  const grid = new Float32Array(rows * T * T);
  for (let b = 0; b < rows; b++)
    for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) grid[(b * T + i) * T + j] = Math.abs(positions[b * T + i]! - positions[b * T + j]!);
  return grid;
}

/**
 * KERPLE, logarithmic variant (Chi et al. 2022, "KERPLE: Kernelized Relative Positional Embedding for Length
 * Extrapolation", §4, the logarithmic kernel k(m, n) = −r1·log(1 + r2·|m − n|)): a per-head bias on the logits with
 * learned r1, r2 > 0. Positivity comes from r = softplus(raw), where the official code clamps at 0.01 instead: a
 * clamp's zero gradient below its floor would freeze a head that starts there. Shared by all layers, like T5's bias.
 */
export const kerple: PositionalScheme = {
  name: 'kerple',
  label: 'KERPLE (log)',
  summary: 'A learned per-head bias −r1·log(1 + r2·distance) on the logits (Chi et al. 2022): a logarithmic, trainable ALiBi.',
  hook: 'bias',
  knobs: [],
  readsPositions: true,
  maxLength: () => Infinity,
  params: (ctx) => [
    { name: 'pos.kerple_r1', shape: [ctx.nHead], init: 'normal' },
    { name: 'pos.kerple_r2', shape: [ctx.nHead], init: 'normal' },
  ],
  logitBias: (T, ctx, params, positions) => {
    const perHead = (name: string): tf.Tensor3D => tf.reshape(tf.softplus(params[name]!), [ctx.nHead, 1, 1]) as tf.Tensor3D;
    // (1, T, T), or (B, 1, T, T) for a position grid: broadcast against the (nh, 1, 1) rates to (nh, T, T) or (B, nh, T, T).
    const distance = positions ? tf.tensor4d(distanceGridAt(T, positions), [positions.length / T, 1, T, T]) : tf.tensor3d(distanceGrid(T), [1, T, T]);
    return tf.neg(tf.mul(perHead('pos.kerple_r1'), tf.log1p(tf.mul(perHead('pos.kerple_r2'), distance)))) as tf.Tensor3D | tf.Tensor4D;
  },
};
