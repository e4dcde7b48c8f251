import * as tf from '@tensorflow/tfjs';
import type { PositionalScheme } from './types';

/**
 * Sandwich (Chi et al. 2023, "Dissecting Transformer Length Extrapolation via the Lens of Receptive Field Analysis",
 * §5, "Sandwich"): the bias is the inner product of two sinusoidal position embeddings of dimension d̄,
 *   p_m·p_n = Σ_{i<d̄/2} cos((m − n)/10000^(2i/d̄)),
 * shifted by −d̄/2 (so distance 0 costs nothing and farther keys cost more, like ALiBi's −m·distance) and divided per
 * head h = 1…H by 8h/H, the paper's stand-in for ALiBi's geometric slopes. Nothing is learned; the bias depends on
 * m − n only. (nh·T·T), row = query, column = key.
 */
export function sandwichBias(T: number, nHead: number, dim: number): Float32Array {
  const byDistance = new Float64Array(T);
  for (let d = 0; d < T; d++) {
    let dot = 0;
    for (let i = 0; i < dim / 2; i++) dot += Math.cos(d / 10000 ** ((2 * i) / dim));
    byDistance[d] = dot - dim / 2;
  }
  const bias = new Float32Array(nHead * T * T);
  for (let h = 0; h < nHead; h++) {
    const headScale = (8 * (h + 1)) / nHead;
    for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) bias[(h * T + i) * T + j] = byDistance[Math.abs(i - j)]! / headScale;
  }
  return bias;
}

export const sandwich: PositionalScheme = {
  name: 'sandwich',
  label: 'Sandwich',
  summary: 'The dot product of two sinusoidal embeddings as a fixed per-head bias (Chi et al. 2023): ALiBi-like decay from sinusoids, no parameters.',
  hook: 'bias',
  knobs: [{ key: 'dim', flag: 'sandwich-dim', label: 'Sinusoid dim d̄', help: 'dimension of the sinusoidal embeddings whose dot product is the bias (even)', default: 128, min: 2, max: 4096, integer: true }],
  maxLength: () => Infinity,
  checkModel: (_shape, { dim }) => (dim % 2 === 0 ? [] : [{ field: 'posOptions.dim', flag: 'sandwich-dim', message: `must be even (sin/cos pairs), got ${dim}` }]),
  logitBias: (T, ctx) => tf.tensor3d(sandwichBias(T, ctx.nHead, ctx.options.dim!), [ctx.nHead, T, T]),
  preview: ({ length, nHead }, { dim }) => ({ bias: sandwichBias(length, nHead, dim!) }),
};
