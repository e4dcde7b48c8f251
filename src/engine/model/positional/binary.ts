import * as tf from '@tensorflow/tfjs';
import { scaleKnob } from './knobs';
import type { PositionalScheme } from './types';

/** PE[t, c] = ±scale by bit c of t (LSB on dimension 0); positions wrap past 2^C. */
export function binaryTable(T: number, C: number, scale: number): Float32Array {
  const table = new Float32Array(T * C);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < C; c++) table[t * C + c] = Math.floor(t / 2 ** c) % 2 === 1 ? scale : -scale;
  }
  return table;
}

export const binary: PositionalScheme = {
  name: 'binary',
  label: 'Binary',
  summary: 'The bits of t as ±scale, least significant bit on dimension 0: bounded, but discontinuous.',
  hook: 'input',
  knobs: [scaleKnob('magnitude of each ±1 bit')],
  maxLength: () => Infinity,
  inputTable: (T, ctx) => tf.tensor2d(binaryTable(T, ctx.nEmbd, ctx.options.scale), [T, ctx.nEmbd]),
  preview: ({ length, nEmbd }, { scale }) => ({ table: binaryTable(length, nEmbd, scale) }),
};
