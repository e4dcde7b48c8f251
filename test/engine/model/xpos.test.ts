/** xPos: RoPE plus the ζ^((m−n)/B) decay, by hand for one pair, as a function of m − n only, and RoPE again as B → ∞. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { rope } from '../../../src/engine/model/positional/rope';
import type { SchemeContext } from '../../../src/engine/model/positional/types';
import { xpos, xposScales } from '../../../src/engine/model/positional/xpos';
import { createRng } from '../../../src/engine/rng';
import { useWasmBackend } from '../../helpers/backend';
import { gaussian, maxAbsDiff } from '../../helpers/model';

useWasmBackend();

function ctxOf(headDim: number, options: Record<string, number>): SchemeContext {
  return { nEmbd: headDim, nHead: 1, nLayer: 1, blockSize: 8, headDim, options };
}

/** Scores (T, T) of q and k holding the same vectors at every position, after the scheme's rotation. */
function constantScores(scheme: typeof xpos, qVec: number[], kVec: number[], T: number, options: Record<string, number>): Float32Array {
  const hs = qVec.length;
  return tf.tidy(() => {
    const q = tf.tile(tf.tensor4d(qVec, [1, 1, 1, hs]), [1, 1, T, 1]) as tf.Tensor4D;
    const k = tf.tile(tf.tensor4d(kVec, [1, 1, 1, hs]), [1, 1, T, 1]) as tf.Tensor4D;
    const [rq, rk] = scheme.rotate!(q, k, ctxOf(hs, options));
    return tf.matMul(tf.reshape(rq, [T, hs]), tf.reshape(rk, [T, hs]), false, true).dataSync() as Float32Array;
  });
}

describe('xPos', () => {
  it('scales pair i by ζ_i^((t − ⌈T/2⌉)/B), ζ_i = (2i/d + 0.4)/1.4 (hand values)', () => {
    const s = xposScales(3, 4, 1); // hs 4: ζ = [0.4/1.4, 0.9/1.4] = [0.285714, 0.642857]; centre ⌈3/2⌉ = 2, B = 1
    const zeta = [0.4 / 1.4, (0.5 + 0.4) / 1.4];
    expect(Array.from(s.subarray(0, 4))).toEqual([zeta[0]! ** -2, zeta[1]! ** -2, zeta[0]! ** -2, zeta[1]! ** -2].map(Math.fround)); // t = 0
    expect(Array.from(s.subarray(4, 8))).toEqual([zeta[0]! ** -1, zeta[1]! ** -1, zeta[0]! ** -1, zeta[1]! ** -1].map(Math.fround)); // t = 1
    expect(Array.from(s.subarray(8, 12))).toEqual([1, 1, 1, 1]);
  });

  it('gives one pair the score cos(m − n)·ζ^((m − n)/B) (hand value)', () => {
    const B = 4;
    const scores = constantScores(xpos, [1, 0], [1, 0], 8, { base: 10000, scaleBase: B });
    const zeta = 0.4 / 1.4;
    for (const [m, n] of [[5, 2], [7, 0], [3, 3]] as const) expect(scores[m * 8 + n], `m=${m} n=${n}`).toBeCloseTo(Math.cos(m - n) * zeta ** ((m - n) / B), 5);
  });

  it('depends on m − n only, and is RoPE at distance 0 and as B grows without bound', () => {
    const rng = createRng(3);
    const qVec = Array.from({ length: 8 }, () => gaussian(rng));
    const kVec = Array.from({ length: 8 }, () => gaussian(rng));
    const T = 12;
    const scores = constantScores(xpos, qVec, kVec, T, { base: 10000, scaleBase: 6 });
    for (let m = 1; m < T; m++) for (let n = 1; n <= m; n++) expect(scores[m * T + n]).toBeCloseTo(scores[(m - 1) * T + (n - 1)]!, 4);
    const plain = constantScores(rope, qVec, kVec, T, { base: 10000 });
    expect(maxAbsDiff(constantScores(xpos, qVec, kVec, T, { base: 10000, scaleBase: 1e9 }), plain)).toBeLessThan(1e-4);
    expect(maxAbsDiff(scores, plain)).toBeGreaterThan(1e-2);
    // At distance 0 the decay is ζ^0 = 1: the diagonal is RoPE's.
    for (let m = 0; m < T; m++) expect(scores[m * T + m]).toBeCloseTo(plain[m * T + m]!, 4);
  });

  it('shares --rope-base with rope and refuses an odd head size like it', () => {
    expect(xpos.knobs.map((k) => k.flag)).toEqual(['rope-base', 'xpos-scale-base']);
    expect(xpos.checkModel!({ nEmbd: 12, nHead: 4, blockSize: 8 }, { base: 10000, scaleBase: 512 })).toEqual([{ field: 'nEmbd', message: expect.stringContaining('even head size') }]);
  });
});
