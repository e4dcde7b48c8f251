import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { CharTokenizer } from '../../../src/engine/data/tokenizer';
import { TIE_TOLERANCE, attentionMaps, biasMatrices, equivarianceProbe, positionTable } from '../../../src/engine/eval/probes';
import { GPT, type ModelConfig } from '../../../src/engine/model/gpt';
import { alibiSlopes } from '../../../src/engine/model/positional/alibi';
import { sinusoidalTable } from '../../../src/engine/model/positional/sinusoidal';
import { useWasmBackend } from '../../helpers/backend';

useWasmBackend();

function model(pos: string, posOptions: Record<string, number> = {}): GPT {
  const cfg: ModelConfig = { vocabSize: 12, nLayer: 2, nHead: 4, nEmbd: 16, blockSize: 16, pos, posOptions, norm: 'pre', normType: 'layer', causal: true, dropoutEmbd: 0, dropoutAttn: 0, dropoutResid: 0 };
  return new GPT(cfg, 5);
}

describe('probes', () => {
  it('attention maps: every row sums to 1 and is zero above the diagonal, per layer and head', async () => {
    const m = model('rope', { base: 10000 });
    const before = tf.memory().numTensors;
    const maps = await attentionMaps(m, [1, 4, 2, 7, 7, 3, 0, 11, 5]);
    expect(tf.memory().numTensors).toBe(before);
    expect(maps).toHaveLength(2);
    for (const layer of maps) {
      expect(layer).toHaveLength(4);
      for (const head of layer)
        head.forEach((row, i) => {
          expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
          row.forEach((w, j) => (j > i ? expect(w).toBe(0) : expect(w).toBeGreaterThan(0)));
        });
    }
    m.dispose();
  });

  it('position table of an additive scheme is the scheme’s table; none for the others', async () => {
    const m = model('sinusoidal');
    const table = (await positionTable(m, 5))!;
    expect(table.flat()).toEqual(Array.from(sinusoidalTable(5, 16)));
    expect(await positionTable(model('rope', { base: 10000 }), 5)).toBeNull();
    m.dispose();
  });

  it('ALiBi bias matrices are −m_h·(i−j) per head', async () => {
    const m = model('alibi');
    const heads = (await biasMatrices(m, 6))!;
    const slopes = alibiSlopes(4);
    expect(heads[3][5][1]).toBeCloseTo(-slopes[3] * 4, 6);
    expect(heads[0][2][2]).toBe(-0);
    expect(await biasMatrices(model('learned'), 6)).toBeNull();
    m.dispose();
  });

  it('equivariance on fresh weights: ties for no-PE, ALiBi and the constant-per-position schemes without a mask, nowhere else', async () => {
    const rows = await equivarianceProbe({});
    const row = (scheme: string, causal: boolean) => rows.find((r) => r.scheme === scheme && r.causal === causal)!;
    expect(row('none', false).difference).toBe(0);
    // integer and integer-norm add the same value to every dimension, which LayerNorm subtracts: a tie up to float
    // noise that grows with the values carried (integer's t up to 25 leaves ~1e-4 on logits of ~6), hence relative.
    expect(row('integer', false).difference).toBeGreaterThan(1e-5);
    expect(row('integer', false).difference).toBeLessThan(TIE_TOLERANCE * row('integer', false).scale);
    expect(rows.filter((r) => r.tied).map((r) => `${r.scheme} ${r.causal ? 'causal' : 'unmasked'}`)).toEqual(['none unmasked', 'integer unmasked', 'alibi unmasked', 'integer-norm unmasked']);
    // Rows that are not tied differ by a sizeable fraction of the logits, far from the tolerance.
    for (const r of rows.filter((r) => !r.tied)) expect(r.difference / r.scale, `${r.scheme} ${r.causal}`).toBeGreaterThan(100 * TIE_TOLERANCE);
  });

  it('equivariance on a given model measures only that model, and rejects text without two "dog"s', async () => {
    const tokenizer = CharTokenizer.fromText('the dog chased another dog');
    const cfg: ModelConfig = { vocabSize: tokenizer.size, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 32, pos: 'none', posOptions: {}, norm: 'pre', normType: 'layer', causal: true, dropoutEmbd: 0, dropoutAttn: 0, dropoutResid: 0 };
    const m = new GPT(cfg, 9);
    const rows = await equivarianceProbe({ trained: { model: m, tokenizer } });
    expect(rows.map((r) => [r.scheme, r.causal, r.tied])).toEqual([
      ['none', false, true],
      ['none', true, false],
    ]);
    await expect(equivarianceProbe({ text: 'one dog only' })).rejects.toThrow(/must contain "dog" twice/);
    m.dispose();
  });
});
