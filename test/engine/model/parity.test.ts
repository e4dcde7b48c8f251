/**
 * The TypeScript model against PyTorch (test/fixtures/parity.py): same weights in, same logits, loss and
 * gradients of every parameter out, for every scheme × norm placement and at lengths past the block.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GPT, type ModelConfig } from '../../../src/engine/model/gpt';
import { setFastPaths } from '../../../src/engine/model/ops';
import { SCHEME_NAMES } from '../../../src/engine/model/positional/registry';
import { useWasmBackend } from '../../helpers/backend';
import { parityFixture, type ParityCase } from '../../helpers/fixtures';

useWasmBackend();

/** Ablation flags the fixture records on every case (true unless the case is an ablation). */
type Case = ParityCase & { attnScale?: boolean; tokenEmbedding?: boolean };

function modelFor(c: Case): GPT {
  const cfg: ModelConfig = {
    vocabSize: c.vocab,
    nLayer: c.nLayer,
    nHead: c.nHead,
    nEmbd: c.nEmbd,
    blockSize: c.blockSize,
    pos: c.scheme,
    posOptions: c.options,
    norm: c.norm,
    normType: c.normType,
    causal: true,
    dropoutEmbd: 0,
    dropoutAttn: 0,
    dropoutResid: 0,
    attnScale: c.attnScale ?? true,
    tokenEmbedding: c.tokenEmbedding ?? true,
  };
  const model = new GPT(cfg, 1);
  model.setWeights(Object.fromEntries(Object.entries(c.weights).map(([name, w]) => [name, w.data])));
  return model;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

function expectParity(c: Case): void {
  const model = modelFor(c);
  const B = c.idx.length;
  const idx = tf.tensor2d(c.idx.flat(), [B, c.T], 'int32');
  const targets = tf.tensor2d(c.targets.flat(), [B, c.T], 'int32');
  const logits = tf.tidy(() => model.forward(idx).dataSync());
  expect(maxAbsDiff(logits, c.logits.data)).toBeLessThan(1e-4);

  const variables = [...model.params.values()];
  const { value, grads } = tf.variableGrads(() => model.loss(idx, targets), variables);
  expect(Math.abs(value.dataSync()[0] - c.loss)).toBeLessThan(1e-4);
  for (const [name, variable] of model.params) {
    const expected = c.grads[name];
    expect(expected, `fixture has a gradient for ${name}`).toBeDefined();
    const diff = maxAbsDiff(grads[variable.name].dataSync(), expected.data);
    expect(diff, `gradient of ${name}`).toBeLessThan(1e-4);
  }
  expect(Object.keys(c.grads).sort()).toEqual([...model.params.keys()].sort());
  tf.dispose([value, idx, targets, ...Object.values(grads)]);
  model.dispose();
}

describe('parity with the PyTorch reference', () => {
  const cases = parityFixture().cases as Case[];

  it('covers every scheme × norm placement', () => {
    const combos = new Set(cases.map((c) => `${c.scheme}/${c.norm}`));
    expect(SCHEME_NAMES.length).toBe(13);
    for (const scheme of SCHEME_NAMES) for (const norm of ['pre', 'post', 'none']) expect(combos, `${scheme}/${norm}`).toContain(`${scheme}/${norm}`);
    expect(combos.size).toBe(SCHEME_NAMES.length * 3);
  });

  it('covers the ablations and lengths past the block', () => {
    expect(cases.every((c) => typeof c.attnScale === 'boolean' && typeof c.tokenEmbedding === 'boolean')).toBe(true);
    expect(cases.filter((c) => c.attnScale === false).map((c) => c.scheme).sort()).toEqual(['none', 'rope']);
    const notok = cases.filter((c) => c.tokenEmbedding === false);
    expect(notok.map((c) => c.id)).toEqual(['sinusoidal-pre-layer-T8-notok']);
    expect(notok[0].weights.wte).toBeUndefined();
    for (const scheme of SCHEME_NAMES.filter((s) => s !== 'learned'))
      expect(cases.some((c) => c.scheme === scheme && c.T > c.blockSize), `${scheme} past the block`).toBe(true);
    const keysOnly = cases.find((c) => c.id === 'shaw-pre-layer-T8-keysonly')!;
    expect(Object.keys(keysOnly.weights).some((n) => n.endsWith('.rel_v'))).toBe(false);
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s: logits, loss and every gradient match', (_id, c) => expectParity(c));

});

// Other backends (tfjs-node, tfjs-node-gpu) take the plain-tfjs path instead of the wasm fast paths: same fixture.
describe('parity with the fast paths switched off (the path every non-wasm backend takes)', () => {
  const cases = parityFixture().cases as Case[];
  beforeAll(() => setFastPaths(false));
  afterAll(() => setFastPaths(true));

  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => expectParity(c));
});
