/**
 * Sweep keys name a grid cell by what it trains, not where: the backend choice and thread count are left out,
 * every other field counts.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/engine/config';
import { sweepKeyOf } from '../../src/lab/sweepKey';

describe('sweepKeyOf', () => {
  const base = resolveConfig({ pos: 'rope', steps: 10 });

  it('is the same on every backend, so a cell finished on wasm is found when re-run on webgpu', () => {
    expect(sweepKeyOf({ ...base, backend: 'webgpu' })).toBe(sweepKeyOf(base));
    expect(sweepKeyOf({ ...base, backend: 'wasm' }, 'recipe:x')).toBe(sweepKeyOf(base, 'recipe:x'));
  });

  it("is the same on every thread count, so a cell trained with threads 'auto' on 2 cores is found on 8", () => {
    expect(sweepKeyOf(resolveConfig({ pos: 'rope', steps: 10 }, 8))).toBe(sweepKeyOf(resolveConfig({ pos: 'rope', steps: 10 }, 2)));
  });

  it('changes with any field of the model or the run', () => {
    expect(sweepKeyOf({ ...base, steps: 11 })).not.toBe(sweepKeyOf(base));
    expect(sweepKeyOf({ ...base, pos: 'alibi' })).not.toBe(sweepKeyOf(base));
    expect(sweepKeyOf({ ...base, attnLogScaling: 'fixed' })).not.toBe(sweepKeyOf(base));
  });

  it('keeps the keys of cells stored before log-n scaling existed (no field means none)', () => {
    const { attnLogScaling: _none, ...before } = base;
    expect(sweepKeyOf(before as typeof base)).toBe(sweepKeyOf(base));
  });
});
