/** The parity check against the PyTorch fixture (test/fixtures/parity.py), shared by the wasm and webgpu tests. */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { GPT, type ModelConfig } from '../../src/engine/model/gpt';
import { takeValues } from '../../src/engine/read';
import type { ParityCase } from './fixtures';

/** Ablation flags the fixture records on every case (true unless the case is an ablation). */
export type Case = ParityCase & { attnScale?: boolean; tokenEmbedding?: boolean; attnLogScaling?: 'none' | 'fixed' };

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
    attnLogScaling: c.attnLogScaling ?? 'none',
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

/** Same weights in → the fixture's logits, loss and every gradient out, to 1e-4 (reads are async: any backend). */
export async function expectParity(c: Case): Promise<void> {
  const model = modelFor(c);
  const B = c.idx.length;
  const idx = tf.tensor2d(c.idx.flat(), [B, c.T], 'int32');
  const targets = tf.tensor2d(c.targets.flat(), [B, c.T], 'int32');
  const logits = await takeValues(tf.tidy(() => model.forward(idx)));
  expect(maxAbsDiff(logits, c.logits.data)).toBeLessThan(1e-4);

  const variables = [...model.params.values()];
  const { value, grads } = tf.variableGrads(() => model.loss(idx, targets), variables);
  expect(Math.abs((await value.data())[0]! - c.loss)).toBeLessThan(1e-4);
  for (const [name, variable] of model.params) {
    const expected = c.grads[name];
    expect(expected, `fixture has a gradient for ${name}`).toBeDefined();
    const diff = maxAbsDiff(await grads[variable.name].data(), expected.data);
    expect(diff, `gradient of ${name}`).toBeLessThan(1e-4);
  }
  expect(Object.keys(c.grads).sort()).toEqual([...model.params.keys()].sort());
  tf.dispose([value, idx, targets, ...Object.values(grads)]);
  model.dispose();
}
