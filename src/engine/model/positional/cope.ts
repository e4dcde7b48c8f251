import * as tf from '@tensorflow/tfjs';
import { batchMatMul, matMul2d } from '../ops';
import type { PositionalScheme } from './types';

/** (T, T) with 1 where key k ≤ query i: the gates a query may count. */
function visibleKeys(T: number): tf.Tensor2D {
  const ones = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let k = 0; k <= i; k++) ones[i * T + k] = 1;
  return tf.tensor2d(ones, [T, T]);
}

/** (T, T) with U[k, j] = 1 where k ≥ j, so (gates @ U)[i, j] = Σ_{k ≥ j} g_ik. */
function suffixSum(T: number): tf.Tensor2D {
  const ones = new Float32Array(T * T);
  for (let k = 0; k < T; k++) for (let j = 0; j <= k; j++) ones[k * T + j] = 1;
  return tf.tensor2d(ones, [T, T]);
}

/**
 * CoPE (Golovneva et al. 2024, "Contextual Position Encoding: Learning to Count What's Important", §3), its four
 * equations in order:
 *   gate       g_ij = σ(q_iᵀk_j)
 *   position   p_ij = Σ_{k=j..i} g_ik                               (clamped at npos − 1, as the paper's code does)
 *   embedding  e[p_ij] = (p_ij − ⌊p_ij⌋)·e[⌈p_ij⌉] + (1 − p_ij + ⌊p_ij⌋)·e[⌊p_ij⌋]
 *   attention  a_ij = Softmax(q_iᵀ(k_j + e[p_ij]))                  (here with the usual 1/√hs on both terms)
 * Each layer has its own hs × npos table, shared by its heads and zero at start, as in the paper's code. As the paper
 * suggests, only q_i·e[n] for the npos integers n is computed; the interpolation weight of n is the hat
 * max(0, 1 − |p − n|), which is the floor/ceil blend above, as one tensor op instead of a gather (whose gradient the
 * wasm backend lacks). The paper's code gates on the scaled logit σ(q·k/√hs); this follows the gate equation. Keys
 * after the query get p = 0; the causal mask removes them. No preview: positions depend on the content (the gates),
 * so there is nothing to draw without a run and an input.
 */
export const cope: PositionalScheme = {
  name: 'cope',
  label: 'CoPE (contextual)',
  summary: 'Positions counted by learned gates σ(q·k) rather than tokens, with interpolated position vectors (Golovneva et al. 2024): it can count words or sentences.',
  hook: 'score',
  knobs: [{ key: 'positions', flag: 'cope-positions', label: 'Positions npos', help: 'number of position vectors; counts beyond npos − 1 share the last', default: 16, min: 1, max: 4096, integer: true }],
  maxLength: () => Infinity,
  params: (ctx) => Array.from({ length: ctx.nLayer }, (_, layer) => ({ name: `pos.h.${layer}.cope_emb`, shape: [ctx.headDim, ctx.options.positions!], init: 'zeros' as const })),
  scoreTerms: (q, k, layer, ctx, params) => {
    const [B, nh, T, hs] = q.shape;
    const npos = ctx.options.positions!;
    const gates = tf.mul(tf.sigmoid(batchMatMul(q, k, false, true)), visibleKeys(T)); // (B, nh, T, T), 0 past the query
    const counted = matMul2d(tf.reshape(gates, [B * nh * T, T]) as tf.Tensor2D, suffixSum(T)); // (B·nh·T, T): p_ij
    const positions = tf.reshape(tf.minimum(counted, npos - 1), [B, nh, T, T, 1]);
    const slots = tf.tensor1d(Float32Array.from({ length: npos }, (_, n) => n)); // (npos)
    const hat = tf.relu(tf.sub(1, tf.abs(tf.sub(positions, slots)))); // (B, nh, T, T, npos): interpolation weights
    const perSlot = tf.reshape(matMul2d(tf.reshape(q, [B * nh * T, hs]) as tf.Tensor2D, params[`pos.h.${layer}.cope_emb`] as tf.Tensor2D), [B, nh, T, 1, npos]); // q_i·e[n]
    return tf.sum(tf.mul(hat, perSlot), 4) as tf.Tensor4D; // (B, nh, T, T): q_i·e[p_ij]
  },
};
