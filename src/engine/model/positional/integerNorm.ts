import * as tf from '@tensorflow/tfjs';
import { scaleKnob } from './knobs';
import type { PositionalScheme } from './types';

/**
 * PE[t, c] = scale · t / T for a sequence of length T: bounded, but position t means something else at every T.
 * Constant across dimensions, so LayerNorm erases it as it does the plain integer scheme.
 */
export function integerNormTable(T: number, C: number, scale: number): Float32Array {
  const table = new Float32Array(T * C);
  for (let t = 0; t < T; t++) table.fill((scale * t) / T, t * C, (t + 1) * C);
  return table;
}

export const integerNorm: PositionalScheme = {
  name: 'integer-norm',
  label: 'Integer ÷ length',
  summary: 'Adds t/T to every dimension: no longer swamps the embeddings, but the same position gets a different vector at every length.',
  hook: 'input',
  knobs: [scaleKnob('multiplier on the position index')],
  maxLength: () => Infinity,
  inputTable: (T, ctx) => tf.tensor2d(integerNormTable(T, ctx.nEmbd, ctx.options.scale), [T, ctx.nEmbd]),
  preview: ({ length, nEmbd }, { scale }) => ({ table: integerNormTable(length, nEmbd, scale) }),
};
