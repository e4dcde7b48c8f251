/** The verdict statistics against numbers worked out by hand (and checked with scipy.stats.ttest_ind, Welch). */
import { describe, expect, it } from 'vitest';
import { allOf, judgeAbove, judgeBelow, negate, spread, tQuantile975, welchDifference } from '../../src/lab/stats';

describe('spread', () => {
  it('gives mean, sample std and the 95 % t interval of the mean', () => {
    // mean 2.2; variance (0.04 + 0 + 0.04) / 2 = 0.04, std 0.2; half-width t_{0.975,2}·0.2/√3 = 4.303·0.11547 = 0.49687.
    const s = spread([2.0, 2.2, 2.4]);
    expect(s.n).toBe(3);
    expect(s.mean).toBeCloseTo(2.2, 12);
    expect(s.std).toBeCloseTo(0.2, 12);
    expect(s.low).toBeCloseTo(1.703132, 5);
    expect(s.high).toBeCloseTo(2.696868, 5);
  });

  it('refuses one seed and non-finite values', () => {
    expect(() => spread([1])).toThrow(/at least 2 values/);
    expect(() => spread([1, NaN, 2])).toThrow(/finite/);
  });
});

describe('welchDifference', () => {
  it('matches the Welch interval worked by hand', () => {
    // a: mean 2.2, s² 0.04 → s²/n 0.013333; b: mean 2.65, s² 0.016667 → s²/n 0.0041667; se² = 0.0175.
    // df = 0.0175² / (0.013333²/2 + 0.0041667²/3) = 3.2347 → t at 3 df = 3.182; half 3.182·√0.0175 = 0.42094.
    const d = welchDifference([2.0, 2.2, 2.4], [2.5, 2.6, 2.7, 2.8]);
    expect(d.difference).toBeCloseTo(-0.45, 12);
    expect(d.df).toBeCloseTo(3.23472, 4);
    expect(d.low).toBeCloseTo(-0.870939, 5);
    expect(d.high).toBeCloseTo(-0.029061, 5);
  });

  it('is exact when neither sample varies', () => {
    expect(welchDifference([1, 1, 1], [0.5, 0.5, 0.5])).toEqual({ difference: 0.5, df: Infinity, low: 0.5, high: 0.5 });
  });
});

describe('tQuantile975', () => {
  it('rounds fractional degrees of freedom down (wider, never narrower) and stays at 30 df beyond', () => {
    expect(tQuantile975(2)).toBe(4.303);
    expect(tQuantile975(2.9)).toBe(4.303);
    expect(tQuantile975(1000)).toBe(2.042);
    expect(() => tQuantile975(0.5)).toThrow(/degree of freedom/);
  });
});

describe('judgeBelow and allOf', () => {
  it('is held, did not hold or inconclusive by where the threshold falls', () => {
    expect(judgeBelow({ low: -0.8, high: -0.1 }, 0)).toBe('held');
    expect(judgeBelow({ low: 0.1, high: 0.8 }, 0)).toBe('did not hold');
    expect(judgeBelow({ low: -0.1, high: 0.1 }, 0)).toBe('inconclusive');
    expect(judgeBelow({ low: 1.0, high: 1.1 }, 1.15)).toBe('held');
    expect(judgeAbove({ low: 0.6, high: 0.9 }, 0.5)).toBe('held');
    expect(judgeAbove({ low: 0.1, high: 0.4 }, 0.5)).toBe('did not hold');
    expect(judgeAbove({ low: 0.4, high: 0.6 }, 0.5)).toBe('inconclusive');
    expect(['held', 'did not hold', 'inconclusive'].map((v) => negate(v as 'held'))).toEqual(['did not hold', 'held', 'inconclusive']);
  });

  it('combines sub-claims: one failure decides, one doubt makes it inconclusive', () => {
    expect(allOf(['held', 'held'])).toBe('held');
    expect(allOf(['held', 'inconclusive'])).toBe('inconclusive');
    expect(allOf(['inconclusive', 'did not hold'])).toBe('did not hold');
  });
});
