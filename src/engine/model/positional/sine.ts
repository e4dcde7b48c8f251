import * as tf from '@tensorflow/tfjs';
import { scaleKnob } from './knobs';
import type { PositionalScheme } from './types';

/**
 * "Continuous binary": PE[t, c] = −scale · sin(π (t + ½) / 2^c), a smooth wave with the period 2^(c+1) of bit c
 * and the same sign as the binary scheme's ±1. Sines only, no cosines, so the whole vector repeats after 2^C.
 */
export function sineTable(T: number, C: number, scale: number): Float32Array {
  const table = new Float32Array(T * C);
  for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) table[t * C + c] = -scale * Math.sin((Math.PI * (t + 0.5)) / 2 ** c);
  return table;
}

export const sine: PositionalScheme = {
  name: 'sine',
  label: 'Sine (continuous binary)',
  summary: 'Sines with the periods of binary digits (2, 4, 8, …), no cosines: smooth, but positions repeat after the longest period.',
  hook: 'input',
  knobs: [scaleKnob('amplitude of each sine')],
  maxLength: () => Infinity,
  inputTable: (T, ctx) => tf.tensor2d(sineTable(T, ctx.nEmbd, ctx.options.scale), [T, ctx.nEmbd]),
  preview: ({ length, nEmbd }, { scale }) => ({ table: sineTable(length, nEmbd, scale) }),
};
