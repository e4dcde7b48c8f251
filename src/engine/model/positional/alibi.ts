import { pairTermAt } from './positions';
import type { PositionalScheme } from './types';

/** The ALiBi paper's head slopes: geometric from 2^(-8/n); for n not a power of 2, interleave from 2n (official rule). */
export function alibiSlopes(nHead: number): number[] {
  const powerOfTwo = (n: number): number[] => {
    const start = 2 ** -(2 ** -(Math.log2(n) - 3));
    return Array.from({ length: n }, (_, i) => start * start ** i);
  };
  if (Number.isInteger(Math.log2(nHead))) return powerOfTwo(nHead);
  const closest = 2 ** Math.floor(Math.log2(nHead));
  const extra = alibiSlopes(2 * closest).filter((_, i) => i % 2 === 0).slice(0, nHead - closest);
  return [...powerOfTwo(closest), ...extra];
}

/**
 * The bias −m_h·(i − j) for query position i and key position j, not −m_h·|i − j|: without the causal mask the
 * −m_h·i part is constant along each softmax row and cancels, so two identical tokens get identical outputs wherever
 * they stand.
 */
function alibiTerm(nHead: number): (head: number, query: number, key: number) => number {
  const slopes = alibiSlopes(nHead);
  return (h, i, j) => -slopes[h]! * (i - j);
}

/** (nh·T·T) bias at positions 0…T−1, row i = query, column j = key. */
export function alibiBias(T: number, nHead: number): Float32Array {
  const term = alibiTerm(nHead);
  const bias = new Float32Array(nHead * T * T);
  for (let h = 0; h < nHead; h++)
    for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) bias[(h * T + i) * T + j] = term(h, i, j);
  return bias;
}

export const alibi: PositionalScheme = {
  name: 'alibi',
  label: 'ALiBi',
  summary: 'A fixed linear penalty −m·distance per head on the logits (Press et al. 2022): extrapolates well.',
  hook: 'bias',
  knobs: [],
  readsPositions: true,
  maxLength: () => Infinity,
  logitBias: (T, ctx, _params, positions) => pairTermAt(T, ctx.nHead, positions, alibiTerm(ctx.nHead)),
  preview: ({ length, nHead }) => ({ bias: alibiBias(length, nHead) }),
};
