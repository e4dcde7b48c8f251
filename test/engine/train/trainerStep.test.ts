/**
 * The trainer's optimizer wiring, checked against a step worked out by hand in plain JS (float64):
 *   g ← g · min(1, clip / ‖g‖)                          global-norm clipping over every gradient
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  m̂ = m/(1−β1^t);  v̂ = v/(1−β2^t)
 *   p ← p·(1 − lr·wd) − lr·m̂/(√v̂ + ε)                 the decay factor on matmul weights only
 * Two steps, because at t = 1 Adam's update is lr·g/|g| whatever the betas and whatever uniform scale the clip
 * applied; at t = 2 both show. The decayed set is written out here by name, not read from the model's layout, so a
 * wrong `decay` flag fails too.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/engine/config';
import { BatchSampler, buildCorpus } from '../../../src/engine/data';
import { GPT, modelConfigOf } from '../../../src/engine/model/gpt';
import { createRng } from '../../../src/engine/rng';
import { Trainer, type StepMetrics } from '../../../src/engine/train/trainer';
import { useWasmBackend } from '../../helpers/backend';

useWasmBackend();

/** Matmul weights: attention and MLP projections and the LM head; not wte, norm gains or biases. */
const DECAYED = /^h\.\d+\.(attn\.w_qkv|attn\.w_proj|mlp\.w_fc|mlp\.w_proj)$|^lm_head\.w$/;
const EPS = 1e-8;

type Weights = Record<string, Float64Array>;

/** Gradients of the mean loss on one batch at the model's current weights, by parameter name. */
function gradientsAt(model: GPT, x: Int32Array, y: Int32Array, B: number, T: number): Weights {
  const [idx, targets] = [tf.tensor2d(x, [B, T], 'int32'), tf.tensor2d(y, [B, T], 'int32')];
  const { value, grads } = tf.variableGrads(() => model.loss(idx, targets), [...model.params.values()]);
  const byName = Object.fromEntries([...model.params].map(([name, v]) => [name, Float64Array.from(grads[v.name]!.dataSync())]));
  tf.dispose([idx, targets, value, ...Object.values(grads)]);
  return byName;
}

describe('Trainer step', () => {
  it('two steps equal clip → decoupled decay on matmul weights only → Adam(β1 0.9, β2 0.95), worked out by hand', async () => {
    const text = 'the dog chased another dog. a cat saw the dog. '.repeat(8);
    const corpus = buildCorpus({ source: 'step', text, blockSize: 6 });
    // Constant lr (lr = minLr, no warmup) and a clip far below the gradient norm, so both steps are clipped.
    const config = resolveConfig({ data: 'step', nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 6, batchSize: 3, steps: 2, lr: 1e-2, minLr: 1e-2, warmupSteps: 0, gradClip: 0.05, evalEvery: 1000, evalBatches: 1, sampleEvery: 0, checkpointEvery: 0 });
    // The defaults under test (DESIGN.md: AdamW betas (0.9, 0.95), weight decay 0.1).
    expect([config.beta1, config.beta2, config.weightDecay]).toEqual([0.9, 0.95, 0.1]);
    const { beta1, beta2, weightDecay: wd, gradClip, lr } = config;
    const { batchSize: B, blockSize: T } = config;

    const model = new GPT(modelConfigOf(config, corpus.tokenizer.size), config.seed);
    const reference = new GPT(modelConfigOf(config, corpus.tokenizer.size), config.seed + 1);
    const initial = await model.getWeights();
    reference.setWeights(initial);
    const metrics: StepMetrics[] = [];
    const trainer = new Trainer({ model, config, corpus, callbacks: { onStep: (m) => void metrics.push(m) } });
    await trainer.run();

    // The same batches the trainer draws: its sampler is seeded with config.seed.
    const sampler = new BatchSampler(corpus.train, T, B, createRng(config.seed));
    const p: Weights = Object.fromEntries(Object.entries(initial).map(([n, w]) => [n, Float64Array.from(w)]));
    const m: Weights = Object.fromEntries(Object.entries(p).map(([n, w]) => [n, new Float64Array(w.length)]));
    const v: Weights = Object.fromEntries(Object.entries(p).map(([n, w]) => [n, new Float64Array(w.length)]));
    const norms: number[] = [];
    for (let t = 1; t <= 2; t++) {
      const { x, y } = sampler.next();
      reference.setWeights(Object.fromEntries(Object.entries(p).map(([n, w]) => [n, Float32Array.from(w)])));
      const g = gradientsAt(reference, x, y, B, T);
      const norm = Math.sqrt(Object.values(g).reduce((sum, gi) => sum + gi.reduce((s, e) => s + e * e, 0), 0));
      norms.push(norm);
      const clip = Math.min(1, gradClip / norm);
      for (const name of Object.keys(p)) {
        const decay = DECAYED.test(name) ? 1 - lr * wd : 1;
        for (let i = 0; i < p[name].length; i++) {
          const gi = g[name][i] * clip;
          m[name][i] = beta1 * m[name][i] + (1 - beta1) * gi;
          v[name][i] = beta2 * v[name][i] + (1 - beta2) * gi * gi;
          const mHat = m[name][i] / (1 - beta1 ** t);
          const vHat = v[name][i] / (1 - beta2 ** t);
          p[name][i] = p[name][i] * decay - (lr * mHat) / (Math.sqrt(vHat) + EPS);
        }
      }
    }

    // Every kind of parameter is present, so each wiring mistake has something to move.
    const names = Object.keys(p);
    expect(names.filter((n) => DECAYED.test(n))).toHaveLength(5);
    expect(names).toEqual(expect.arrayContaining(['wte', 'pos.wpe', 'h.0.ln1.g', 'h.0.attn.b_qkv', 'ln_f.g']));

    // A weight of size ~0.02 decays by lr·wd·0.02 = 2e-5 a step and the LN gains by 1e-3; floats agree to ~1e-8.
    const trained = await model.getWeights();
    for (const name of names) {
      let worst = 0;
      for (let i = 0; i < p[name].length; i++) worst = Math.max(worst, Math.abs(trained[name][i] - p[name][i]));
      expect(worst, `${name}: max |trainer − hand-computed|`).toBeLessThan(1e-6);
    }
    // Both steps were clipped, and the trainer reports the norm before clipping.
    expect(norms.every((n) => n > 2 * gradClip)).toBe(true);
    metrics.forEach((s, i) => expect(s.gradNorm).toBeCloseTo(norms[i], 4));

    trainer.dispose();
    model.dispose();
    reference.dispose();
  });
});
