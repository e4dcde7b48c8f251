import { scaleKnob } from './knobs';
import { consecutive, inputTableAt } from './positions';
import type { PositionalScheme } from './types';

/**
 * PE[t, 2i] = scale·sin(t / 10000^(2i/C)), PE[t, 2i+1] = scale·cos(t / 10000^(2i/C)) (Vaswani et al. 2017, scale 1).
 * At scale 1 each dimension has RMS 1/√2 ≈ 0.71 against minGPT's token embeddings of std 0.02, so the positions
 * swamp the tokens; Vaswani et al. scale the embeddings up by √C instead, minGPT does neither. Scale 0.02·√2
 * matches the two (the learned-vs-sinusoidal recipe compares both).
 */
export function sinusoidalTable(T: number, C: number, scale = 1): Float32Array {
  return sinusoidalRows(consecutive(T), C, scale);
}

/** The rows of the sinusoidal table at the given positions, one after another. */
export function sinusoidalRows(positions: ArrayLike<number>, C: number, scale = 1): Float32Array {
  const table = new Float32Array(positions.length * C);
  for (let row = 0; row < positions.length; row++) {
    const t = positions[row]!;
    for (let c = 0; c < C; c++) {
      const pairStart = c - (c % 2);
      const angle = t / 10000 ** (pairStart / C);
      table[row * C + c] = scale * (c % 2 === 0 ? Math.sin(angle) : Math.cos(angle));
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
  readsPositions: true,
  maxLength: () => Infinity,
  inputTable: (T, ctx, _params, positions) => inputTableAt(T, ctx.nEmbd, positions, (at) => sinusoidalRows(at, ctx.nEmbd, ctx.options.scale)),
  preview: ({ length, nEmbd }, { scale }) => ({ table: sinusoidalTable(length, nEmbd, scale) }),
};
