/** FIRE: the bias MLP(ψ(i − j)/ψ(max(L, i))) by hand, its [0, 1] input past the threshold, positivity, and learning. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { causalDistanceGrid, fire, FIRE_MLP_WIDTH } from '../../../src/engine/model/positional/fire';
import type { SchemeContext } from '../../../src/engine/model/positional/types';
import { useWasmBackend } from '../../helpers/backend';
import { buildModel } from '../../helpers/model';

useWasmBackend();

const ctx: SchemeContext = { nEmbd: 8, nHead: 2, nLayer: 1, blockSize: 4, headDim: 4, options: {} };

/**
 * A FIRE whose MLP is readable: only hidden unit 0 is used (w1 = 1, b1 = ½), so head h's bias is w2[h]·relu(x + ½)
 * = w2[h]·(x + ½) with x the normalised distance (heads: w2 = 1 and 2); c = 0.1·exp(rawC), L = 4·exp(rawL).
 */
function biasOf(T: number, rawC: number, rawL: number): Float32Array {
  return tf.tidy(() => {
    const [w1, b1, w2] = [new Float32Array(FIRE_MLP_WIDTH), new Float32Array(FIRE_MLP_WIDTH), new Float32Array(FIRE_MLP_WIDTH * 2)];
    [w1[0], b1[0], w2[0], w2[1]] = [1, 0.5, 1, 2];
    const params = {
      'pos.fire_c': tf.tensor1d([rawC]),
      'pos.fire_L': tf.tensor1d([rawL]),
      'pos.fire_w1': tf.tensor2d(w1, [1, FIRE_MLP_WIDTH]),
      'pos.fire_b1': tf.tensor1d(b1),
      'pos.fire_w2': tf.tensor2d(w2, [FIRE_MLP_WIDTH, 2]),
    };
    return fire.logitBias!(T, ctx, params).dataSync() as Float32Array;
  });
}

describe('FIRE', () => {
  it('is f(ψ(i − j)/ψ(max(L, i))) with ψ(x) = log(1 + c·x) (hand values)', () => {
    expect(Array.from(causalDistanceGrid(3))).toEqual([0, 0, 0, 1, 0, 0, 2, 1, 0]);
    const T = 6;
    const bias = biasOf(T, Math.log(2), 0); // c = 0.2, L = 4
    // Query 3 < L: normalised by ψ(4) = ln 1.8; key 0 is 3 back: ln 1.6 / ln 1.8 = 0.799618.
    expect(bias[3 * T + 0]).toBeCloseTo(0.799618 + 0.5, 5);
    expect(bias[T * T + 3 * T + 0]).toBeCloseTo(2 * (0.799618 + 0.5), 5);
    // Query 5 ≥ L: normalised by ψ(5) = ln 2; key 2 is 3 back: ln 1.6 / ln 2 = 0.678072.
    expect(bias[5 * T + 2]).toBeCloseTo(0.678072 + 0.5, 5);
    expect(bias[T * T + 5 * T + 2]).toBeCloseTo(2 * (0.678072 + 0.5), 5);
    // Distance 0 is ψ(0) = 0 whatever the query: the bias is the MLP at 0.
    for (let i = 0; i < T; i++) expect(bias[T * T + i * T + i]).toBeCloseTo(1, 6);
  });

  it('maps every distance into [0, 1]: past the threshold, the first key is always at 1', () => {
    const T = 12;
    const bias = biasOf(T, 0.7, 0); // L = 4: queries 4…11 see key 0 at ψ(i)/ψ(i) = 1
    const x = (i: number, j: number): number => bias[i * T + j]! - 0.5; // head 0 is x + ½
    for (let i = 4; i < T; i++) expect(x(i, 0), `query ${i}`).toBeCloseTo(1, 5);
    for (let i = 0; i < T; i++) for (let j = 0; j <= i; j++) {
      expect(x(i, j)).toBeGreaterThanOrEqual(0);
      expect(x(i, j)).toBeLessThanOrEqual(1 + 1e-6);
    }
  });

  it('keeps c and L positive for any raw values: the bias stays finite', () => {
    for (const [rawC, rawL] of [[-20, -20], [0, 0], [5, 3]] as const) {
      const bias = biasOf(20, rawC, rawL);
      expect(bias.every(Number.isFinite), `rawC=${rawC} rawL=${rawL}`).toBe(true);
    }
  });

  it('learns: the loss has a gradient for c, L and the MLP', () => {
    const model = buildModel({ pos: 'fire', nHead: 2, nEmbd: 8, blockSize: 6 }, 4);
    const idx = tf.tensor2d([[1, 2, 3, 4, 5, 6]], [1, 6], 'int32');
    const targets = tf.tensor2d([[2, 3, 4, 5, 6, 7]], [1, 6], 'int32');
    const names = ['pos.fire_c', 'pos.fire_L', 'pos.fire_w1', 'pos.fire_b1', 'pos.fire_w2'];
    const vars = names.map((n) => model.params.get(n)!);
    const { value, grads } = tf.variableGrads(() => model.loss(idx, targets), vars);
    vars.forEach((v, i) => expect(Math.max(...Array.from(grads[v.name]!.dataSync(), Math.abs)), names[i]).toBeGreaterThan(1e-7));
    tf.dispose([value, idx, targets, ...Object.values(grads)]);
    model.dispose();
  });
});
