/**
 * The relative-position family (Shaw, Transformer-XL, DeBERTa) and the two new input tables (integer ÷ length,
 * sine), by their defining properties rather than by value: score terms that depend only on the offset j − i
 * (and stop depending on it past the clip), the Shaw value side, finite-difference gradients of the scheme parameters, and the attnScale / tokenEmbedding ablations.
 * Values against PyTorch are in parity.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { GPT } from '../../../src/engine/model/gpt';
import { layerNorm, linear } from '../../../src/engine/model/ops';
import { binaryTable } from '../../../src/engine/model/positional/binary';
import { debertaIndex } from '../../../src/engine/model/positional/deberta';
import { integerNorm, integerNormTable } from '../../../src/engine/model/positional/integerNorm';
import { requireScheme } from '../../../src/engine/model/positional/registry';
import { shawIndex } from '../../../src/engine/model/positional/shaw';
import { sineTable } from '../../../src/engine/model/positional/sine';
import { useWasmBackend } from '../../helpers/backend';
import { buildModel, logitsOf, maxAbsDiff, randomArray } from '../../helpers/model';

useWasmBackend();

const K = 3;
const OPTIONS: Record<string, Record<string, number>> = {
  shaw: { maxDistance: K, values: 1 },
  'transformer-xl': {},
  deberta: { maxDistance: K },
};

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** A 1-layer, pre-norm model (no input table for these schemes) with weights well above float32 noise. */
function oneLayer(pos: string, seed = 3): GPT {
  return buildModel({ pos, posOptions: OPTIONS[pos], nLayer: 1, nEmbd: 8, nHead: 2, blockSize: 8 }, seed);
}

/**
 * q and k (1, nh, T, hs) of layer 0 for the same token at every position: with no input table the block's
 * input is wte[token] at every t, so ln1 and w_qkv make q and k position-independent.
 */
function constantQK(model: GPT, token: number, T: number): { q: tf.Tensor4D; k: tf.Tensor4D } {
  const { nEmbd: C, nHead: nh } = model.cfg;
  const hs = C / nh;
  const p = model.paramTensors();
  const x = tf.slice(p.wte, [token, 0], [1, C]);
  const qkv = linear(layerNorm(x, p['h.0.ln1.g'], p['h.0.ln1.b']), p['h.0.attn.w_qkv'], p['h.0.attn.b_qkv']); // (1, 3C)
  const heads = (t: tf.Tensor): tf.Tensor4D => tf.tile(tf.reshape(t, [1, nh, 1, hs]), [1, 1, T, 1]) as tf.Tensor4D;
  const [q, k] = tf.split(qkv, 3, 1);
  return { q: heads(q), k: heads(k) };
}

/** The score-hook terms of layer 0 for position-independent q, k: (nh, T, T) as nested arrays. */
function constantScoreTerms(model: GPT, T: number): { S: number[][][]; q: Float32Array; k: Float32Array } {
  return tf.tidy(() => {
    const { q, k } = constantQK(model, 4, T);
    const terms = model.scheme.scoreTerms!(q, k, 0, model.schemeContext, model.paramTensors());
    expect(terms.shape).toEqual([1, model.cfg.nHead, T, T]);
    return { S: (terms.arraySync() as number[][][][])[0], q: q.dataSync() as Float32Array, k: k.dataSync() as Float32Array };
  });
}

/** Asserts S (T, T) is Toeplitz (entry (i, j) depends only on j − i) and returns the value per offset j − i. */
function byOffset(S: number[][]): Map<number, number> {
  const T = S.length;
  const scale = Math.max(1, ...S.flat().map(Math.abs));
  const out = new Map<number, number>();
  for (let i = 0; i < T; i++)
    for (let j = 0; j < T; j++) {
      const off = j - i;
      if (!out.has(off)) out.set(off, S[i][j]);
      expect(Math.abs(S[i][j] - out.get(off)!), `(${i}, ${j}) vs offset ${off}`).toBeLessThan(1e-5 * scale);
    }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
describe('score-hook schemes: terms depend only on the offset j − i', () => {
  const T = 12;

  for (const pos of ['shaw', 'deberta']) {
    it(`${pos}: Toeplitz, clipped at |j − i| ≥ k on each side, 2k + 1 distinct values`, () => {
      const model = oneLayer(pos);
      const { S } = constantScoreTerms(model, T);
      for (const head of S) {
        const v = byOffset(head);
        const tol = 1e-5 * Math.max(1, ...[...v.values()].map(Math.abs));
        for (let off = K; off < T; off++) expect(Math.abs(v.get(off)! - v.get(K)!), `offset ${off}`).toBeLessThan(tol);
        for (let off = -K; off > -T; off--) expect(Math.abs(v.get(off)! - v.get(-K)!), `offset ${off}`).toBeLessThan(tol);
        // Inside the window every offset has its own value (and differs from both clipped ones).
        const distinct = [-K, ...Array.from({ length: 2 * K - 1 }, (_, i) => i - K + 1), K].map((o) => v.get(o)!);
        for (let a = 0; a < distinct.length; a++) for (let b = a + 1; b < distinct.length; b++) expect(Math.abs(distinct[a] - distinct[b])).toBeGreaterThan(1e-4);
      }
      model.dispose();
    });
  }

  it('transformer-xl: Toeplitz but not clipped (distance k and k + 5 differ)', () => {
    const model = oneLayer('transformer-xl');
    const { S } = constantScoreTerms(model, T);
    for (const head of S) {
      const v = byOffset(head);
      // Causal side: key K (resp. K + 5) positions behind the query.
      expect(Math.abs(v.get(-K)! - v.get(-K - 5)!)).toBeGreaterThan(1e-3);
      expect(Math.abs(v.get(-K - 1)! - v.get(-K - 2)!)).toBeGreaterThan(1e-4);
    }
    model.dispose();
  });

  it('shaw: entry (i, j) is q · rel_k[clip(j − i, −k, k) + k] (hand-computed)', () => {
    const model = oneLayer('shaw');
    const { S, q } = constantScoreTerms(model, T);
    const hs = 4;
    const relK = model.params.get('pos.h.0.rel_k')!.dataSync();
    for (let h = 0; h < 2; h++) {
      const qh = q.subarray(h * T * hs, h * T * hs + hs); // position 0 of head h (all positions equal)
      for (const [i, j] of [[0, 0], [5, 0], [5, 3], [2, 9], [11, 1], [4, 5]]) {
        const r = Math.max(-K, Math.min(K, j - i)) + K;
        expect(S[h][i][j]).toBeCloseTo(dot(qh, relK.subarray(r * hs, (r + 1) * hs)), 4);
      }
    }
    model.dispose();
  });

  it('deberta: entry (i, j) is q · Kr[δ(i, j)] + k · Qr[δ(j, i)], with δ saturating at 0 and 2k − 1', () => {
    const index = debertaIndex(T, K);
    const delta = (a: number, b: number): number => index[a * T + b];
    expect([delta(0, 5), delta(0, 3), delta(0, 2), delta(3, 3), delta(5, 3), delta(5, 0), delta(11, 0)]).toEqual([0, 0, 1, K, K + 2, 2 * K - 1, 2 * K - 1]);

    const model = oneLayer('deberta');
    const { S, q, k } = constantScoreTerms(model, T);
    const C = 8;
    const hs = 4;
    const P = model.params.get('pos.rel_emb')!.arraySync() as number[][];
    const project = (w: number[][]): number[][] => P.map((row) => w[0].map((_, c) => dot(row, w.map((r) => r[c]))));
    const Kr = project(model.params.get('pos.h.0.w_kr')!.arraySync() as number[][]);
    const Qr = project(model.params.get('pos.h.0.w_qr')!.arraySync() as number[][]);
    expect(Kr.length).toBe(2 * K);
    expect(Kr[0].length).toBe(C);
    for (let h = 0; h < 2; h++) {
      const qh = q.subarray(h * T * hs, h * T * hs + hs);
      const kh = k.subarray(h * T * hs, h * T * hs + hs);
      for (const [i, j] of [[0, 0], [5, 0], [5, 3], [2, 9], [11, 1], [4, 5], [7, 5]]) {
        const want = dot(qh, Kr[delta(i, j)].slice(h * hs, (h + 1) * hs)) + dot(kh, Qr[delta(j, i)].slice(h * hs, (h + 1) * hs));
        expect(S[h][i][j], `(${h}, ${i}, ${j})`).toBeCloseTo(want, 4);
      }
    }
    model.dispose();
  });

  it('deberta scales scores by 1/√(3·hs)', () => {
    expect(requireScheme('deberta').scoreScale!(4)).toBeCloseTo(1 / Math.sqrt(12), 12);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('Shaw value side', () => {
  const T = 9;

  it('uniform attention over j ≤ i gives the mean of rel_v over the slots r(i, j)', () => {
    const model = oneLayer('shaw');
    const hs = 4;
    const relV = model.params.get('pos.h.0.rel_v')!.arraySync() as number[][];
    const weights = new Float32Array(2 * 2 * T * T);
    for (let b = 0; b < 2; b++)
      for (let h = 0; h < 2; h++) for (let i = 0; i < T; i++) for (let j = 0; j <= i; j++) weights[((b * 2 + h) * T + i) * T + j] = 1 / (i + 1);
    const out = tf.tidy(() => {
      const z = model.scheme.valueTerms!(tf.tensor4d(weights, [2, 2, T, T]), 0, model.schemeContext, model.paramTensors());
      expect(z.shape).toEqual([2, 2, T, hs]);
      return z.arraySync() as number[][][][];
    });
    for (let i = 0; i < T; i++) {
      const mean = new Array(hs).fill(0);
      for (let j = 0; j <= i; j++) {
        const r = Math.max(-K, Math.min(K, j - i)) + K;
        for (let d = 0; d < hs; d++) mean[d] += relV[r][d] / (i + 1);
      }
      for (let b = 0; b < 2; b++) for (let h = 0; h < 2; h++) for (let d = 0; d < hs; d++) expect(out[b][h][i][d]).toBeCloseTo(mean[d], 5);
    }
    model.dispose();
  });

  it('values = 0: no rel_v parameter and no value term', () => {
    const model = buildModel({ pos: 'shaw', posOptions: { maxDistance: K, values: 0 }, nLayer: 2, nEmbd: 8, nHead: 2, blockSize: 8 });
    const names = [...model.params.keys()];
    expect(names.filter((n) => n.startsWith('pos.')).sort()).toEqual(['pos.h.0.rel_k', 'pos.h.1.rel_k']);
    const z = tf.tidy(() => model.scheme.valueTerms!(tf.ones([1, 2, 4, 4]) as tf.Tensor4D, 0, model.schemeContext, model.paramTensors()).dataSync());
    expect(Math.max(...z.map(Math.abs))).toBe(0);
    const withValues = buildModel({ pos: 'shaw', posOptions: { maxDistance: K, values: 1 }, nLayer: 2, nEmbd: 8, nHead: 2, blockSize: 8 });
    expect([...withValues.params.keys()].filter((n) => n.endsWith('.rel_v')).sort()).toEqual(['pos.h.0.rel_v', 'pos.h.1.rel_v']);
    model.dispose();
    withValues.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('sine and integer ÷ length tables', () => {
  it('sine repeats with period 2^C = 16 at C = 4, and has the sign of the binary scheme', () => {
    const C = 4;
    const table = sineTable(40, C, 1);
    for (let t = 0; t + 16 < 40; t++) for (let c = 0; c < C; c++) expect(table[(t + 16) * C + c]).toBeCloseTo(table[t * C + c], 5);
    // Not a shorter period: half a period on, the slowest dimension (c = 3, period 16) is negated.
    for (let t = 0; t < 8; t++) {
      expect(Math.abs(table[t * C + 3])).toBeGreaterThan(0.1);
      expect(table[(t + 8) * C + 3]).toBeCloseTo(-table[t * C + 3], 5);
    }
    const bin = binaryTable(16, C, 1);
    for (let i = 0; i < 16 * C; i++) expect(Math.sign(table[i]), `t=${Math.floor(i / C)} c=${i % C}`).toBe(bin[i]);
    expect(table[0]).toBeCloseTo(-Math.sin(Math.PI / 2), 6);
  });

  it('integer ÷ length: PE[t] = scale·t/T, so position 3 means something else at T = 8 and T = 16', () => {
    const C = 5;
    const at8 = integerNormTable(8, C, 1);
    const at16 = integerNormTable(16, C, 1);
    for (let t = 0; t < 8; t++) for (let c = 0; c < C; c++) expect(at8[t * C + c]).toBeCloseTo(t / 8, 6);
    for (let t = 0; t < 16; t++) for (let c = 0; c < C; c++) expect(at16[t * C + c]).toBeCloseTo(t / 16, 6);
    expect(at8[3 * C]).not.toBeCloseTo(at16[3 * C], 3);
    const viaScheme = tf.tidy(() => integerNorm.inputTable!(8, { nEmbd: C, nHead: 1, nLayer: 1, blockSize: 8, headDim: C, options: { scale: 0.5 } }, {}).dataSync());
    expect(viaScheme[3 * C + 2]).toBeCloseTo((0.5 * 3) / 8, 6);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('finite-difference gradients of the scheme parameters', () => {
  const T = 8;
  const tokens = [
    [1, 5, 2, 9, 3, 3, 0, 7],
    [4, 4, 10, 1, 6, 2, 8, 5],
  ];
  const targets = [
    [5, 2, 9, 3, 3, 0, 7, 1],
    [4, 10, 1, 6, 2, 8, 5, 3],
  ];

  function lossOf(model: GPT): number {
    return tf.tidy(() => model.loss(tf.tensor2d(tokens.flat(), [2, T], 'int32'), tf.tensor2d(targets.flat(), [2, T], 'int32')).dataSync()[0]);
  }

  const checks: [string, string][] = [
    ['shaw', 'pos.h.0.rel_k'],
    ['transformer-xl', 'pos.h.0.u'],
    ['transformer-xl', 'pos.h.0.w_r'],
    ['deberta', 'pos.rel_emb'],
  ];
  it.each(checks)('%s: d loss / d %s', (pos, name) => {
    const model = buildModel({ pos, posOptions: OPTIONS[pos], nLayer: 1, nEmbd: 8, nHead: 2, blockSize: 8 }, 5);
    const variable = model.params.get(name)!;
    const analytic = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => model.loss(tf.tensor2d(tokens.flat(), [2, T], 'int32'), tf.tensor2d(targets.flat(), [2, T], 'int32')), [variable]);
      return grads[variable.name].dataSync();
    });
    // The few coordinates with the largest gradients (small ones are all float32 noise in a central difference).
    const coords = [...analytic.keys()].sort((a, b) => Math.abs(analytic[b]) - Math.abs(analytic[a])).slice(0, 4);
    expect(Math.abs(analytic[coords[0]])).toBeGreaterThan(1e-3);
    const base = Float32Array.from(variable.dataSync());
    const eps = 1e-2;
    const lossWith = (coord: number, delta: number): number => {
      const values = Float32Array.from(base);
      values[coord] += delta;
      variable.assign(tf.tensor(values, variable.shape));
      return lossOf(model);
    };
    for (const coord of coords) {
      const fd = (lossWith(coord, eps) - lossWith(coord, -eps)) / (2 * eps);
      const rel = Math.abs(fd - analytic[coord]) / Math.max(Math.abs(fd), Math.abs(analytic[coord]));
      expect(rel, `${name}[${coord}]: fd ${fd} vs analytic ${analytic[coord]}`).toBeLessThan(2e-2);
    }
    model.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('ablations', () => {
  const tokens = [[1, 5, 2, 9, 3, 3, 0, 7]];
  const dims = { nLayer: 1, nEmbd: 8, nHead: 2, blockSize: 8 };

  for (const pos of ['none', 'rope', 'deberta']) {
    it(`attnScale false changes the logits (${pos}, same weights)`, async () => {
      const scaled = buildModel({ pos, posOptions: OPTIONS[pos] ?? {}, ...dims }, 9);
      const unscaled = buildModel({ pos, posOptions: OPTIONS[pos] ?? {}, ...dims, attnScale: false }, 9);
      expect(await unscaled.getWeights()).toEqual(await scaled.getWeights());
      expect(maxAbsDiff(logitsOf(scaled, tokens), logitsOf(unscaled, tokens))).toBeGreaterThan(1e-3);
      scaled.dispose();
      unscaled.dispose();
    });
  }

  for (const pos of ['none', 'rope']) {
    it(`attnScale false equals attnScale true with q's weights and bias multiplied by √hs (${pos})`, async () => {
      const unscaled = buildModel({ pos, ...dims, attnScale: false }, 9);
      const scaled = buildModel({ pos, ...dims }, 9);
      const C = 8;
      const root = Math.sqrt(C / 2);
      const w = await scaled.getWeights();
      const wqkv = Float32Array.from(w['h.0.attn.w_qkv']);
      for (let r = 0; r < C; r++) for (let c = 0; c < C; c++) wqkv[r * 3 * C + c] *= root;
      const bqkv = Float32Array.from(w['h.0.attn.b_qkv']);
      for (let c = 0; c < C; c++) bqkv[c] *= root;
      scaled.setWeights({ ...w, 'h.0.attn.w_qkv': wqkv, 'h.0.attn.b_qkv': bqkv });
      expect(maxAbsDiff(logitsOf(scaled, tokens), logitsOf(unscaled, tokens))).toBeLessThan(1e-4);
      scaled.dispose();
      unscaled.dispose();
    });
  }

  it('tokenEmbedding false: no wte, and the logits do not depend on the token ids', () => {
    const model = buildModel({ pos: 'sinusoidal', ...dims, tokenEmbedding: false }, 11);
    expect(model.params.has('wte')).toBe(false);
    expect(model.layout.some((p) => p.name === 'wte')).toBe(false);
    const a = logitsOf(model, [[1, 5, 2, 9, 3, 3, 0, 7]]);
    const b = logitsOf(model, [[10, 0, 4, 4, 8, 1, 6, 2]]);
    expect(maxAbsDiff(a, b)).toBe(0);
    // Still position-dependent (the positional table is the whole input).
    expect(maxAbsDiff(a.subarray(0, 11), a.subarray(11, 22))).toBeGreaterThan(1e-3);
    const withTokens = buildModel({ pos: 'sinusoidal', ...dims }, 11);
    expect(withTokens.params.has('wte')).toBe(true);
    expect(maxAbsDiff(logitsOf(withTokens, [[1, 5, 2, 9, 3, 3, 0, 7]]), logitsOf(withTokens, [[10, 0, 4, 4, 8, 1, 6, 2]]))).toBeGreaterThan(1e-3);
    model.dispose();
    withTokens.dispose();
  });
});
