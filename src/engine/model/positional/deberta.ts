import * as tf from '@tensorflow/tfjs';
import { gatherRelative, matMul2d } from '../ops';
import type { PositionalScheme } from './types';

/** DeBERTa's δ(i, j): 0 when i − j ≤ −k, 2k − 1 when i − j ≥ k, i − j + k otherwise. `index[a·T + b] = δ(a, b)`. */
export function debertaIndex(T: number, k: number): Int32Array {
  const index = new Int32Array(T * T);
  for (let a = 0; a < T; a++) for (let b = 0; b < T; b++) index[a * T + b] = Math.max(-k, Math.min(k - 1, a - b)) + k;
  return index;
}

/**
 * He et al. (2021): A_ij = Qc_i·Kc_j + Qc_i·Kr_{δ(i,j)} + Kc_j·Qr_{δ(j,i)}, scaled by 1/√(3d), where
 * Kr = P·W_kr and Qr = P·W_qr project 2k relative embeddings P shared by all layers.
 */
export const deberta: PositionalScheme = {
  name: 'deberta',
  label: 'DeBERTa disentangled',
  summary: 'Content-to-content, content-to-position and position-to-content terms over clipped distances, scaled by 1/√(3d).',
  hook: 'score',
  knobs: [{ key: 'maxDistance', flag: 'deberta-k', label: 'Span k', help: 'distances beyond ±k share an embedding', default: 32, min: 1, max: 4096, integer: true }],
  maxLength: () => Infinity,
  params: (ctx) => [
    { name: 'pos.rel_emb', shape: [2 * ctx.options.maxDistance, ctx.nEmbd], init: 'normal' },
    ...Array.from({ length: ctx.nLayer }, (_, layer) => [
      { name: `pos.h.${layer}.w_qr`, shape: [ctx.nEmbd, ctx.nEmbd], init: 'normal' as const, decay: true },
      { name: `pos.h.${layer}.w_kr`, shape: [ctx.nEmbd, ctx.nEmbd], init: 'normal' as const, decay: true },
    ]).flat(),
  ],
  scoreScale: (headDim) => 1 / Math.sqrt(3 * headDim),
  scoreTerms: (q, k, layer, ctx, params) => {
    const [B, nh, T, hs] = q.shape;
    const slots = 2 * ctx.options.maxDistance;
    const heads = (x: tf.Tensor2D): tf.Tensor4D =>
      tf.tile(tf.expandDims(tf.transpose(tf.reshape(x, [slots, nh, hs]), [1, 0, 2]), 0), [B, 1, 1, 1]) as tf.Tensor4D; // (B, nh, 2k, hs)
    const P = params['pos.rel_emb'] as tf.Tensor2D;
    const Kr = heads(matMul2d(P, params[`pos.h.${layer}.w_kr`] as tf.Tensor2D));
    const Qr = heads(matMul2d(P, params[`pos.h.${layer}.w_qr`] as tf.Tensor2D));
    const index = debertaIndex(T, ctx.options.maxDistance);
    const select = (x: tf.Tensor4D): tf.Tensor4D => tf.reshape(gatherRelative(tf.reshape(x, [B * nh, T, slots]) as tf.Tensor3D, index), [B, nh, T, T]) as tf.Tensor4D;
    const c2p = select(tf.matMul(q, Kr, false, true)); // [i, j] = q_i · Kr_δ(i,j)
    const p2c = tf.transpose(select(tf.matMul(k, Qr, false, true)), [0, 1, 3, 2]); // [i, j] = k_j · Qr_δ(j,i)
    return tf.add(c2p, p2c) as tf.Tensor4D;
  },
  preview: ({ length }, { maxDistance }) => ({ buckets: debertaIndex(length, maxDistance) }),
};
