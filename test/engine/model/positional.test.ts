/**
 * The positional schemes on their own: RoPE's relative-offset property, ALiBi slopes and biases, T5 buckets
 * and where the bias enters attention, the fixed input tables, learned's range limit, the registry contract,
 * and the permutation (in)equivariance each scheme gives an unmasked model.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig, validateConfig } from '../../../src/engine/config';
import { GPT } from '../../../src/engine/model/gpt';
import { alibi, alibiBias, alibiSlopes } from '../../../src/engine/model/positional/alibi';
import { binary, binaryTable } from '../../../src/engine/model/positional/binary';
import { integer, integerTable } from '../../../src/engine/model/positional/integer';
import { learned } from '../../../src/engine/model/positional/learned';
import { getScheme, requireScheme, resolveSchemeOptions, SCHEME_NAMES, SCHEMES } from '../../../src/engine/model/positional/registry';
import { rope, ropeAngles, ropeFrequencies } from '../../../src/engine/model/positional/rope';
import { sinusoidal, sinusoidalTable } from '../../../src/engine/model/positional/sinusoidal';
import { t5, t5Bucket, t5BucketGrid } from '../../../src/engine/model/positional/t5';
import { PositionRangeError, type SchemeContext } from '../../../src/engine/model/positional/types';
import { createRng } from '../../../src/engine/rng';
import { useWasmBackend } from '../../helpers/backend';
import { parityFixture } from '../../helpers/fixtures';
import { buildModel, gaussian, logitsOf, maxAbsDiff, row, tinyConfig } from '../../helpers/model';

useWasmBackend();

function ctxOf(nEmbd: number, nHead: number, options: Record<string, number> = {}, blockSize = 16, nLayer = 1): SchemeContext {
  return { nEmbd, nHead, nLayer, blockSize, headDim: nEmbd / nHead, options };
}

/** The eight core schemes this file covers in depth; the registry may list more after them. */
const CORE = ['none', 'integer', 'binary', 'sinusoidal', 'learned', 'rope', 't5', 'alibi'];

function randomVector(n: number, seed: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => gaussian(rng));
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** Softmax of a plain array, in float64. */
function softmax(xs: number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

// ---------------------------------------------------------------------------------------------------------------
describe('RoPE', () => {
  const T = 64;
  const hs = 8;

  /** q and k (1, 1, T, hs) holding the same vector at every position, rotated; returns the rotated arrays. */
  function rotateConstant(qVec: number[], kVec: number[], base = 10000): { q: Float32Array; k: Float32Array; scores: Float32Array } {
    return tf.tidy(() => {
      const q = tf.tile(tf.tensor4d(qVec, [1, 1, 1, hs]), [1, 1, T, 1]) as tf.Tensor4D;
      const k = tf.tile(tf.tensor4d(kVec, [1, 1, 1, hs]), [1, 1, T, 1]) as tf.Tensor4D;
      const [rq, rk] = rope.rotate!(q, k, ctxOf(hs * 2, 2, { base }));
      const scores = tf.matMul(rq, rk, false, true);
      return { q: rq.dataSync() as Float32Array, k: rk.dataSync() as Float32Array, scores: scores.dataSync() as Float32Array };
    });
  }

  it('makes <R_m q, R_n k> depend only on the offset n − m', () => {
    const before = tf.memory().numTensors;
    const qVec = randomVector(hs, 11);
    const kVec = randomVector(hs, 12);
    const { scores } = rotateConstant(qVec, kVec);
    expect(tf.memory().numTensors).toBe(before);
    const S = (m: number, n: number): number => scores[m * T + n];
    const pairs: [number, number][] = [
      [0, 0],
      [0, 1],
      [3, 0],
      [5, 17],
      [20, 2],
      [1, 40],
    ];
    let checked = 0;
    for (const [m, n] of pairs) {
      for (const s of [1, 7, 13, 22]) {
        if (m + s >= T || n + s >= T) continue;
        expect(Math.abs(S(m + s, n + s) - S(m, n)), `m=${m} n=${n} s=${s}`).toBeLessThan(2e-4);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(15);
    // …and the score really varies with the offset (otherwise the property above would be vacuous).
    expect(Math.abs(S(0, 1) - S(0, 5))).toBeGreaterThan(1e-2);
  });

  it('gives the closed-form score Σ_i (q1k1 + q2k2)·cos(dθ_i) + (q2k1 − q1k2)·sin(dθ_i), θ_i = base^(−2i/hs)', () => {
    const qVec = randomVector(hs, 21);
    const kVec = randomVector(hs, 22);
    const { scores } = rotateConstant(qVec, kVec);
    const half = hs / 2;
    for (const [m, n] of [
      [0, 0],
      [2, 9],
      [30, 4],
      [63, 0],
    ]) {
      const d = n - m;
      let expected = 0;
      for (let i = 0; i < half; i++) {
        const theta = 10000 ** ((-2 * i) / hs);
        const [q1, q2, k1, k2] = [qVec[i], qVec[i + half], kVec[i], kVec[i + half]];
        expected += (q1 * k1 + q2 * k2) * Math.cos(d * theta) + (q2 * k1 - q1 * k2) * Math.sin(d * theta);
      }
      expect(Math.abs(scores[m * T + n] - expected), `m=${m} n=${n}`).toBeLessThan(2e-4);
    }
  });

  it('preserves the norm of every (position, head) vector and leaves position 0 unchanged', () => {
    const before = tf.memory().numTensors;
    const B = 2;
    const nh = 3;
    const Tq = 10;
    const size = B * nh * Tq * hs;
    const qData = Float32Array.from(randomVector(size, 31));
    const kData = Float32Array.from(randomVector(size, 32));
    const [rq, rk] = tf.tidy(() => {
      const [a, b] = rope.rotate!(tf.tensor4d(qData, [B, nh, Tq, hs]), tf.tensor4d(kData, [B, nh, Tq, hs]), ctxOf(nh * hs, nh, { base: 10000 }));
      return [a.dataSync() as Float32Array, b.dataSync() as Float32Array];
    });
    expect(tf.memory().numTensors).toBe(before);
    for (const [input, output] of [
      [qData, rq],
      [kData, rk],
    ] as const) {
      for (let v = 0; v < B * nh * Tq; v++) {
        const x = input.subarray(v * hs, (v + 1) * hs);
        const y = output.subarray(v * hs, (v + 1) * hs);
        expect(Math.abs(Math.sqrt(dot(y, y)) - Math.sqrt(dot(x, x)))).toBeLessThan(1e-5 * Math.sqrt(dot(x, x)) + 1e-6);
        if (v % Tq === 0) expect(maxAbsDiff(y, x)).toBeLessThan(1e-7); // t = 0: cos 1, sin 0
        else expect(maxAbsDiff(y, x)).toBeGreaterThan(1e-3); // every later position moves (pair 0 turns by t radians)
      }
    }
  });

  it('rotates pair 0 by exactly t radians at position t (hand values)', () => {
    const qVec = [1, 0, 0, 0, 0, 0, 0, 0]; // unit vector on dimension 0, paired with dimension 4
    const { q } = rotateConstant(qVec, qVec);
    for (const t of [1, 2, 5]) {
      const v = q.subarray(t * hs, (t + 1) * hs);
      expect(v[0]).toBeCloseTo(Math.cos(t), 6);
      expect(v[4]).toBeCloseTo(Math.sin(t), 6);
      for (const d of [1, 2, 3, 5, 6, 7]) expect(v[d]).toBe(0);
    }
    // ropeAngles itself: pair i = 1 at t = 3 has angle 3·10000^(−2/8), on dims 1 and 1 + 4.
    const { cos, sin } = ropeAngles(4, ropeFrequencies(8, { base: 10000 }).inverseFrequencies);
    expect(cos[3 * 8 + 1]).toBeCloseTo(Math.cos(3 / 10), 6);
    expect(sin[3 * 8 + 5]).toBeCloseTo(Math.sin(3 / 10), 6);
  });

  it('depends on the base knob', () => {
    const qVec = randomVector(hs, 41);
    const a = rotateConstant(qVec, qVec, 10000).q;
    const b = rotateConstant(qVec, qVec, 100).q;
    expect(maxAbsDiff(a.subarray(0, hs), b.subarray(0, hs))).toBe(0); // position 0 never rotates
    expect(maxAbsDiff(a.subarray(5 * hs, 6 * hs), b.subarray(5 * hs, 6 * hs))).toBeGreaterThan(1e-2);
  });

  it('rejects an odd head size through checkModel and config validation', () => {
    expect(rope.checkModel!({ nEmbd: 12, nHead: 4, blockSize: 8 }, { base: 10000 })).toEqual([{ field: 'nEmbd', message: expect.stringContaining('even head size') }]);
    expect(rope.checkModel!({ nEmbd: 12, nHead: 3, blockSize: 8 }, { base: 10000 })).toEqual([]);
    expect(rope.checkModel!({ nEmbd: 48, nHead: 3, blockSize: 8 }, { base: 10000 })).toEqual([]);
    expect(validateConfig({ ...resolveConfig(), pos: 'rope', nEmbd: 12, nHead: 4 }).map((p) => p.field)).toEqual(['nEmbd']);
    expect(() => resolveConfig({ pos: 'rope', nEmbd: 15, nHead: 3 })).toThrow(ConfigError);
    expect(() => resolveConfig({ pos: 'learned', nEmbd: 15, nHead: 3 })).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('ALiBi', () => {
  const { tables } = parityFixture();

  it('slopes match the official get_slopes for 1…12 heads (fixture, stored to 9 significant digits)', () => {
    for (let n = 1; n <= 12; n++) {
      const expected = tables.alibiSlopes[String(n)];
      const actual = alibiSlopes(n);
      expect(actual.length, `n=${n}`).toBe(n);
      for (let h = 0; h < n; h++) expect(Math.abs(actual[h] - expected[h]), `n=${n} h=${h}`).toBeLessThanOrEqual(5e-9 * expected[h]);
    }
  });

  it('slopes equal the closed form to 1e-12: 2^(−8(h+1)/p) for the p = 2^⌊log2 n⌋ heads, then 2^(−4(2k+1)/p)', () => {
    for (let n = 1; n <= 12; n++) {
      const p = 2 ** Math.floor(Math.log2(n));
      const expected = [
        ...Array.from({ length: p }, (_, h) => 2 ** ((-8 * (h + 1)) / p)),
        ...Array.from({ length: n - p }, (_, k) => 2 ** ((-4 * (2 * k + 1)) / p)),
      ];
      const actual = alibiSlopes(n);
      for (let h = 0; h < n; h++) expect(Math.abs(actual[h] - expected[h]), `n=${n} h=${h}`).toBeLessThan(1e-12);
    }
  });

  it('8 heads have slopes 1/2 … 1/256 exactly; 1 head has 1/256; 6 heads interleave', () => {
    expect(alibiSlopes(8)).toEqual([1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 32, 1 / 64, 1 / 128, 1 / 256]);
    expect(alibiSlopes(1)).toEqual([1 / 256]);
    expect(alibiSlopes(4)).toEqual([1 / 4, 1 / 16, 1 / 64, 1 / 256]);
    // 6 = 4 + the even-indexed slopes of 8 heads: 1/2, 1/8.
    expect(alibiSlopes(6)).toEqual([1 / 4, 1 / 16, 1 / 64, 1 / 256, 1 / 2, 1 / 8]);
  });

  it.each([
    [5, 8],
    [100, 8],
    [5, 3],
    [100, 6],
  ])('bias at T=%i with %i heads is −m_h·(i − j)', (T, nh) => {
    const slopes = alibiSlopes(nh);
    const bias = alibiBias(T, nh);
    expect(bias.length).toBe(nh * T * T);
    const rng = createRng(T * 31 + nh);
    const spots: [number, number, number][] = [
      [0, 0, 0],
      [nh - 1, T - 1, 0],
      [nh - 1, 0, T - 1],
      [0, T - 1, T - 1],
    ];
    for (let s = 0; s < 40; s++) spots.push([rng.int(nh), rng.int(T), rng.int(T)]);
    for (const [h, i, j] of spots) {
      const expected = -slopes[h] * (i - j);
      expect(Math.abs(bias[(h * T + i) * T + j] - expected), `h=${h} i=${i} j=${j}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expected)));
    }
    // Hand values: 8 heads, head 0 has slope 1/2, head 7 has 1/256.
    if (nh === 8) {
      expect(bias[(0 * T + 3) * T + 1]).toBe(-1); // −(1/2)·2
      expect(bias[(7 * T + 4) * T + 0]).toBe(-4 / 256);
      expect(bias[(0 * T + 1) * T + 3]).toBe(1); // a future key gets a bonus (masked anyway)
    }
  });

  it('logitBias returns the same (nh, T, T) tensor', () => {
    const before = tf.memory().numTensors;
    const values = tf.tidy(() => {
      const t = alibi.logitBias!(7, ctxOf(12, 3), {});
      expect(t.shape).toEqual([3, 7, 7]);
      return t.dataSync();
    });
    expect(maxAbsDiff(values, alibiBias(7, 3))).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('T5 relative bias', () => {
  const { tables } = parityFixture();

  it.each(tables.t5Buckets.map((t) => [t.numBuckets, t.maxDistance, t] as const))(
    'buckets (%i, max distance %i) match T5 for n = 0…300',
    (buckets, maxDistance, table) => {
      expect(table.buckets.length).toBe(301);
      const mismatches: string[] = [];
      for (let n = 0; n <= 300; n++) {
        const actual = t5Bucket(n, buckets, maxDistance);
        if (actual !== table.buckets[n]) mismatches.push(`n=${n}: ${actual} vs ${table.buckets[n]}`);
      }
      expect(mismatches).toEqual([]);
    },
  );

  // First distance of each log-spaced bucket (maxExact … buckets−1), from T5's _relative_position_bucket
  // (bidirectional=False) run in PyTorch 1.13 for n = 0…1199: a wider sweep than the fixture's two settings.
  const TORCH_LOG_STARTS: [number, number, number[]][] = [
    [16, 64, [8, 11, 14, 18, 23, 30, 39, 50]],
    [10, 33, [5, 8, 11, 16, 23]],
    [5, 9, [2, 4, 6]],
    [24, 100, [12, 15, 18, 21, 25, 30, 35, 42, 50, 59, 71, 84]],
    [64, 1000, [32, 36, 40, 45, 50, 55, 62, 68, 76, 85, 94, 105, 117, 130, 145, 161, 179, 200, 222, 248, 276, 307, 342, 380, 423, 471, 525, 585, 651, 725, 807, 899]],
    [100, 500, [50, 53, 55, 58, 61, 63, 66, 70, 73, 76, 80, 83, 87, 91, 96, 100, 105, 110, 115, 120, 126, 132, 138, 145, 151, 159, 166, 174, 182, 191, 200, 209, 219, 229, 240, 251, 263, 275, 288, 302, 316, 331, 346, 363, 380, 398, 416, 436, 457, 478]],
  ];

  it.each(TORCH_LOG_STARTS)('buckets (%i, max distance %i) match PyTorch T5 for n = 0…1199', (buckets, maxDistance, starts) => {
    const maxExact = Math.floor(buckets / 2);
    expect(starts.length).toBe(buckets - maxExact);
    const mismatches: string[] = [];
    for (let n = 0; n < 1200; n++) {
      const expected = n < maxExact ? n : maxExact + starts.filter((s) => s <= n).length - 1;
      const actual = t5Bucket(n, buckets, maxDistance);
      if (actual !== expected) mismatches.push(`n=${n}: ${actual} vs ${expected}`);
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  it('bucket hand values: exact below buckets/2, last bucket from maxDistance on', () => {
    for (let n = 0; n < 16; n++) expect(t5Bucket(n, 32, 128)).toBe(n);
    expect(t5Bucket(128, 32, 128)).toBe(31);
    expect(t5Bucket(10_000, 32, 128)).toBe(31);
    // log_8(n/16)·16 crosses 15 at n = 16·8^(15/16) ≈ 112.2.
    expect(t5Bucket(112, 32, 128)).toBe(30);
    expect(t5Bucket(113, 32, 128)).toBe(31);
    // log_8(n/16)·16 crosses 1 at n = 16·8^(1/16) ≈ 18.1: 16, 17, 18 share bucket 16.
    expect([16, 17, 18, 19].map((n) => t5Bucket(n, 32, 128))).toEqual([16, 16, 16, 17]);
    // (8, 16): exact 0..3; n = 4 → 4 + trunc(log(1)/log(4)·4) = 4; n = 8 → 4 + trunc(0.5·4) = 6; n = 16 → 7.
    expect([4, 8, 16].map((n) => t5Bucket(n, 8, 16))).toEqual([4, 6, 7]);
  });

  const saneBuckets = (buckets: number, maxDistance: number): string[] => {
    const problems: string[] = [];
    let previous = 0;
    for (let n = 0; n <= 300; n++) {
      const b = t5Bucket(n, buckets, maxDistance);
      if (!Number.isInteger(b) || b < 0 || b >= buckets) problems.push(`n=${n}: bucket ${b} outside 0…${buckets - 1}`);
      else if (b < previous) problems.push(`n=${n}: bucket ${b} after ${previous} (distance grew, bucket shrank)`);
      else previous = b;
    }
    return problems.slice(0, 5);
  };

  it.each([
    [32, 17],
    [32, 128],
    [8, 5],
    [3, 2],
    [2, 2],
  ])('valid options (%i buckets, max distance %i) are accepted and give buckets in range that never decrease', (buckets, maxDistance) => {
    expect(validateConfig({ ...resolveConfig(), pos: 't5', posOptions: { buckets, maxDistance } })).toEqual([]);
    expect(saneBuckets(buckets, maxDistance)).toEqual([]);
  });

  // With maxDistance ≤ buckets/2 the log-spaced branch would divide by log(maxDistance/maxExact) ≤ 0: (32, 16) put
  // distance 16 in bucket NaN and (32, 8) gave negative buckets. The t5 scheme's checkModel rejects such knobs.
  it.each([
    [32, 16],
    [32, 8],
    [8, 4],
    [4, 2],
  ])('options (%i buckets, max distance %i) are rejected by validateConfig, naming the knob', (buckets, maxDistance) => {
    const problems = validateConfig({ ...resolveConfig(), pos: 't5', posOptions: { buckets, maxDistance } });
    expect(problems).toEqual([expect.objectContaining({ field: 'posOptions.maxDistance', flag: 't5-max-distance', message: expect.stringMatching(/must exceed half the buckets/) })]);
  });

  it('the grid puts future keys in bucket 0 and past keys in bucket(i − j)', () => {
    const T = 40;
    const grid = t5BucketGrid(T, 8, 16);
    for (let i = 0; i < T; i++)
      for (let j = 0; j < T; j++) expect(grid[i * T + j], `i=${i} j=${j}`).toBe(j > i ? 0 : t5Bucket(i - j, 8, 16));
  });

  it('logitBias reads rel_bias[bucket(i, j), h]', () => {
    const before = tf.memory().numTensors;
    const buckets = 8;
    const nh = 3;
    const T = 20;
    const rel = Float32Array.from({ length: buckets * nh }, (_, k) => 10 * Math.floor(k / nh) + (k % nh)); // 10·bucket + head
    const values = tf.tidy(() => {
      const t = t5.logitBias!(T, ctxOf(12, nh, { buckets, maxDistance: 16 }), { 'pos.rel_bias': tf.tensor2d(rel, [buckets, nh]) });
      expect(t.shape).toEqual([nh, T, T]);
      return t.dataSync();
    });
    expect(tf.memory().numTensors).toBe(before);
    const grid = t5BucketGrid(T, buckets, 16);
    for (let h = 0; h < nh; h++)
      for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) expect(values[(h * T + i) * T + j]).toBe(10 * grid[i * T + j] + h);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('bias schemes add their bias after the 1/sqrt(hs) scaling', () => {
  /** Attention weights of layer 0, batch item 0: (nh, T, T) flattened. */
  function attentionOf(model: GPT, tokens: number[]): Float32Array {
    const before = tf.memory().numTensors;
    let captured: Float32Array | undefined;
    tf.tidy(() => {
      model.forward(tf.tensor2d(tokens, [1, tokens.length], 'int32'), {
        onAttention: async (layer, w) => {
          if (layer === 0) captured = w.dataSync() as Float32Array;
          w.dispose();
        },
      });
    });
    expect(tf.memory().numTensors).toBe(before);
    return captured!;
  }

  async function zeroQkv(model: GPT): Promise<void> {
    const weights = await model.getWeights();
    for (const name of Object.keys(weights)) if (/attn\.(w|b)_qkv$/.test(name)) weights[name] = new Float32Array(weights[name].length);
    model.setWeights(weights);
  }

  it('t5 with zero q, k: every attention row is softmax(rel_bias row over j ≤ i)', async () => {
    const nh = 2;
    const T = 12;
    const buckets = 8;
    const model = buildModel({ pos: 't5', posOptions: { buckets, maxDistance: 16 }, nLayer: 1, nHead: nh, nEmbd: 8, vocabSize: 5 }, 3);
    await zeroQkv(model);
    const weights = await model.getWeights();
    const rel = Float32Array.from({ length: buckets * nh }, (_, k) => 0.7 * Math.floor(k / nh) - 0.9 * (k % nh) + Math.sin(k)); // distinct per (bucket, head)
    model.setWeights({ ...weights, 'pos.rel_bias': rel });
    const att = attentionOf(model, [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]);
    for (let h = 0; h < nh; h++)
      for (let i = 0; i < T; i++) {
        const expected = softmax(Array.from({ length: i + 1 }, (_, j) => rel[t5Bucket(i - j, buckets, 16) * nh + h]));
        const actual = att.subarray((h * T + i) * T, (h * T + i + 1) * T);
        for (let j = 0; j < T; j++) expect(Math.abs(actual[j] - (j <= i ? expected[j] : 0)), `h=${h} i=${i} j=${j}`).toBeLessThan(1e-6);
      }
    model.dispose();
  });

  it('alibi with zero q, k: every attention row is softmax(−m_h·(i − j) over j ≤ i)', async () => {
    const nh = 4;
    const T = 12;
    const model = buildModel({ pos: 'alibi', nLayer: 1, nHead: nh, nEmbd: 16, vocabSize: 5 }, 4);
    await zeroQkv(model);
    const slopes = alibiSlopes(nh);
    const att = attentionOf(model, [4, 3, 2, 1, 0, 0, 1, 2, 3, 4, 4, 4]);
    for (let h = 0; h < nh; h++)
      for (let i = 0; i < T; i++) {
        const expected = softmax(Array.from({ length: i + 1 }, (_, j) => -slopes[h] * (i - j)));
        const actual = att.subarray((h * T + i) * T, (h * T + i + 1) * T);
        for (let j = 0; j < T; j++) expect(Math.abs(actual[j] - (j <= i ? expected[j] : 0)), `h=${h} i=${i} j=${j}`).toBeLessThan(1e-6);
      }
    model.dispose();
  });

  it('t5 with real q, k: attention = softmax(q·k/sqrt(hs) + bias) computed by hand from the weights', async () => {
    const nh = 2;
    const C = 8;
    const hs = C / nh;
    const T = 10;
    const buckets = 8;
    // norm 'none' and a bias-only scheme: the attention input is exactly wte[idx].
    const model = buildModel({ pos: 't5', posOptions: { buckets, maxDistance: 16 }, nLayer: 1, nHead: nh, nEmbd: C, vocabSize: 6, norm: 'none' }, 5, 0.6);
    const tokens = [0, 5, 2, 2, 3, 1, 4, 0, 5, 3];
    const w = await model.getWeights();
    const wqkv = w['h.0.attn.w_qkv'];
    const bqkv = w['h.0.attn.b_qkv'];
    const rel = w['pos.rel_bias'];
    // qkv[t][c] = Σ_d wte[tok_t][d] · Wqkv[d][c] + b[c]
    const qkv = tokens.map((tok) =>
      Array.from({ length: 3 * C }, (_, c) => {
        let s = bqkv[c];
        for (let d = 0; d < C; d++) s += w.wte[tok * C + d] * wqkv[d * 3 * C + c];
        return s;
      }),
    );
    const att = attentionOf(model, tokens);
    let worstAfter = 0;
    let worstBefore = 0;
    for (let h = 0; h < nh; h++)
      for (let i = 0; i < T; i++) {
        const logits = (scaleBias: boolean): number[] =>
          Array.from({ length: i + 1 }, (_, j) => {
            let s = 0;
            for (let d = 0; d < hs; d++) s += qkv[i][h * hs + d] * qkv[j][C + h * hs + d];
            const b = rel[t5Bucket(i - j, buckets, 16) * nh + h];
            return scaleBias ? (s + b) / Math.sqrt(hs) : s / Math.sqrt(hs) + b;
          });
        const after = softmax(logits(false));
        const before = softmax(logits(true));
        for (let j = 0; j <= i; j++) {
          const actual = att[(h * T + i) * T + j];
          worstAfter = Math.max(worstAfter, Math.abs(actual - after[j]));
          worstBefore = Math.max(worstBefore, Math.abs(actual - before[j]));
        }
        for (let j = i + 1; j < T; j++) expect(att[(h * T + i) * T + j]).toBe(0);
      }
    expect(worstAfter).toBeLessThan(1e-5);
    expect(worstBefore).toBeGreaterThan(1e-2); // the test would notice a bias added before the scaling
    model.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('fixed input tables', () => {
  const { tables } = parityFixture();

  it('sinusoidal matches the fixture and hand values', () => {
    const { T, C, data } = tables.sinusoidal;
    const table = sinusoidalTable(T, C);
    expect(maxAbsDiff(table, data)).toBeLessThan(1e-7);
    expect(C).toBe(8);
    expect(table[0 * C + 0]).toBe(0);
    expect(table[0 * C + 1]).toBe(1);
    expect(table[1 * C + 0]).toBe(Math.fround(Math.sin(1)));
    expect(table[1 * C + 1]).toBe(Math.fround(Math.cos(1)));
    expect(table[1 * C + 3]).toBe(Math.fround(Math.cos(1 / 10000 ** (2 / 8))));
    expect(table[1 * C + 2]).toBe(Math.fround(Math.sin(0.1)));
    expect(table[5 * C + 6]).toBe(Math.fround(Math.sin(5 / 10000 ** (6 / 8))));
    // An odd width ends on a sine column.
    const odd = sinusoidalTable(3, 5);
    expect(odd[2 * 5 + 4]).toBe(Math.fround(Math.sin(2 / 10000 ** (4 / 5))));
  });

  it('binary matches the fixture and hand values (LSB on dimension 0)', () => {
    const { T, C, scale, data } = tables.binary;
    expect(maxAbsDiff(binaryTable(T, C, scale), data)).toBe(0);
    const t = binaryTable(8, 6, 2.5);
    expect(Array.from(t.subarray(5 * 6, 6 * 6))).toEqual([2.5, -2.5, 2.5, -2.5, -2.5, -2.5]); // 5 = 101₂
    expect(Array.from(t.subarray(0, 6))).toEqual([-2.5, -2.5, -2.5, -2.5, -2.5, -2.5]);
    expect(Array.from(t.subarray(6 * 6, 7 * 6))).toEqual([-2.5, 2.5, 2.5, -2.5, -2.5, -2.5]); // 6 = 110₂
    // Positions wrap past 2^C: with C = 2, t = 5 looks like t = 1.
    const wrap = binaryTable(6, 2, 1);
    expect(Array.from(wrap.subarray(10, 12))).toEqual(Array.from(wrap.subarray(2, 4)));
  });

  it('integer adds t·scale on every dimension', () => {
    const t = integerTable(4, 3, 0.5);
    expect(Array.from(t)).toEqual([0, 0, 0, 0.5, 0.5, 0.5, 1, 1, 1, 1.5, 1.5, 1.5]);
  });

  it('each input scheme returns its table as a (T, C) tensor with its knob applied', () => {
    const before = tf.memory().numTensors;
    const C = 6;
    const T = 9;
    const cases = [
      [integer.inputTable!, { scale: 0.25 }, integerTable(T, C, 0.25)],
      [binary.inputTable!, { scale: 3 }, binaryTable(T, C, 3)],
      [sinusoidal.inputTable!, { scale: 0.5 }, sinusoidalTable(T, C, 1).map((v) => 0.5 * v)],
    ] as const;
    for (const [fn, options, expected] of cases) {
      const values = tf.tidy(() => {
        const t = fn(T, ctxOf(C, 2, options), {});
        expect(t.shape).toEqual([T, C]);
        return t.dataSync();
      });
      expect(maxAbsDiff(values, expected)).toBe(0);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('learned positions and maxLength', () => {
  it('a learned model with blockSize 8 refuses T = 9 with PositionRangeError and leaks nothing', () => {
    const model = buildModel({ pos: 'learned', blockSize: 8 }, 6, null);
    const before = tf.memory().numTensors;
    const run = (T: number) => () =>
      tf.tidy(() => {
        const idx = tf.zeros([2, T], 'int32') as tf.Tensor2D;
        return model.loss(idx, idx);
      }).dispose();
    expect(run(8)).not.toThrow();
    let error: unknown;
    try {
      run(9)();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PositionRangeError);
    expect(error).toMatchObject({ scheme: 'learned', length: 9, maxLength: 8 });
    expect(tf.memory().numTensors).toBe(before);
    // The scheme's own table refuses as well, should a caller bypass the model's check.
    expect(() => tf.tidy(() => learned.inputTable!(9, ctxOf(16, 2, {}, 8), { 'pos.wpe': tf.zeros([8, 16]) }))).toThrow(PositionRangeError);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('learned returns the first T rows of pos.wpe', () => {
    const wpe = Float32Array.from({ length: 8 * 4 }, (_, i) => i);
    const values = tf.tidy(() => learned.inputTable!(3, ctxOf(4, 2, {}, 8), { 'pos.wpe': tf.tensor2d(wpe, [8, 4]) }).dataSync());
    expect(Array.from(values)).toEqual(Array.from(wpe.subarray(0, 12)));
  });

  it('maxLength is blockSize for learned and Infinity for every other scheme', () => {
    for (const scheme of SCHEMES) {
      const expected = scheme.name === 'learned' ? 8 : Infinity;
      expect(scheme.maxLength(8), scheme.name).toBe(expected);
      const model = new GPT(tinyConfig({ pos: scheme.name, blockSize: 8 }), 1);
      expect(model.maxLength, scheme.name).toBe(expected);
      model.dispose();
    }
  });

  it('every non-learned scheme runs past its block size', () => {
    const before = tf.memory().numTensors;
    for (const name of SCHEME_NAMES.filter((n) => n !== 'learned')) {
      // (Schemes with a clip distance get one below T so the clipped branch runs too.)
      const model = buildModel({ pos: name, blockSize: 4, nLayer: 1, posOptions: name === 't5' ? {} : { maxDistance: 3 } }, 7, null);
      const logits = logitsOf(model, [[1, 2, 3, 4, 5, 6, 7, 8, 9]]);
      expect(logits.every(Number.isFinite), name).toBe(true);
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('scheme registry', () => {
  it('lists the eight core schemes first, all names distinct, each with a label and summary', () => {
    expect(SCHEME_NAMES.slice(0, 8)).toEqual(CORE);
    expect(new Set(SCHEME_NAMES).size).toBe(SCHEME_NAMES.length);
    for (const scheme of SCHEMES) {
      expect(scheme.summary.length, scheme.name).toBeGreaterThan(20);
      expect(scheme.label.length, scheme.name).toBeGreaterThan(0);
      expect(getScheme(scheme.name)).toBe(scheme);
      expect(requireScheme(scheme.name)).toBe(scheme);
    }
    expect(getScheme('absolute')).toBeUndefined();
    expect(() => requireScheme('absolute')).toThrow(/unknown positional scheme/);
  });

  it('each hook matches the functions the scheme defines', () => {
    for (const s of SCHEMES) {
      expect(typeof s.inputTable === 'function', `${s.name} inputTable`).toBe(s.hook === 'input');
      expect(typeof s.rotate === 'function', `${s.name} rotate`).toBe(s.hook === 'rotate');
      expect(typeof s.logitBias === 'function', `${s.name} logitBias`).toBe(s.hook === 'bias');
      expect(typeof s.scoreTerms === 'function', `${s.name} scoreTerms`).toBe(s.hook === 'score');
      if (s.valueTerms || s.scoreScale) expect(s.hook, `${s.name} value terms / score scale`).toBe('score');
    }
    expect(Object.fromEntries(SCHEMES.filter((s) => CORE.includes(s.name)).map((s) => [s.name, s.hook]))).toEqual({
      none: 'none',
      integer: 'input',
      binary: 'input',
      sinusoidal: 'input',
      learned: 'input',
      rope: 'rotate',
      t5: 'bias',
      alibi: 'bias',
    });
  });

  it('knobs have defaults inside [min, max] (integers where required) and unique keys', () => {
    for (const s of SCHEMES) {
      expect(new Set(s.knobs.map((k) => k.key)).size, s.name).toBe(s.knobs.length);
      for (const knob of s.knobs) {
        expect(knob.min, `${s.name}.${knob.key}`).toBeLessThanOrEqual(knob.default);
        expect(knob.default, `${s.name}.${knob.key}`).toBeLessThanOrEqual(knob.max);
        if (knob.integer) expect(Number.isInteger(knob.default), `${s.name}.${knob.key}`).toBe(true);
        expect(knob.flag).toMatch(/^[a-z0-9-]+$/);
        expect(knob.help.length).toBeGreaterThan(0);
      }
    }
  });

  it('scheme parameters are named pos.*; of the core schemes only learned and t5 have any', () => {
    const withParams = SCHEMES.filter((s) => s.params && CORE.includes(s.name)).map((s) => s.name);
    expect(withParams.sort()).toEqual(['learned', 't5']);
    for (const s of SCHEMES) {
      const specs = s.params?.(ctxOf(8, 2, resolveSchemeOptions(s.name), 16, 2)) ?? [];
      for (const spec of specs) expect(spec.name.startsWith('pos.'), spec.name).toBe(true);
      expect(new Set(specs.map((p) => p.name)).size, s.name).toBe(specs.length);
    }
    expect(t5.params!(ctxOf(8, 2, { buckets: 5, maxDistance: 9 }))[0].shape).toEqual([5, 2]);
    expect(learned.params!(ctxOf(8, 2, {}, 12))[0].shape).toEqual([12, 8]);
  });

  it('resolveSchemeOptions fills defaults, keeps given values and drops foreign keys', () => {
    expect(resolveSchemeOptions('rope')).toEqual({ base: 10000, fraction: 1 });
    expect(resolveSchemeOptions('rope', { base: 500, scale: 2 })).toEqual({ base: 500, fraction: 1 });
    expect(resolveSchemeOptions('t5', { buckets: 8 })).toEqual({ buckets: 8, maxDistance: 128 });
    expect(resolveSchemeOptions('integer')).toEqual({ scale: 1 });
    expect(resolveSchemeOptions('alibi', { scale: 3 })).toEqual({});
    expect(() => resolveSchemeOptions('nope')).toThrow(/unknown positional scheme/);
    for (const s of SCHEMES) expect(Object.keys(resolveSchemeOptions(s.name)).sort()).toEqual(s.knobs.map((k) => k.key).sort());
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('permutation equivariance without a causal mask ("the dog chased another dog")', () => {
  // the=0 dog=1 chased=2 another=3: "dog" sits at positions 1 and 4.
  const sentence = [0, 1, 2, 3, 1];
  const T = sentence.length;
  const V = 6;
  const perm = [4, 2, 0, 3, 1]; // new position p holds the old token at perm[p]
  const permuted = perm.map((p) => sentence[p]);

  function model(pos: string): GPT {
    return buildModel({ pos, vocabSize: V, nLayer: 2, nHead: 2, nEmbd: 16, blockSize: 8, posOptions: pos.startsWith('integer') ? { scale: 0.5 } : {} }, 42);
  }

  it('none: permuting the input permutes the logits, and the two "dog" rows are identical', () => {
    const m = model('none');
    const before = tf.memory().numTensors;
    const out = logitsOf(m, [sentence], { causal: false });
    const outPerm = logitsOf(m, [permuted], { causal: false });
    for (let p = 0; p < T; p++) expect(maxAbsDiff(row(outPerm, T, V, p), row(out, T, V, perm[p])), `p=${p}`).toBeLessThan(1e-5);
    expect(maxAbsDiff(row(out, T, V, 1), row(out, T, V, 4))).toBeLessThan(1e-5);
    // Distinct tokens still get distinct rows: the model is not degenerate.
    expect(maxAbsDiff(row(out, T, V, 0), row(out, T, V, 2))).toBeGreaterThan(1e-2);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('none: the causal mask alone tells the two "dog"s apart', () => {
    const m = model('none');
    const out = logitsOf(m, [sentence]); // config default: causal
    expect(maxAbsDiff(row(out, T, V, 1), row(out, T, V, 4))).toBeGreaterThan(1e-2);
    const outFlag = logitsOf(m, [sentence], { causal: true });
    expect(maxAbsDiff(out, outFlag)).toBe(0);
    m.dispose();
  });

  it('a config with causal: false behaves like the forward option', () => {
    const masked = buildModel({ pos: 'none', vocabSize: V, nLayer: 2, nHead: 2, nEmbd: 16, blockSize: 8 }, 42);
    const unmasked = buildModel({ pos: 'none', vocabSize: V, nLayer: 2, nHead: 2, nEmbd: 16, blockSize: 8, causal: false }, 42);
    expect(maxAbsDiff(logitsOf(unmasked, [sentence]), logitsOf(masked, [sentence], { causal: false }))).toBe(0);
    expect(maxAbsDiff(logitsOf(unmasked, [sentence], { causal: true }), logitsOf(masked, [sentence]))).toBe(0);
    masked.dispose();
    unmasked.dispose();
  });

  it.each(['binary', 'sinusoidal', 'learned', 'rope', 't5'])('%s: the two "dog"s differ even without a mask', (pos) => {
    const m = model(pos);
    const out = logitsOf(m, [sentence], { causal: false });
    expect(maxAbsDiff(row(out, T, V, 1), row(out, T, V, 4))).toBeGreaterThan(1e-3);
    m.dispose();
  });

  it.each([
    ['pre', 'rms'],
    ['post', 'layer'],
    ['none', 'layer'],
  ] as const)('integer (norm %s, %s): the two "dog"s differ even without a mask', (norm, normType) => {
    const m = buildModel({ pos: 'integer', posOptions: { scale: 0.5 }, norm, normType, vocabSize: V, nLayer: 2, nHead: 2, nEmbd: 16, blockSize: 8 }, 42);
    const out = logitsOf(m, [sentence], { causal: false });
    expect(maxAbsDiff(row(out, T, V, 1), row(out, T, V, 4))).toBeGreaterThan(1e-3);
    m.dispose();
  });

  // integer and integer-norm add the same value to every channel, and LayerNorm subtracts the channel mean: under
  // the default pre-norm LayerNorm each sublayer and ln_f sees exactly the NoPE input, so the scheme carries no
  // position and the two "dog"s tie like NoPE. RMSNorm keeps the mean and with it the position.
  it.each(['integer', 'integer-norm'])('%s under LayerNorm is erased: the two "dog"s tie without a mask, as with no PE', (pos) => {
    const m = model(pos);
    expect(m.cfg.normType).toBe('layer');
    const out = logitsOf(m, [sentence], { causal: false });
    expect(maxAbsDiff(row(out, T, V, 1), row(out, T, V, 4))).toBeLessThan(1e-4);
    m.dispose();
  });

  it('alibi: the two "dog"s are identical without a mask (−m·i is constant along each softmax row)', () => {
    const m = model('alibi');
    const out = logitsOf(m, [sentence], { causal: false });
    expect(maxAbsDiff(row(out, T, V, 1), row(out, T, V, 4))).toBeLessThan(1e-5);
    expect(maxAbsDiff(row(out, T, V, 0), row(out, T, V, 2))).toBeGreaterThan(1e-2);
    // With the mask they differ again.
    const masked = logitsOf(m, [sentence]);
    expect(maxAbsDiff(row(masked, T, V, 1), row(masked, T, V, 4))).toBeGreaterThan(1e-3);
    m.dispose();
  });

  it('alibi: a permutation is NOT an exact symmetry — the surviving +m·j term still depends on key positions', () => {
    // softmax_j(q_i·k_j/√d − m·i + m·j) = softmax_j(q_i·k_j/√d + m·j): identical queries agree (test above), but
    // moving a key to another position changes its bonus m·j, so permuting the input does not just permute rows.
    const m = model('alibi');
    const out = logitsOf(m, [sentence], { causal: false });
    const outPerm = logitsOf(m, [permuted], { causal: false });
    let worst = 0;
    for (let p = 0; p < T; p++) worst = Math.max(worst, maxAbsDiff(row(outPerm, T, V, p), row(out, T, V, perm[p])));
    expect(worst).toBeGreaterThan(1e-3);
    m.dispose();
  });
});
