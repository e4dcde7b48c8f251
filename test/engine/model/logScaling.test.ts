/** Log-n attention scaling: the factors by hand, nothing changes within the training length, rows past it change. */
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../../src/engine/config';
import { logScaleFactors } from '../../../src/engine/model/logScaling';
import { useWasmBackend } from '../../helpers/backend';
import { buildModel, logitsOf, maxAbsDiff } from '../../helpers/model';

useWasmBackend();

describe('log-n attention scaling', () => {
  it('is max(1, log(n)/log(L)) for the n = i + 1 keys query i sees (hand values)', () => {
    expect(logScaleFactors(4, 4)).toBeNull();
    const factors = Array.from(logScaleFactors(8, 4)!);
    expect(factors.slice(0, 4)).toEqual([1, 1, 1, 1]);
    // log 5/log 4 = 1.160964, log 6/log 4 = 1.292481, log 7/log 4 = 1.403677, log 8/log 4 = 3/2.
    expect(factors[4]).toBeCloseTo(1.160964, 6);
    expect(factors[5]).toBeCloseTo(1.292481, 6);
    expect(factors[6]).toBeCloseTo(1.403677, 6);
    expect(factors[7]).toBeCloseTo(1.5, 6);
  });

  const tokens = (T: number): number[][] => [Array.from({ length: T }, (_, t) => (t * 7 + 3) % 11)];

  it.each(['alibi', 'rope', 'cope'])('%s: changes nothing up to the block, and only the rows past it beyond', (pos) => {
    const [plain, scaled] = (['none', 'fixed'] as const).map((attnLogScaling) => buildModel({ pos, blockSize: 8, attnLogScaling }, 3));
    expect(maxAbsDiff(logitsOf(scaled, tokens(8)), logitsOf(plain, tokens(8)))).toBe(0);
    const V = 11;
    const [a, b] = [logitsOf(plain, tokens(16)), logitsOf(scaled, tokens(16))];
    // A causal row i mixes only rows ≤ i of the layer below, so rows within the block are untouched at every depth.
    expect(maxAbsDiff(a.subarray(0, 8 * V), b.subarray(0, 8 * V))).toBe(0);
    expect(maxAbsDiff(a.subarray(8 * V), b.subarray(8 * V))).toBeGreaterThan(1e-3);
    plain.dispose();
    scaled.dispose();
  });

  it('is a setting with a clear error for a bad value or a block where log(L) = 0', () => {
    expect(resolveConfig({}).attnLogScaling).toBe('none');
    expect(resolveConfig({ attnLogScaling: 'fixed' }).attnLogScaling).toBe('fixed');
    expect(() => resolveConfig({ attnLogScaling: 'learned' as never })).toThrow(/attnLogScaling: must be one of none, fixed, got "learned"/);
    expect(() => resolveConfig({ attnLogScaling: 'fixed', blockSize: 1 })).toThrow(ConfigError);
    expect(() => resolveConfig({ attnLogScaling: 'fixed', blockSize: 1 })).toThrow(/attnLogScaling: fixed needs a block of at least 2/);
  });
});
