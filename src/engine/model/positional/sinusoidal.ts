import * as tf from '@tensorflow/tfjs';
import { scaleKnob } from './knobs';
import type { PositionalScheme } from './types';

/**
 * PE[t, 2i] = scale·sin(t / 10000^(2i/C)), PE[t, 2i+1] = scale·cos(t / 10000^(2i/C)) (Vaswani et al. 2017, scale 1).
 * At scale 1 each dimension has RMS 1/√2 ≈ 0.71 against minGPT's token embeddings of std 0.02, so the positions
 * swamp the tokens; Vaswani et al. scale the embeddings up by √C instead, minGPT does neither. Scale 0.02·√2
 * matches the two (the learned-vs-sinusoidal recipe compares both).
 */
export function sinusoidalTable(T: number, C: number, scale = 1): Float32Array {
  const table = new Float32Array(T * C);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < C; c++) {
      const pairStart = c - (c % 2);
      const angle = t / 10000 ** (pairStart / C);
      table[t * C + c] = scale * (c % 2 === 0 ? Math.sin(angle) : Math.cos(angle));
    }
  }
  return table;
}

export const sinusoidal: PositionalScheme = {
  name: 'sinusoidal',
  label: 'Sinusoidal',
  summary: 'Fixed sines and cosines of geometric wavelengths added to the input; defined at any length, but extrapolates poorly.',
  hook: 'input',
  knobs: [scaleKnob('amplitude of every sine and cosine (1 as in the paper; 0.0283 matches token embeddings of std 0.02)')],
  maxLength: () => Infinity,
  inputTable: (T, ctx) => tf.tensor2d(sinusoidalTable(T, ctx.nEmbd, ctx.options.scale), [T, ctx.nEmbd]),
  preview: ({ length, nEmbd }, { scale }) => ({ table: sinusoidalTable(length, nEmbd, scale) }),
};
