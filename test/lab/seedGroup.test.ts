import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/engine/config';
import { prepareRun } from '../../src/lab/prepare';
import { seedGroupKey, seedRuns, summariseSeeds } from '../../src/lab/seedGroup';

const prepared = prepareRun({ config: { data: 'builtin:copy', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8, steps: 3, seed: 41 }, name: 'tiny' });

describe('seed groups', () => {
  it('keys a group by every setting except the seed', () => {
    const key = seedGroupKey(prepared.config);
    expect(key).toMatch(/^seeds:/);
    expect(seedGroupKey({ ...prepared.config, seed: 7 })).toBe(key);
    expect(seedGroupKey({ ...prepared.config, lr: prepared.config.lr * 2 })).not.toBe(key);
    expect(seedGroupKey({ ...prepared.config, posOptions: { scale: 2 } })).not.toBe(key);
  });

  it('makes k runs on consecutive seeds, named by seed, sharing the group key and the corpus', () => {
    const runs = seedRuns(prepared, 3);
    expect(runs.map((r) => r.config.seed)).toEqual([41, 42, 43]);
    expect(runs.map((r) => r.name)).toEqual(['tiny · seed 41', 'tiny · seed 42', 'tiny · seed 43']);
    expect(new Set(runs.map((r) => r.sweepKey))).toEqual(new Set([seedGroupKey(prepared.config)]));
    expect(runs.every((r) => r.corpus === prepared.corpus)).toBe(true);
    expect(runs.map((r) => ({ ...r.config, seed: 0 }))).toEqual(Array(3).fill({ ...prepared.config, seed: 0 }));
  });

  it('refuses seeds past the valid range before anything trains', () => {
    const top = prepareRun({ config: { ...prepared.config, seed: 2 ** 31 - 2 } });
    expect(seedRuns(top, 2).map((r) => r.config.seed)).toEqual([2 ** 31 - 2, 2 ** 31 - 1]);
    expect(() => seedRuns(top, 3)).toThrow(ConfigError);
  });

  it('summarises the final val losses with mean, std and the 95 % interval, leaving out runs without one', () => {
    // mean 2.2, std 0.2, half-width 4.303·0.2/√3 = 0.49687 (as in stats.test.ts).
    const perSeed = [
      { seed: 1, runId: 1, status: 'completed', finalValLoss: 2.0 },
      { seed: 2, runId: 2, status: 'diverged', finalValLoss: null },
      { seed: 3, runId: 3, status: 'completed', finalValLoss: 2.2 },
      { seed: 4, runId: 4, status: 'completed', finalValLoss: 2.4 },
    ];
    const summary = summariseSeeds('seeds:x', perSeed);
    expect(summary.perSeed).toEqual(perSeed);
    expect(summary.finalValLoss!.n).toBe(3);
    expect(summary.finalValLoss!.mean).toBeCloseTo(2.2, 12);
    expect(summary.finalValLoss!.std).toBeCloseTo(0.2, 12);
    expect(summary.finalValLoss!.low).toBeCloseTo(1.703132, 5);
    expect(summariseSeeds('seeds:x', perSeed.slice(0, 2)).finalValLoss).toBeNull();
  });
});
