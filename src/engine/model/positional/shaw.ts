import * as tf from '@tensorflow/tfjs';
import { gatherRelative, matMul2d, scatterRelative } from '../ops';
import type { PositionalScheme } from './types';

/** Slot of the clipped relative position clip(j − i, −k, k) + k, for every query i and key j. */
export function shawIndex(T: number, k: number): Int32Array {
  const index = new Int32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) index[i * T + j] = Math.max(-k, Math.min(k, j - i)) + k;
  return index;
}

/**
 * Shaw, Uszkoreit & Vaswani (2018): e_ij = q_i · (k_j + a^K_{r(i,j)}) / √d and z_i = Σ_j α_ij (v_j + a^V_{r(i,j)}),
 * with r(i,j) = clip(j − i, −k, k) and the 2k+1 learned vectors of each layer shared by its heads.
 */
export const shaw: PositionalScheme = {
  name: 'shaw',
  label: 'Shaw relative',
  summary: 'Learned vectors for clipped offsets j − i added on the key (and value) side of attention: relative, beyond k all distances look alike.',
  hook: 'score',
  knobs: [
    { key: 'maxDistance', flag: 'shaw-k', label: 'Clip k', help: 'offsets beyond ±k share one vector', default: 16, min: 1, max: 4096, integer: true },
    { key: 'values', flag: 'shaw-values', label: 'Value side', help: '1 adds relative vectors to the values too, 0 keys only', default: 1, min: 0, max: 1, integer: true },
  ],
  maxLength: () => Infinity,
  params: (ctx) => {
    const slots = 2 * ctx.options.maxDistance + 1;
    return Array.from({ length: ctx.nLayer }, (_, layer) => [
      { name: `pos.h.${layer}.rel_k`, shape: [slots, ctx.headDim], init: 'normal' as const },
      ...(ctx.options.values ? [{ name: `pos.h.${layer}.rel_v`, shape: [slots, ctx.headDim], init: 'normal' as const }] : []),
    ]).flat();
  },
  scoreTerms: (q, _k, layer, ctx, params) => {
    const [B, nh, T, hs] = q.shape;
    const slots = 2 * ctx.options.maxDistance + 1;
    const perSlot = matMul2d(tf.reshape(q, [B * nh * T, hs]) as tf.Tensor2D, tf.transpose(params[`pos.h.${layer}.rel_k`]) as tf.Tensor2D); // (B·nh·T, 2k+1)
    const scores = gatherRelative(tf.reshape(perSlot, [B * nh, T, slots]) as tf.Tensor3D, shawIndex(T, ctx.options.maxDistance)); // (B·nh, T, T)
    return tf.reshape(scores, [B, nh, T, T]) as tf.Tensor4D;
  },
  valueTerms: (weights, layer, ctx, params) => {
    const relV = params[`pos.h.${layer}.rel_v`];
    const [B, nh, T] = weights.shape;
    if (!relV) return tf.zeros([B, nh, T, ctx.headDim]) as tf.Tensor4D;
    const slots = 2 * ctx.options.maxDistance + 1;
    const perSlot = scatterRelative(tf.reshape(weights, [B * nh, T, T]) as tf.Tensor3D, shawIndex(T, ctx.options.maxDistance), slots); // (B·nh, T, 2k+1)
    const values = matMul2d(tf.reshape(perSlot, [B * nh * T, slots]) as tf.Tensor2D, relV as tf.Tensor2D); // (B·nh·T, hs)
    return tf.reshape(values, [B, nh, T, ctx.headDim]) as tf.Tensor4D;
  },
  preview: ({ length }, { maxDistance }) => ({ buckets: shawIndex(length, maxDistance) }),
};
