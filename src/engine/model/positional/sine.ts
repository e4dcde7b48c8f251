import { scaleKnob } from './knobs';
import { consecutive, inputTableAt } from './positions';
import type { PositionalScheme } from './types';

/**
 * "Continuous binary": PE[t, c] = −scale · sin(π (t + ½) / 2^c), a smooth wave with the period 2^(c+1) of bit c
 * and the same sign as the binary scheme's ±1. Sines only, no cosines, so the whole vector repeats after 2^C.
 */
export function sineTable(T: number, C: number, scale: number): Float32Array {
  return sineRows(consecutive(T), C, scale);
}

/** The rows of the sine table at the given positions. */
export function sineRows(positions: ArrayLike<number>, C: number, scale: number): Float32Array {
  const table = new Float32Array(positions.length * C);
  for (let row = 0; row < positions.length; row++)
    for (let c = 0; c < C; c++) table[row * C + c] = -scale * Math.sin((Math.PI * (positions[row]! + 0.5)) / 2 ** c);
  return table;
}

export const sine: PositionalScheme = {
  name: 'sine',
  label: 'Sine (continuous binary)',
  summary: 'Sines with the periods of binary digits (2, 4, 8, …), no cosines: smooth, but positions repeat after the longest period.',
  hook: 'input',
  knobs: [scaleKnob('amplitude of each sine')],
  readsPositions: true,
  maxLength: () => Infinity,
  inputTable: (T, ctx, _params, positions) => inputTableAt(T, ctx.nEmbd, positions, (at) => sineRows(at, ctx.nEmbd, ctx.options.scale)),
  preview: ({ length, nEmbd }, { scale }) => ({ table: sineTable(length, nEmbd, scale) }),
};
