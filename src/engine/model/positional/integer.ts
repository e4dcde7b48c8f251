import { scaleKnob } from './knobs';
import { consecutive, inputTableAt } from './positions';
import type { PositionalScheme } from './types';

/**
 * PE[t, c] = t · scale on every dimension. A vector constant across dimensions is exactly what LayerNorm's mean
 * subtraction removes, so under LayerNorm this carries no position at all (RMSNorm or no norm keep it).
 */
export function integerTable(T: number, C: number, scale: number): Float32Array {
  return integerRows(consecutive(T), C, scale);
}

/** The rows of the integer table at the given positions. */
export function integerRows(positions: ArrayLike<number>, C: number, scale: number): Float32Array {
  const table = new Float32Array(positions.length * C);
  for (let row = 0; row < positions.length; row++) table.fill(positions[row]! * scale, row * C, (row + 1) * C);
  return table;
}

export const integer: PositionalScheme = {
  name: 'integer',
  label: 'Integer',
  summary: 'Adds t·scale to every dimension: raw integers swamp the embeddings, except that LayerNorm subtracts the mean and erases them.',
  hook: 'input',
  knobs: [scaleKnob('multiplier on the position index')],
  readsPositions: true,
  maxLength: () => Infinity,
  inputTable: (T, ctx, _params, positions) => inputTableAt(T, ctx.nEmbd, positions, (at) => integerRows(at, ctx.nEmbd, ctx.options.scale)),
  preview: ({ length, nEmbd }, { scale }) => ({ table: integerTable(length, nEmbd, scale) }),
};
