/**
 * learningRate against values worked out by hand: linear warmup (step 0 → lr/warmup, last warmup step → lr),
 * then cosine decay from lr (first step after warmup) to minLr (last step), passing (lr+minLr)/2 halfway.
 */
import { describe, expect, it } from 'vitest';
import { evalInterval, isSampleStep, learningRate } from '../../../src/engine/train/schedule';

describe('learningRate', () => {
  // 10 warmup steps (0..9), then 101 decay steps (10..110): progress = (step − 10) / 100.
  const opts = { lr: 1e-3, minLr: 1e-4, warmupSteps: 10, steps: 111 };

  it('warms up linearly: step 0 → lr/warmup, step k → lr·(k+1)/warmup, last warmup step → lr', () => {
    expect(learningRate(0, opts)).toBeCloseTo(1e-4, 15);
    expect(learningRate(1, opts)).toBeCloseTo(2e-4, 15);
    expect(learningRate(4, opts)).toBeCloseTo(5e-4, 15);
    expect(learningRate(9, opts)).toBeCloseTo(1e-3, 15);
  });

  it('starts the cosine at lr right after warmup, passes (lr+minLr)/2 at the midpoint and ends at minLr', () => {
    expect(learningRate(10, opts)).toBeCloseTo(1e-3, 15);
    // progress 0.5: minLr + 0.5·(1 + cos(π/2))·(lr − minLr) = (lr + minLr)/2
    expect(learningRate(60, opts)).toBeCloseTo(5.5e-4, 15);
    // progress 0.25: minLr + 0.5·(1 + √2/2)·(lr − minLr)
    expect(learningRate(35, opts)).toBeCloseTo(1e-4 + 0.5 * (1 + Math.SQRT1_2) * 9e-4, 15);
    // progress 0.75: minLr + 0.5·(1 − √2/2)·(lr − minLr)
    expect(learningRate(85, opts)).toBeCloseTo(1e-4 + 0.5 * (1 - Math.SQRT1_2) * 9e-4, 15);
    expect(learningRate(110, opts)).toBeCloseTo(1e-4, 15);
  });

  it('decays monotonically after warmup and never goes below minLr', () => {
    let previous = Infinity;
    for (let step = 10; step < 111; step++) {
      const lr = learningRate(step, opts);
      expect(lr).toBeLessThanOrEqual(previous);
      expect(lr).toBeGreaterThanOrEqual(1e-4 - 1e-18);
      previous = lr;
    }
  });

  it('without warmup starts at lr on step 0 and reaches minLr on the last step', () => {
    const noWarmup = { lr: 0.01, minLr: 0.001, warmupSteps: 0, steps: 5 };
    // progress = step / 4
    expect(learningRate(0, noWarmup)).toBeCloseTo(0.01, 15);
    expect(learningRate(1, noWarmup)).toBeCloseTo(0.001 + 0.5 * (1 + Math.SQRT1_2) * 0.009, 15);
    expect(learningRate(2, noWarmup)).toBeCloseTo(0.0055, 15);
    expect(learningRate(3, noWarmup)).toBeCloseTo(0.001 + 0.5 * (1 - Math.SQRT1_2) * 0.009, 15);
    expect(learningRate(4, noWarmup)).toBeCloseTo(0.001, 15);
  });

  it('holds lr constant when lr equals minLr', () => {
    const flat = { lr: 3e-4, minLr: 3e-4, warmupSteps: 0, steps: 50 };
    for (const step of [0, 13, 25, 49]) expect(learningRate(step, flat)).toBeCloseTo(3e-4, 15);
  });
});

describe('evalInterval', () => {
  it('keeps an explicit evalEvery, and spreads about 20 val points over any run length when it is 0', () => {
    expect(evalInterval({ evalEvery: 7, steps: 500 })).toBe(7);
    expect(evalInterval({ evalEvery: 0, steps: 500 })).toBe(25);
    expect(evalInterval({ evalEvery: 0, steps: 100_000 })).toBe(5000);
    expect(evalInterval({ evalEvery: 0, steps: 30 })).toBe(2);
    expect(evalInterval({ evalEvery: 0, steps: 5 })).toBe(1);
  });
});

describe('isSampleStep', () => {
  const opts = { sampleEvery: 250, steps: 500, evalInterval: 25 };
  const sampled = (o: typeof opts): number[] => Array.from({ length: o.steps }, (_, i) => i + 1).filter((done) => isSampleStep(done, o));

  it('samples at the first val point, then every sampleEvery, and at the end', () => {
    expect(sampled(opts)).toEqual([25, 250, 500]);
    expect(sampled({ ...opts, sampleEvery: 10 })).toEqual(Array.from({ length: 50 }, (_, i) => 10 * (i + 1)));
    expect(sampled({ ...opts, sampleEvery: 0 })).toEqual([]);
  });
});
