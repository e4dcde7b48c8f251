import * as tf from '@tensorflow/tfjs';
import type { PositionalScheme } from './types';

/** PE[t, 2i] = sin(t / 10000^(2i/C)), PE[t, 2i+1] = cos(t / 10000^(2i/C)) (Vaswani et al. 2017). */
export function sinusoidalTable(T: number, C: number): Float32Array {
  const table = new Float32Array(T * C);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < C; c++) {
      const pairStart = c - (c % 2);
      const angle = t / 10000 ** (pairStart / C);
      table[t * C + c] = c % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return table;
}

export const sinusoidal: PositionalScheme = {
  name: 'sinusoidal',
  label: 'Sinusoidal',
  summary: 'Fixed sines and cosines of geometric wavelengths added to the input; defined at any length, but extrapolates poorly.',
  hook: 'input',
  knobs: [],
  maxLength: () => Infinity,
  inputTable: (T, ctx) => tf.tensor2d(sinusoidalTable(T, ctx.nEmbd), [T, ctx.nEmbd]),
};
