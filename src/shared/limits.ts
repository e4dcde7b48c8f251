/**
 * The input limits the CLI and the web API share, so a name, a sweep or a number that one accepts the other accepts
 * too. Kept free of engine imports: the renderer bundles this file (through api.ts).
 */

/** Run names (and sweep name prefixes): at most this many characters, after trimming, and never empty. */
export const MAX_NAME_LENGTH = 200;
/** More runs than this in one sweep is almost certainly a mistake in the grid. */
export const MAX_SWEEP_RUNS = 64;
/** Most seeds one experiment trains (`train --seeds`, New run's Seeds, `sweep --seeds`). */
export const MAX_SEEDS = 16;

/** A trimmed run name, or why it is not one. */
export function checkName(raw: string): { name: string } | { problem: string } {
  const name = raw.trim();
  if (name === '') return { problem: 'must not be empty' };
  if (name.length > MAX_NAME_LENGTH) return { problem: `must be at most ${MAX_NAME_LENGTH} characters, got ${name.length}` };
  return { name };
}

/** Integers are written in plain decimal: `0x3`, `0b11`, `1e3`, `3.0` and ` 3` are refused, not read as 3. */
export const DECIMAL_INTEGER = /^[+-]?\d+$/;
/** A decimal number: digits with an optional fraction and exponent; no hex, binary, Infinity or NaN. */
export const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
