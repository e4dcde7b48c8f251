/** How a batch's rows are split over threads for data-parallel training. */
import { describe, expect, it } from 'vitest';
import { splitRows } from '../../../src/engine/train/shards';

describe('splitRows', () => {
  it('splits as evenly as possible, the first threads taking the extra rows, and always sums to the batch', () => {
    expect(splitRows(32, 1)).toEqual([32]);
    expect(splitRows(32, 2)).toEqual([16, 16]);
    expect(splitRows(6, 4)).toEqual([2, 2, 1, 1]);
    expect(splitRows(5, 5)).toEqual([1, 1, 1, 1, 1]);
    for (let batch = 1; batch <= 40; batch++)
      for (let threads = 1; threads <= Math.min(batch, 16); threads++) {
        const rows = splitRows(batch, threads);
        expect(rows.reduce((a, b) => a + b, 0)).toBe(batch);
        expect(Math.max(...rows) - Math.min(...rows)).toBeLessThanOrEqual(1);
      }
  });

  it('refuses more threads than rows, or a thread count that is not a positive integer', () => {
    expect(() => splitRows(3, 4)).toThrow('cannot split 3 rows over 4 threads');
    expect(() => splitRows(3, 0)).toThrow(/over 0 threads/);
    expect(() => splitRows(3, 1.5)).toThrow(/over 1.5 threads/);
  });
});
