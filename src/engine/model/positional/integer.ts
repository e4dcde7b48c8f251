import * as tf from '@tensorflow/tfjs';
import { scaleKnob } from './knobs';
import type { PositionalScheme } from './types';

/**
 * PE[t, c] = t · scale on every dimension. A vector constant across dimensions is exactly what LayerNorm's mean
 * subtraction removes, so under LayerNorm this carries no position at all (RMSNorm or no norm keep it).
 */
export function integerTable(T: number, C: number, scale: number): Float32Array {
  const table = new Float32Array(T * C);
  for (let t = 0; t < T; t++) table.fill(t * scale, t * C, (t + 1) * C);
  return table;
}

export const integer: PositionalScheme = {
  name: 'integer',
  label: 'Integer',
  summary: 'Adds t·scale to every dimension: raw integers swamp the embeddings, except that LayerNorm subtracts the mean and erases them.',
  hook: 'input',
  knobs: [scaleKnob('multiplier on the position index')],
  maxLength: () => Infinity,
  inputTable: (T, ctx) => tf.tensor2d(integerTable(T, ctx.nEmbd, ctx.options.scale), [T, ctx.nEmbd]),
  preview: ({ length, nEmbd }, { scale }) => ({ table: integerTable(length, nEmbd, scale) }),
};
