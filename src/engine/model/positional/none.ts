import type { PositionalScheme } from './types';

/** NoPE: no positional signal at all; only the causal mask tells positions apart. */
export const none: PositionalScheme = {
  name: 'none',
  label: 'None (NoPE)',
  summary: 'No position signal: the causal mask alone leaks order; without it attention is permutation-equivariant.',
  hook: 'none',
  knobs: [],
  maxLength: () => Infinity,
};
