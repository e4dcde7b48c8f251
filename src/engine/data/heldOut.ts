import { DataError } from './errors';

/**
 * Which generated examples are held out. One example in HELD_OUT_ONE_IN, chosen by a hash of its text, appears only
 * in validation and in task-accuracy prompts; training never sees it. Splitting by position alone is not enough: a
 * small task space repeats every example in both halves (builtin:count has 500 distinct lines, so all of its
 * validation lines used to occur verbatim in train), and validation then measures memorisation.
 */
export const HELD_OUT_ONE_IN = 10;

/** Draws that may be rejected in a row before a generator is taken to have no example of the wanted kind. */
const MAX_REJECTIONS = 10_000;

/**
 * A cheap, stable 32-bit bucket for short example strings (corpus.ts's hashText names whole texts): FNV-1a, then
 * murmur3's finaliser, because FNV's lowest bit is the XOR of the characters' lowest bits, so every copy line (s|s,
 * each letter twice) would hash odd and none would ever be held out.
 */
function exampleHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** True for an example (one line, without its newline) reserved for validation. */
export function isHeldOutExample(example: string): boolean {
  return exampleHash(example) % HELD_OUT_ONE_IN === 0;
}

/** The first value of `next()` that `keep` accepts; reports a generator that never yields one instead of looping. */
export function drawUntil<T>(next: () => T, keep: (value: T) => boolean, what: string): T {
  for (let i = 0; i < MAX_REJECTIONS; i++) {
    const value = next();
    if (keep(value)) return value;
  }
  throw new DataError('bad-option', `no ${what} in ${MAX_REJECTIONS} draws: that example space is too small to hold examples out`);
}
