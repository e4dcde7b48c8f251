/** Sampling: greedy and top-1 are argmax, temperature-1 draws follow softmax(logits), generate is seeded and crops its context. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/engine/config';
import { GPT, modelConfigOf } from '../../../src/engine/model/gpt';
import { createRng } from '../../../src/engine/rng';
import { generate, pickToken, probabilityOf } from '../../../src/engine/train/sample';
import { useWasmBackend } from '../../helpers/backend';

useWasmBackend();

describe('pickToken', () => {
  it('temperature 0 is argmax, whatever the rng says', () => {
    const rng = createRng(1);
    expect(pickToken(new Float32Array([0.1, 2.5, -1, 2.4]), 0, 0, rng)).toBe(1);
    expect(pickToken(new Float32Array([-5, -3, -4]), 0, 0, rng)).toBe(1);
    expect(pickToken(new Float32Array([7, 1, 1]), 0, 2, rng)).toBe(0);
    expect(pickToken(new Float32Array([1, 1, 9]), -1, 0, rng)).toBe(2);
  });

  it('topK 1 always returns the argmax, at any temperature', () => {
    const rng = createRng(2);
    const logits = new Float32Array([0.3, 0.2, 0.31, -2, 0.1]);
    for (let i = 0; i < 500; i++) expect(pickToken(logits, 5, 1, rng)).toBe(2);
  });

  it('topK 2 never returns a token outside the two most likely', () => {
    const rng = createRng(3);
    const logits = new Float32Array([1, 3, 0, 2.9, -1]);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(pickToken(logits, 1, 2, rng));
    expect([...seen].sort()).toEqual([1, 3]);
  });

  it('draws logits [0, ln 2, ln 3] with probabilities 1/6, 2/6, 3/6', () => {
    const rng = createRng(12345);
    const logits = new Float32Array([0, Math.log(2), Math.log(3)]);
    const counts = [0, 0, 0];
    const n = 20_000;
    for (let i = 0; i < n; i++) counts[pickToken(logits, 1, 0, rng)]++;
    expect(Math.abs(counts[0] / n - 1 / 6)).toBeLessThan(0.02);
    expect(Math.abs(counts[1] / n - 2 / 6)).toBeLessThan(0.02);
    expect(Math.abs(counts[2] / n - 3 / 6)).toBeLessThan(0.02);
  });

  it('temperature sharpens and flattens: T = 0.5 squares the odds, so [0, ln 2, ln 3] → 1/14, 4/14, 9/14', () => {
    const rng = createRng(99);
    const logits = new Float32Array([0, Math.log(2), Math.log(3)]);
    const counts = [0, 0, 0];
    const n = 20_000;
    for (let i = 0; i < n; i++) counts[pickToken(logits, 0.5, 0, rng)]++;
    expect(Math.abs(counts[0] / n - 1 / 14)).toBeLessThan(0.02);
    expect(Math.abs(counts[1] / n - 4 / 14)).toBeLessThan(0.02);
    expect(Math.abs(counts[2] / n - 9 / 14)).toBeLessThan(0.02);
  });

  it('is deterministic for a seeded rng', () => {
    const logits = new Float32Array([0.5, 0.1, 0.9, 0.3]);
    const draw = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 50 }, () => pickToken(logits, 1, 0, rng));
    };
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
  });
});

describe('generate', () => {
  const config = resolveConfig({ nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8 });

  it('returns the requested number of in-vocabulary tokens, deterministically per rng seed, past the block size', async () => {
    const model = new GPT(modelConfigOf(config, 11), 3);
    const before = tf.memory().numTensors;
    const prompt = [1, 2, 3];
    // 20 new tokens with a block of 8: the learned table only has 8 positions, so the context must be cropped.
    const opts = (seed: number) => ({ maxNewTokens: 20, temperature: 1, topK: 0, rng: createRng(seed) });
    const a = await generate(model, prompt, opts(7));
    const b = await generate(model, prompt, opts(7));
    const c = await generate(model, prompt, opts(8));
    expect(a).toHaveLength(20);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    for (const id of a) {
      expect(Number.isInteger(id)).toBe(true);
      expect(id).toBeGreaterThanOrEqual(0);
      expect(id).toBeLessThan(11);
    }
    expect(await generate(model, prompt, { ...opts(1), maxNewTokens: 0 })).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('greedy generation picks the argmax of the model logits at each position', async () => {
    const model = new GPT(modelConfigOf(config, 11), 4);
    const prompt = [4, 0, 9];
    const out = await generate(model, prompt, { maxNewTokens: 3, temperature: 0, topK: 0, rng: createRng(0) });
    const ids = [...prompt];
    for (let n = 0; n < 3; n++) {
      const logits = tf.tidy(() => model.forward(tf.tensor2d(ids, [1, ids.length], 'int32')).arraySync()[0][ids.length - 1]);
      const argmax = logits.indexOf(Math.max(...logits));
      expect(out[n]).toBe(argmax);
      ids.push(argmax);
    }
    model.dispose();
  });

  it("reports each token with the model's softmax probability of it, the window sliding past the block", async () => {
    const model = new GPT(modelConfigOf(config, 11), 5);
    const seen: [number, number][] = [];
    const out = await generate(model, [1, 2], { maxNewTokens: 10, temperature: 1, topK: 0, rng: createRng(3), onToken: (id, p) => seen.push([id, p]) });
    expect(seen.map(([id]) => id)).toEqual(out);
    // Recompute each token's probability from the context that produced it: at most the last 8 tokens (the block).
    const text = [1, 2, ...out];
    for (let n = 0; n < 10; n++) {
      const context = text.slice(0, n + 2).slice(-8);
      const logits = tf.tidy(() => model.forward(tf.tensor2d(context, [1, context.length], 'int32')).arraySync()[0][context.length - 1]);
      expect(seen[n][1]).toBeCloseTo(probabilityOf(new Float32Array(logits), out[n]), 6);
    }
    model.dispose();
  });
});

describe('probabilityOf', () => {
  it('is softmax: logits [0, ln 2, ln 3] give 1/6, 2/6, 3/6, and huge logits do not overflow', () => {
    const logits = new Float32Array([0, Math.log(2), Math.log(3)]);
    expect(probabilityOf(logits, 0)).toBeCloseTo(1 / 6, 6);
    expect(probabilityOf(logits, 2)).toBeCloseTo(3 / 6, 6);
    expect(probabilityOf(new Float32Array([1000, 1000]), 1)).toBeCloseTo(0.5, 6);
  });
});
