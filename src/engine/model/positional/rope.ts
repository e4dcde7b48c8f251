import * as tf from '@tensorflow/tfjs';
import type { PositionalScheme } from './types';

/**
 * cos and sin of angle t · base^(-2i/hs) for i < hs/2, each laid out (T, hs) as [half, half] to match
 * the rotate-half pairing: dimension i pairs with dimension i + hs/2.
 */
export function ropeAngles(T: number, headDim: number, base: number): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const cos = new Float32Array(T * headDim);
  const sin = new Float32Array(T * headDim);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t * base ** ((-2 * i) / headDim);
      for (const d of [i, i + half]) {
        cos[t * headDim + d] = Math.cos(angle);
        sin[t * headDim + d] = Math.sin(angle);
      }
    }
  }
  return { cos, sin };
}

/** (x1, x2) → (−x2, x1) over the two halves of the last axis. */
function rotateHalf(x: tf.Tensor4D): tf.Tensor4D {
  const half = x.shape[3] / 2;
  const [x1, x2] = tf.split(x, [half, half], 3);
  return tf.concat([tf.neg(x2), x1], 3) as tf.Tensor4D;
}

export const rope: PositionalScheme = {
  name: 'rope',
  label: 'RoPE (rotary)',
  summary: 'Rotates q and k by angles proportional to position, so q·k depends only on the offset (Su et al. 2021).',
  hook: 'rotate',
  knobs: [{ key: 'base', flag: 'rope-base', label: 'Base', help: 'wavelength base θ', default: 10000, min: 2, max: 1e9, integer: false }],
  maxLength: () => Infinity,
  checkModel: ({ nEmbd, nHead }) =>
    (nEmbd / nHead) % 2 === 0 ? [] : [{ field: 'nEmbd', message: `rope needs an even head size; nEmbd/nHead = ${nEmbd / nHead}` }],
  rotate: (q, k, ctx) => {
    const T = q.shape[2];
    const { cos, sin } = ropeAngles(T, ctx.headDim, ctx.options.base);
    const cosT = tf.tensor2d(cos, [T, ctx.headDim]);
    const sinT = tf.tensor2d(sin, [T, ctx.headDim]);
    const apply = (x: tf.Tensor4D): tf.Tensor4D => tf.add(tf.mul(x, cosT), tf.mul(rotateHalf(x), sinT));
    return [apply(q), apply(k)];
  },
};
