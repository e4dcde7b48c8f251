/** CoPE: gates, counted positions and interpolated embeddings by hand; the count runs from the key to the query. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { cope } from '../../../src/engine/model/positional/cope';
import type { SchemeContext } from '../../../src/engine/model/positional/types';
import { useWasmBackend } from '../../helpers/backend';
import { buildModel } from '../../helpers/model';

useWasmBackend();

/** q·e[n] = n² for q = (1, 1): a table on which a wrong interpolation or count shows. */
const SQUARES = [[0, 1, 4, 9], [0, 0, 0, 0]];

/** CoPE's score terms for one head, hs = 2; rows of q and k are positions. */
function termsOf(q: number[][], k: number[][], table: number[][]): number[][] {
  const T = q.length;
  const npos = table[0]!.length;
  const ctx: SchemeContext = { nEmbd: 2, nHead: 1, nLayer: 1, blockSize: T, headDim: 2, options: { positions: npos } };
  const values = tf.tidy(() =>
    cope.scoreTerms!(tf.tensor4d(q.flat(), [1, 1, T, 2]), tf.tensor4d(k.flat(), [1, 1, T, 2]), 0, ctx, { 'pos.h.0.cope_emb': tf.tensor2d(table) }).dataSync(),
  );
  return Array.from({ length: T }, (_, i) => Array.from(values.subarray(i * T, (i + 1) * T)));
}

describe('CoPE', () => {
  it('counts half a position per key when every gate is σ(0) = 1/2, and interpolates e between integers', () => {
    const q = [[1, 0], [1, 0], [1, 0]];
    const k = [[0, 1], [0, 1], [0, 1]]; // q·k = 0: every gate 1/2, so p_ij = (i − j + 1)/2
    const terms = termsOf(q, k, [[0, 1, 4, 9], [0, 0, 0, 0]]);
    // p_20 = 1.5 → halfway between e[1]·q = 1 and e[2]·q = 4; p_21 = 1 → 1; p_22 = 0.5 → halfway between 0 and 1.
    expect(terms[2]![0]).toBeCloseTo(2.5, 5);
    expect(terms[2]![1]).toBeCloseTo(1, 5);
    expect(terms[2]![2]).toBeCloseTo(0.5, 5);
    expect(terms[0]![1]).toBe(0); // keys after the query count nothing (the mask removes them)
  });

  it('sums the gates of the keys from j up to the query i, not from the start', () => {
    const q = [[1, 1], [1, 1], [1, 1]];
    const k = [[0, 20], [0, -20], [0, 0]]; // gates by key: σ(20) ≈ 1, σ(−20) ≈ 0, σ(0) = 1/2
    const terms = termsOf(q, k, SQUARES);
    // Query 2: p_20 = 1 + 0 + ½ = 1.5 → 2.5;  p_21 = 0 + ½ = 0.5 → 0.5;  p_22 = ½ → 0.5.
    expect(terms[2]![0]).toBeCloseTo(2.5, 5);
    expect(terms[2]![1]).toBeCloseTo(0.5, 5);
    expect(terms[2]![2]).toBeCloseTo(0.5, 5);
    // Query 1: p_10 = 1 + 0 = 1 → 1;  p_11 = 0 → 0.
    expect(terms[1]![0]).toBeCloseTo(1, 5);
    expect(terms[1]![1]).toBeCloseTo(0, 5);
  });

  it('clamps counts at npos − 1: beyond it every key shares the last embedding', () => {
    const q = [[1, 1], [1, 1], [1, 1], [1, 1]];
    const k = [[0, 20], [0, 20], [0, 20], [0, 20]]; // every gate ≈ 1: p_ij = i − j + 1
    const terms = termsOf(q, k, [[0, 1, 4], [0, 0, 0]]); // npos = 3: counts 2, 3, 4 all read e[2]
    expect(terms[3]![3]).toBeCloseTo(1, 5);
    for (const j of [0, 1, 2]) expect(terms[3]![j]).toBeCloseTo(4, 5);
  });

  it('learns: the loss has a gradient for every layer’s position table, which starts at zero', () => {
    const model = buildModel({ pos: 'cope', nHead: 2, nEmbd: 8, blockSize: 6, posOptions: { positions: 4 } }, 4, null);
    const idx = tf.tensor2d([[1, 2, 3, 4, 5, 6]], [1, 6], 'int32');
    const targets = tf.tensor2d([[2, 3, 4, 5, 6, 7]], [1, 6], 'int32');
    const vars = ['pos.h.0.cope_emb', 'pos.h.1.cope_emb'].map((n) => model.params.get(n)!);
    for (const v of vars) expect(Array.from(v.dataSync()).every((x) => x === 0)).toBe(true);
    const { value, grads } = tf.variableGrads(() => model.loss(idx, targets), vars);
    for (const v of vars) expect(Math.max(...Array.from(grads[v.name]!.dataSync(), Math.abs)), v.name).toBeGreaterThan(1e-9);
    tf.dispose([value, idx, targets, ...Object.values(grads)]);
    model.dispose();
  });
});
