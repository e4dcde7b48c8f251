/** KERPLE-log: the bias −r1·log(1 + r2·|i − j|) by hand, positive r1 and r2 from any raw value, and trainable. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distanceGrid, kerple } from '../../../src/engine/model/positional/kerple';
import type { SchemeContext } from '../../../src/engine/model/positional/types';
import { useWasmBackend } from '../../helpers/backend';
import { buildModel } from '../../helpers/model';

useWasmBackend();

const ctx: SchemeContext = { nEmbd: 8, nHead: 2, nLayer: 1, blockSize: 4, headDim: 4, options: {} };
const softplus = (x: number): number => Math.log1p(Math.exp(x));

function biasOf(r1: number[], r2: number[], T: number): Float32Array {
  return tf.tidy(() => kerple.logitBias!(T, ctx, { 'pos.kerple_r1': tf.tensor1d(r1), 'pos.kerple_r2': tf.tensor1d(r2) }).dataSync() as Float32Array);
}

describe('KERPLE-log', () => {
  it('is −softplus(r1)·log(1 + softplus(r2)·|i − j|) per head (hand values)', () => {
    expect(Array.from(distanceGrid(3))).toEqual([0, 1, 2, 1, 0, 1, 2, 1, 0]);
    const T = 5;
    const bias = biasOf([0, 1.5], [-2, 0.3], T);
    // head 0: r1 = ln 2 = 0.693147, r2 = softplus(−2) = 0.126928; at distance 3: −0.693147·ln(1.380784) = −0.223645.
    expect(bias[0 * T * T + 4 * T + 1]).toBeCloseTo(-Math.LN2 * Math.log(1 + 3 * softplus(-2)), 5);
    expect(bias[0 * T * T + 4 * T + 1]).toBeCloseTo(-0.223645, 5);
    expect(bias[1 * T * T + 3 * T + 0]).toBeCloseTo(-softplus(1.5) * Math.log(1 + 3 * softplus(0.3)), 5);
    for (let h = 0; h < 2; h++) for (let i = 0; i < T; i++) expect(bias[h * T * T + i * T + i]).toBe(-0); // no penalty on itself
  });

  it('penalises distance more the farther back, for any raw parameters (r1, r2 > 0)', () => {
    const T = 6;
    for (const [r1, r2] of [[-5, -5], [0, 0], [3, -1]] as const) {
      const bias = biasOf([r1, r1], [r2, r2], T);
      const lastRow = Array.from(bias.subarray((T - 1) * T, T * T)); // query 5 against keys 0…5
      for (let j = 1; j < T; j++) expect(lastRow[j]!, `r1=${r1} r2=${r2} key ${j}`).toBeGreaterThan(lastRow[j - 1]!);
    }
  });

  it('learns: the loss has a gradient for both of its parameters in every head', () => {
    const model = buildModel({ pos: 'kerple', nHead: 2, nEmbd: 8, blockSize: 6 }, 4);
    const idx = tf.tensor2d([[1, 2, 3, 4, 5, 6]], [1, 6], 'int32');
    const targets = tf.tensor2d([[2, 3, 4, 5, 6, 7]], [1, 6], 'int32');
    const vars = ['pos.kerple_r1', 'pos.kerple_r2'].map((n) => model.params.get(n)!);
    const { value, grads } = tf.variableGrads(() => model.loss(idx, targets), vars);
    for (const v of vars) for (const g of grads[v.name]!.dataSync()) expect(Math.abs(g), v.name).toBeGreaterThan(1e-7);
    tf.dispose([value, idx, targets, ...Object.values(grads)]);
    model.dispose();
  });
});
