import { scaleKnob } from './knobs';
import { consecutive, inputTableAt } from './positions';
import type { PositionalScheme } from './types';

/** PE[t, c] = ±scale by bit c of t (LSB on dimension 0); positions wrap past 2^C. */
export function binaryTable(T: number, C: number, scale: number): Float32Array {
  return binaryRows(consecutive(T), C, scale);
}

/** The rows of the binary table at the given positions. */
export function binaryRows(positions: ArrayLike<number>, C: number, scale: number): Float32Array {
  const table = new Float32Array(positions.length * C);
  for (let row = 0; row < positions.length; row++) {
    for (let c = 0; c < C; c++) table[row * C + c] = Math.floor(positions[row]! / 2 ** c) % 2 === 1 ? scale : -scale;
  }
  return table;
}

export const binary: PositionalScheme = {
  name: 'binary',
  label: 'Binary',
  summary: 'The bits of t as ±scale, least significant bit on dimension 0: bounded, but discontinuous.',
  hook: 'input',
  knobs: [scaleKnob('magnitude of each ±1 bit')],
  readsPositions: true,
  maxLength: () => Infinity,
  inputTable: (T, ctx, _params, positions) => inputTableAt(T, ctx.nEmbd, positions, (at) => binaryRows(at, ctx.nEmbd, ctx.options.scale)),
  preview: ({ length, nEmbd }, { scale }) => ({ table: binaryTable(length, nEmbd, scale) }),
};
