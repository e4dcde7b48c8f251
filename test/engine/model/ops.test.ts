/**
 * The tensor ops the model is built from (src/engine/model/ops.ts), by hand values and against tfjs's own gradients:
 * the norms, GELU, cross-entropy, one-hot, the 2-D matmul and linear layer, and the gather/scatter adjoint pair the
 * relative schemes are built on. They run on wasm, so the fast paths (and their kernels) are the ones checked; the
 * parity suite runs the model with them switched off too.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { crossEntropy, gatherRelative, gelu, layerNorm, linear, matMul2d, NORM_EPS, oneHotFloat, rmsNorm, scatterRelative } from '../../../src/engine/model/ops';
import { createRng } from '../../../src/engine/rng';
import { useWasmBackend } from '../../helpers/backend';
import { maxAbsDiff, randomArray } from '../../helpers/model';

useWasmBackend();

describe('ops', () => {
  const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());

  it('layerNorm: hand values with biased variance and eps 1e-5', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      // mean 2, biased variance 1: (x − 2)/sqrt(1 + 1e-5)·g + b
      const out = values(layerNorm(tf.tensor2d([[1, 3]]), tf.tensor1d([2, 3]), tf.tensor1d([1, -1])));
      const s = 1 / Math.sqrt(1 + 1e-5);
      expect(out[0]).toBeCloseTo(-2 * s + 1, 6);
      expect(out[1]).toBeCloseTo(3 * s - 1, 6);
      // [1, 2, 3, 4]: mean 2.5, variance 1.25 (not the unbiased 5/3).
      const row2 = values(layerNorm(tf.tensor1d([1, 2, 3, 4]), tf.ones([4]), tf.zeros([4])));
      const d = Math.sqrt(1.25 + NORM_EPS);
      [-1.5, -0.5, 0.5, 1.5].forEach((x, i) => expect(row2[i]).toBeCloseTo(x / d, 6));
      // Normalises over the last axis only, row by row.
      const batched = values(layerNorm(tf.tensor3d([[[1, 3], [10, 30]]]), tf.ones([2]), tf.zeros([2])));
      expect(batched[2]).toBeCloseTo(-10 / Math.sqrt(100 + NORM_EPS), 6);
      // A constant row stays finite (eps): all zeros.
      expect(values(layerNorm(tf.tensor1d([5, 5, 5]), tf.ones([3]), tf.zeros([3])))).toEqual([0, 0, 0]);
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rmsNorm: x / sqrt(mean(x²) + eps) · g, no centring', () => {
    tf.tidy(() => {
      const out = values(rmsNorm(tf.tensor2d([[3, 4], [1, 1]]), tf.tensor1d([1, 2])));
      const r = Math.sqrt(12.5 + 1e-5);
      expect(out[0]).toBeCloseTo(3 / r, 6);
      expect(out[1]).toBeCloseTo(8 / r, 6);
      expect(out[2]).toBeCloseTo(1 / Math.sqrt(1 + 1e-5), 6);
      expect(out[3]).toBeCloseTo(2 / Math.sqrt(1 + 1e-5), 6);
    });
  });

  it('gelu: tanh approximation hand values', () => {
    tf.tidy(() => {
      const out = values(gelu(tf.tensor1d([0, 1, -1, 2, 10, -10])));
      const ref = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
      expect(out[0]).toBe(0);
      expect(out[1]).toBeCloseTo(0.8411920, 6);
      expect(out[2]).toBeCloseTo(-0.1588080, 6);
      expect(out[3]).toBeCloseTo(ref(2), 6); // 1.9545977
      expect(out[3]).toBeCloseTo(1.9545977, 6);
      expect(out[4]).toBeCloseTo(10, 5);
      expect(Math.abs(out[5])).toBeLessThan(1e-6);
      // Not the erf form: erf-GELU(1) = 0.8413447.
      expect(Math.abs(out[1] - 0.8413447)).toBeGreaterThan(1e-4);
    });
  });

  it('crossEntropy: mean of −log softmax at the target', () => {
    tf.tidy(() => {
      // Row 1: uniform over 3 → ln 3. Row 2: probabilities 1/6, 2/6, 3/6, target 2 → ln 2.
      const loss = crossEntropy(tf.tensor2d([[0, 0, 0], [0, Math.log(2), Math.log(3)]]), tf.tensor1d([0, 2], 'int32'));
      expect(loss.shape).toEqual([]);
      expect(loss.dataSync()[0]).toBeCloseTo((Math.log(3) + Math.log(2)) / 2, 6);
      const one = crossEntropy(tf.tensor2d([[0, Math.log(2), Math.log(3)]]), tf.tensor1d([0], 'int32'));
      expect(one.dataSync()[0]).toBeCloseTo(Math.log(6), 6);
      // Large logits stay finite.
      const big = crossEntropy(tf.tensor2d([[1000, 0]]), tf.tensor1d([1], 'int32'));
      expect(big.dataSync()[0]).toBeCloseTo(1000, 2);
    });
  });

  it('oneHotFloat gives float32 zeros and ones', () => {
    tf.tidy(() => {
      const t = oneHotFloat(tf.tensor1d([2, 0], 'int32'), 3);
      expect(t.dtype).toBe('float32');
      expect(values(t)).toEqual([0, 0, 1, 1, 0, 0]);
    });
  });

  it('matMul2d and linear: hand values', () => {
    tf.tidy(() => {
      const a = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
      const b = tf.tensor2d([[1, 0], [0, 1], [2, -1]]);
      expect(values(matMul2d(a, b))).toEqual([7, -1, 16, -1]);
      const y = linear(tf.tensor3d([[[1, 2, 3]], [[4, 5, 6]]]), b, tf.tensor1d([10, 20]));
      expect(y.shape).toEqual([2, 1, 2]);
      expect(values(y)).toEqual([17, 19, 26, 19]);
    });
  });

  it('matMul2d custom gradient equals tf.matMul’s gradient', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const rng = createRng(3);
      const rand = (r: number, c: number) => tf.tensor2d(Array.from({ length: r * c }, () => rng.next() * 2 - 1), [r, c]);
      const a = rand(5, 7);
      const b = rand(7, 3);
      const weight = rand(5, 3);
      const f = (mm: (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor2D) => (x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(tf.mul(tf.sin(mm(x as tf.Tensor2D, y as tf.Tensor2D)), weight));
      const [gaCustom, gbCustom] = tf.grads(f(matMul2d))([a, b]);
      const [gaRef, gbRef] = tf.grads(f((x, y) => tf.matMul(x, y)))([a, b]);
      expect(gaCustom.shape).toEqual([5, 7]);
      expect(gbCustom.shape).toEqual([7, 3]);
      expect(maxAbsDiff(gaCustom.dataSync(), gaRef.dataSync())).toBeLessThan(1e-5);
      expect(maxAbsDiff(gbCustom.dataSync(), gbRef.dataSync())).toBeLessThan(1e-5);
      expect(Math.max(...values(gaRef).map(Math.abs))).toBeGreaterThan(1e-2);
      // Hand check: d/dA Σ (A·B)∘W = W·Bᵀ.
      const [gLinear] = tf.grads((x: tf.Tensor) => tf.sum(tf.mul(matMul2d(x as tf.Tensor2D, b), weight)))([a]);
      expect(maxAbsDiff(gLinear.dataSync(), tf.matMul(weight, b, false, true).dataSync())).toBeLessThan(1e-6);
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('gatherRelative / scatterRelative', () => {
  const N = 3;
  const T = 7;
  const R = 5;

  function randomIndex(seed: number): Int32Array {
    const rng = createRng(seed);
    return Int32Array.from({ length: T * T }, () => Math.floor(rng.next() * R));
  }

  for (const seed of [1, 2, 3]) {
    it(`are adjoint: <gather(x), y> = <x, scatter(y)> (seed ${seed})`, () => {
      const index = randomIndex(seed);
      const xs = randomArray(N * T * R, seed + 10);
      const ys = randomArray(N * T * T, seed + 20);
      const [lhs, rhs, gathered] = tf.tidy(() => {
        const x = tf.tensor3d(xs, [N, T, R]);
        const y = tf.tensor3d(ys, [N, T, T]);
        const g = gatherRelative(x, index);
        const s = scatterRelative(y, index, R);
        expect(g.shape).toEqual([N, T, T]);
        expect(s.shape).toEqual([N, T, R]);
        return [tf.sum(tf.mul(g, y)).dataSync()[0], tf.sum(tf.mul(x, s)).dataSync()[0], g.dataSync()];
      });
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * Math.max(1, Math.abs(lhs)));
      // And gather really reads x[n, i, index(i, j)].
      for (const [n, i, j] of [[0, 0, 0], [1, 3, 6], [2, 6, 2]]) expect(gathered[(n * T + i) * T + j]).toBe(xs[(n * T + i) * R + index[i * T + j]]);
    });
  }

  it('the gradient of sum(gather(x) · w) with respect to x is scatter(w)', () => {
    const index = randomIndex(7);
    const xs = randomArray(N * T * R, 8);
    const ws = randomArray(N * T * T, 9);
    const [grad, scattered] = tf.tidy(() => {
      const w = tf.tensor3d(ws, [N, T, T]);
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(gatherRelative(x as tf.Tensor3D, index), w)))(tf.tensor3d(xs, [N, T, R]));
      return [g.dataSync(), scatterRelative(w, index, R).dataSync()];
    });
    expect(maxAbsDiff(grad, scattered)).toBeLessThan(1e-5);
  });
});
