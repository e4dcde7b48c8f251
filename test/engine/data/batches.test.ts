import { describe, expect, it } from 'vitest';
import { createRng } from '../../../src/engine/rng';
import { BatchSampler, DataError, sequentialWindows } from '../../../src/engine/data';

/** Token i has value i, so a row's values reveal its offset. */
const range = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

describe('BatchSampler', () => {
  it('returns row-major x and y, with y being x shifted by one token', () => {
    const sampler = new BatchSampler(range(1000), 8, 4, createRng(1));
    const { x, y } = sampler.next();
    expect(x.length).toBe(32);
    expect(y.length).toBe(32);
    for (let row = 0; row < 4; row++) {
      for (let t = 0; t < 8; t++) {
        const i = row * 8 + t;
        expect(x[i]).toBe(x[row * 8]! + t);
        expect(y[i]).toBe(x[i]! + 1);
      }
    }
  });

  it('draws every offset whose target fits, and none beyond', () => {
    const data = range(20);
    const sampler = new BatchSampler(data, 4, 16, createRng(2));
    const offsets = new Set<number>();
    for (let step = 0; step < 100; step++) {
      const { x } = sampler.next();
      for (let row = 0; row < 16; row++) offsets.add(x[row * 4]!);
    }
    // Offsets 0..15: the last window's target ends on token 19.
    expect([...offsets].sort((a, b) => a - b)).toEqual([...range(16)]);
  });

  it('uses the only window when the data is exactly block + 1 tokens', () => {
    const { x, y } = new BatchSampler(range(5), 4, 2, createRng(3)).next();
    expect([...x]).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    expect([...y]).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
  });

  it('is deterministic for a seed and differs for another', () => {
    const batches = (seed: number) => {
      const sampler = new BatchSampler(range(10_000), 16, 8, createRng(seed));
      return [sampler.next(), sampler.next()].map(({ x }) => [...x]);
    };
    expect(batches(7)).toEqual(batches(7));
    expect(batches(8)).not.toEqual(batches(7));
  });

  it('rejects data too short for one window and bad sizes', () => {
    const err = (() => {
      try {
        new BatchSampler(range(4), 4, 1, createRng(1));
      } catch (e) {
        return e as DataError;
      }
    })();
    expect(err).toBeInstanceOf(DataError);
    expect(err!.code).toBe('too-short');
    expect(err!.message).toContain('needs 5');
    expect(() => new BatchSampler(range(10), 0, 1, createRng(1))).toThrow(/block size/);
    expect(() => new BatchSampler(range(10), 4, 1.5, createRng(1))).toThrow(/batch size/);
  });
});

describe('sequentialWindows', () => {
  it('cuts non-overlapping windows of length + 1 from the start', () => {
    const windows = sequentialWindows(range(23), 4, 100);
    expect(windows.map((w) => [...w])).toEqual([
      [0, 1, 2, 3, 4],
      [5, 6, 7, 8, 9],
      [10, 11, 12, 13, 14],
      [15, 16, 17, 18, 19],
    ]);
  });

  it('stops at maxWindows', () => {
    expect(sequentialWindows(range(1000), 9, 3).map((w) => w[0])).toEqual([0, 10, 20]);
  });

  it('refuses data too short for one window', () => {
    expect(() => sequentialWindows(range(4), 4, 10)).toThrow(/4 tokens cannot fill one evaluation window of length 4/);
  });
});
