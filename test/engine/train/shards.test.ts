/** How a batch's rows are split over threads for data-parallel training, and how their gradients are reduced. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../../src/engine/rng';
import { reduceShards, splitRows } from '../../../src/engine/train/shards';
import { useWasmBackend } from '../../helpers/backend';

useWasmBackend();

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

describe('reduceShards', () => {
  it('is the row-weighted mean of the shards: gradient and loss, by hand', () => {
    const out = new Float32Array(2);
    const shards = [
      { rows: 2, loss: 1, grads: new Float32Array([4, 8]) },
      { rows: 1, loss: 4, grads: new Float32Array([8, 0]) },
      { rows: 1, loss: 2, grads: new Float32Array([0, -16]) },
    ];
    // (2·[4, 8] + [8, 0] + [0, −16]) / 4 = [4, 0]; loss (2·1 + 4 + 2) / 4 = 2.
    expect(reduceShards(shards, 4, out)).toBe(2);
    expect([...out]).toEqual([4, 0]);
  });

  it('rounds like the trainer did when it alone combined the shards on wasm (same bits, so the same runs)', () => {
    const rng = createRng(7);
    const n = 4096;
    const random = (): Float32Array => Float32Array.from({ length: n }, () => (rng.next() - 0.5) * 10 ** Math.floor(rng.next() * 6 - 3));
    const [g0, g1, g2] = [random(), random(), random()];
    const rows = [2, 2, 1];
    // The combination before replicas: helpers summed in JS, the trainer's rows scaled and added by tfjs ops.
    const flat = new Float32Array(n);
    [g1, g2].forEach((g, k) => {
      for (let i = 0; i < n; i++) flat[i] += (rows[k + 1]! / 5) * g[i]!;
    });
    const before = tf.tidy(() => tf.add(tf.mul(tf.tensor(g0), rows[0]! / 5), tf.tensor(flat)).dataSync());
    const out = new Float32Array(n);
    reduceShards(rows.map((r, k) => ({ rows: r, loss: 0, grads: [g0, g1, g2][k]! })), 5, out);
    expect(out).toEqual(before);
  });
});
