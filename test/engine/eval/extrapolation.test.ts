import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/engine/config';
import { sequentialWindows } from '../../../src/engine/data/batches';
import { buildCorpus } from '../../../src/engine/data/corpus';
import { defaultLengths, evalAtLengths } from '../../../src/engine/eval/extrapolation';
import { GPT, modelConfigOf } from '../../../src/engine/model/gpt';
import { Trainer } from '../../../src/engine/train/trainer';
import { useWasmBackend } from '../../helpers/backend';

useWasmBackend();

function setup(pos: string) {
  const config = resolveConfig({ data: 'builtin:toy-english', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 8, steps: 12, evalEvery: 12, evalBatches: 2, sampleEvery: 0, checkpointEvery: 0, pos });
  const corpus = buildCorpus({ source: config.data, blockSize: config.blockSize, seed: 3, chars: 20_000 });
  const model = new GPT(modelConfigOf(config, corpus.tokenizer.size), config.seed);
  return { config, corpus, model, tokenBudget: config.evalBatches * config.batchSize * config.blockSize };
}

describe('evalAtLengths', () => {
  it('at the training length equals the trainer’s validation loss, and per-position losses average to the loss', async () => {
    const { config, corpus, model, tokenBudget } = setup('rope');
    const trainer = new Trainer({ model, config, corpus });
    const outcome = await trainer.run();
    const [atBlock, longer] = await evalAtLengths(model, corpus.val, [16, 48], { tokenBudget });
    expect(atBlock.loss).toBeCloseTo(outcome.finalValLoss!, 5);
    for (const r of [atBlock, longer]) {
      expect(r.applicable).toBe(true);
      expect(r.perPositionLoss).toHaveLength(r.length);
      const mean = r.perPositionLoss.reduce((a, b) => a + b, 0) / r.length;
      expect(mean).toBeCloseTo(r.loss!, 6);
      expect(r.ppl).toBeCloseTo(Math.exp(r.loss!), 6);
      expect(r.accuracy!).toBeGreaterThanOrEqual(0);
      expect(r.accuracy!).toBeLessThanOrEqual(1);
      expect(r.peakBytes).toBeGreaterThan(0);
    }
    // Equal token budgets: 16 windows of 16 tokens, then 5 of 48 (rounded).
    expect(atBlock.windows).toBe(16);
    expect(longer.windows).toBe(5);
    trainer.dispose();
    model.dispose();
  });

  it('orders per-position losses by position: position 0 is a one-token forward, the last the whole window', async () => {
    const { corpus, model } = setup('learned');
    const L = 12;
    const windows = sequentialWindows(corpus.val, L, 4);
    const [result] = await evalAtLengths(model, corpus.val, [L], { tokenBudget: 4 * L });
    expect(result!.windows).toBe(4);
    // The loss of predicting w[t+1] from w[0..t] alone, averaged over the windows, computed here by hand.
    const prefixLoss = (t: number): number =>
      tf.tidy(() => {
        const losses = windows.map((w) => {
          const logits = model.forward(tf.tensor2d(w.subarray(0, t + 1), [1, t + 1], 'int32')).squeeze([0]) as tf.Tensor2D; // (t+1, V)
          return -tf.logSoftmax(logits).arraySync()[t]![w[t + 1]!]!;
        });
        return losses.reduce((a, b) => a + b, 0) / losses.length;
      });
    expect(result!.perPositionLoss[0]).toBeCloseTo(prefixLoss(0), 5);
    expect(result!.perPositionLoss[L - 1]).toBeCloseTo(prefixLoss(L - 1), 5);
    // Different positions really do differ here, so a reversed order could not pass by coincidence.
    expect(Math.abs(prefixLoss(0) - prefixLoss(L - 1))).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('reports learned positions past the block as not applicable, without throwing or leaking tensors', async () => {
    const { model, corpus, tokenBudget } = setup('learned');
    const before = tf.memory().numTensors;
    const results = await evalAtLengths(model, corpus.val, defaultLengths(16), { tokenBudget });
    expect(results.map((r) => r.applicable)).toEqual([true, false, false, false]);
    expect(results[1].loss).toBeNull();
    expect(results[1].reason).toMatch(/learned has no positions past 16/);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('counts only the memory the evaluation itself adds: other tensors alive in the process do not change it', async () => {
    const { model, corpus } = setup('rope');
    const [alone] = await evalAtLengths(model, corpus.val, [32], { tokenBudget: 64 });
    const unrelated = tf.zeros([4, 1024, 1024]); // 16 MiB held by someone else, as another loaded model would be
    const [beside] = await evalAtLengths(model, corpus.val, [32], { tokenBudget: 64 });
    unrelated.dispose();
    expect(beside.peakBytes).toBe(alone.peakBytes);
    expect(alone.peakBytes).toBeLessThan(16 * 2 ** 20);
    model.dispose();
  });

  it('does not leak tensors across lengths, and memory grows with length', async () => {
    const { model, corpus, tokenBudget } = setup('alibi');
    await evalAtLengths(model, corpus.val, [16], { tokenBudget });
    const before = tf.memory().numTensors;
    const results = await evalAtLengths(model, corpus.val, [16, 32, 64, 128], { tokenBudget });
    expect(tf.memory().numTensors).toBe(before);
    // One window per batch at each length isolates the quadratic attention term.
    const single = await evalAtLengths(model, corpus.val, [32, 128], { tokenBudget: 1 });
    expect(single[1].peakBytes).toBeGreaterThan(single[0].peakBytes * 4);
    expect(results.every((r) => r.applicable)).toBe(true);
    model.dispose();
  });

  it('rejects a non-positive length with a message naming it', async () => {
    const { model, corpus, tokenBudget } = setup('none');
    await expect(evalAtLengths(model, corpus.val, [0], { tokenBudget })).rejects.toThrow(/positive integer, got 0/);
    model.dispose();
  });
});

describe('evalAtLengths under a memory limit', () => {
  it('marks a length whose single window does not fit as not applicable, with the figures, and evaluates the rest', async () => {
    const { corpus, model, tokenBudget } = setup('rope');
    // Weights (params floats) plus one window of 16 fit; one window of 48 does not (its 2·48² attention is too big).
    const window16 = (16 * 16 * 17 + 2 * 16 * 16 * 2 + 16 * model.cfg.vocabSize * 2) * 4;
    const limit = model.parameterCount * 4 + window16;
    const [short, long] = await evalAtLengths(model, corpus.val, [16, 48], { tokenBudget, memoryLimitBytes: limit });
    expect(short.applicable).toBe(true);
    expect(short.loss).not.toBeNull();
    expect(long).toMatchObject({ applicable: false, loss: null, windows: 0 });
    expect(long.reason).toMatch(/^one window of 48 needs about [\d.]+ MiB \(attention 2·48²\), more than the [\d.]+ MiB available$/);
  });
});
