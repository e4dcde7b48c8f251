/**
 * Seeded pseudo-random numbers (mulberry32). Every random choice in the engine that is not a tfjs op
 * (batch offsets, corpus generation, sampling) draws from one of these, so a seed reproduces a run.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** A fresh 31-bit seed, for handing to tfjs ops that take a numeric seed. */
  seed(): number;
  /** The generator's internal state, so a resumed run continues the same stream. */
  state(): number;
}

export function createRng(seed: number, state?: number): Rng {
  let s = state ?? (seed >>> 0) ^ 0x9e3779b9;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    seed: () => Math.floor(next() * 0x7fffffff),
    state: () => s,
  };
}
