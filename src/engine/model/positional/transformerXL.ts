import * as tf from '@tensorflow/tfjs';
import { gatherRelative, matMul2d } from '../ops';
import type { PositionalScheme } from './types';

/** Sinusoids of every distance d = i − j from −(T−1) to T−1 (slot d + T − 1), as Transformer-XL: [sin | cos] halves. */
export function relativeSinusoids(T: number, C: number): Float32Array {
  const half = C / 2;
  const slots = 2 * T - 1;
  const table = new Float32Array(slots * C);
  for (let s = 0; s < slots; s++) {
    const d = s - (T - 1);
    for (let k = 0; k < half; k++) {
      const angle = d / 10000 ** ((2 * k) / C);
      table[s * C + k] = Math.sin(angle);
      table[s * C + half + k] = Math.cos(angle);
    }
  }
  return table;
}

/** Slot of distance i − j for every query i and key j. */
export function distanceIndex(T: number): Int32Array {
  const index = new Int32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) index[i * T + j] = i - j + T - 1;
  return index;
}

/**
 * Dai et al. (2019): score_ij = q_i·k_j + q_i·W_R R_{i−j} + u·k_j + v·W_R R_{i−j}, all scaled by 1/√d, with
 * sinusoidal R, a per-layer projection W_R and per-layer, per-head global biases u (content) and v (position).
 */
export const transformerXL: PositionalScheme = {
  name: 'transformer-xl',
  label: 'Transformer-XL relative',
  summary: 'Sinusoids of the distance i − j projected per layer, plus global content (u) and position (v) biases inside the score.',
  hook: 'score',
  knobs: [],
  maxLength: () => Infinity,
  checkModel: ({ nEmbd }) => (nEmbd % 2 === 0 ? [] : [{ field: 'nEmbd', message: `transformer-xl needs an even width for its sin/cos halves, got ${nEmbd}` }]),
  params: (ctx) =>
    Array.from({ length: ctx.nLayer }, (_, layer) => [
      { name: `pos.h.${layer}.w_r`, shape: [ctx.nEmbd, ctx.nEmbd], init: 'normal' as const, decay: true },
      { name: `pos.h.${layer}.u`, shape: [ctx.nHead, ctx.headDim], init: 'normal' as const },
      { name: `pos.h.${layer}.v`, shape: [ctx.nHead, ctx.headDim], init: 'normal' as const },
    ]).flat(),
  scoreTerms: (q, k, layer, ctx, params) => {
    const [B, nh, T, hs] = q.shape;
    const slots = 2 * T - 1;
    const R = tf.tensor2d(relativeSinusoids(T, ctx.nEmbd), [slots, ctx.nEmbd]);
    const projected = matMul2d(R, params[`pos.h.${layer}.w_r`] as tf.Tensor2D); // (2T−1, C)
    const perHead = tf.transpose(tf.reshape(projected, [slots, nh, hs]), [1, 0, 2]); // (nh, 2T−1, hs)
    const u = tf.reshape(params[`pos.h.${layer}.u`], [1, nh, 1, hs]);
    const v = tf.reshape(params[`pos.h.${layer}.v`], [1, nh, 1, hs]);
    const positional = tf.matMul(tf.add(q, v), tf.tile(tf.expandDims(perHead, 0), [B, 1, 1, 1]) as tf.Tensor4D, false, true); // (B, nh, T, 2T−1)
    const bd = tf.reshape(gatherRelative(tf.reshape(positional, [B * nh, T, slots]) as tf.Tensor3D, distanceIndex(T)), [B, nh, T, T]);
    const contentBias = tf.expandDims(tf.sum(tf.mul(k, u), 3), 2); // (B, nh, 1, T): u·k_j, the same for every query
    return tf.add(bd, contentBias) as tf.Tensor4D;
  },
  preview: ({ length }) => ({ buckets: distanceIndex(length) }),
};
