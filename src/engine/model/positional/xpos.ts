import * as tf from '@tensorflow/tfjs';
import { applyRotation, rope, ropeAngles, ropeFrequencies } from './rope';
import type { PositionalScheme } from './types';

/** γ of xPos: ζ_i = (2i/d + γ)/(1 + γ) runs from γ/(1+γ) ≈ 0.29 (fastest pair) up towards 1 (slowest). */
const XPOS_GAMMA = 0.4;

/**
 * xPos (Sun et al. 2023, "A Length-Extrapolatable Transformer", §3.2): RoPE with q at position m scaled by ζ_i^(m/B)
 * and k at position n by ζ_i^(−n/B) on pair i, so each pair's score carries ζ_i^((m−n)/B) — a decay with distance
 * that is strongest for the fast-turning pairs. ζ_i = (2i/d + γ)/(1 + γ), γ = 0.4, B = 512 by default, as in
 * torchscale's xpos_relative_position.py, which also centres positions (t − ⌈T/2⌉) so that ζ^(±t/B) stays near 1 at
 * long lengths; the product depends on m − n only. (T, hs) laid out [half, half] like rope's tables.
 */
export function xposScales(T: number, headDim: number, scaleBase: number): Float32Array {
  const half = headDim / 2;
  const centre = Math.ceil(T / 2);
  const scales = new Float32Array(T * headDim);
  for (let t = 0; t < T; t++)
    for (let i = 0; i < half; i++) {
      const zeta = ((2 * i) / headDim + XPOS_GAMMA) / (1 + XPOS_GAMMA);
      const scale = zeta ** ((t - centre) / scaleBase);
      scales[t * headDim + i] = scale;
      scales[t * headDim + i + half] = scale;
    }
  return scales;
}

export const xpos: PositionalScheme = {
  name: 'xpos',
  label: 'xPos (decaying RoPE)',
  summary: 'RoPE whose q·k also shrinks by ζ^(distance/B) per frequency (Sun et al. 2023): rotation plus a built-in decay.',
  hook: 'rotate',
  knobs: [
    rope.knobs[0]!,
    { key: 'scaleBase', flag: 'xpos-scale-base', label: 'Scale base B', help: 'distance over which the decay ζ^(distance/B) acts', default: 512, min: 1, max: 1e6, integer: false },
  ],
  maxLength: () => Infinity,
  checkModel: rope.checkModel,
  rotate: (q, k, ctx) => {
    const T = q.shape[2];
    const { cos, sin } = ropeAngles(T, ropeFrequencies(ctx.headDim, { base: ctx.options.base }).inverseFrequencies);
    const scales = tf.tensor2d(xposScales(T, ctx.headDim, ctx.options.scaleBase), [T, ctx.headDim]);
    const [cosT, sinT] = [tf.tensor2d(cos, [T, ctx.headDim]), tf.tensor2d(sin, [T, ctx.headDim])];
    return [tf.mul(applyRotation(q, cosT, sinT), scales) as tf.Tensor4D, tf.div(applyRotation(k, cosT, sinT), scales) as tf.Tensor4D];
  },
};
