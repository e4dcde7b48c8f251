/**
 * Cross-check of the optimised paths in src/engine/model/ops.ts and train/adamw.ts: for every positional scheme
 * and norm placement, the logits, loss and every parameter gradient with all levers on (wasm fast kernels)
 * must equal those with every lever off (plain tfjs ops) and those on the pure-JS cpu backend, which the test
 * suite (wasm only) does not run. Also checks one AdamW step and that no tensors leak.
 *
 *   npx tsx bench/check-kernels.ts [--tol 1e-4]
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/engine/backend';
import { GPT, type ModelConfig } from '../src/engine/model/gpt';
import { setFastPaths } from '../src/engine/model/levers';
import { resolveSchemeOptions, SCHEME_NAMES } from '../src/engine/model/positional/registry';
import { createRng } from '../src/engine/rng';
import { AdamW } from '../src/engine/train/adamw';

const { values } = parseArgs({ options: { tol: { type: 'string', default: '1e-4' } } });
const tol = Number(values.tol);

interface Result {
  logits: Float32Array;
  loss: number;
  grads: Record<string, Float32Array>;
  stepped: Record<string, Float32Array>;
  leaked: number;
}

function config(pos: string, norm: 'pre' | 'post' | 'none', normType: 'layer' | 'rms'): ModelConfig {
  return {
    vocabSize: 13,
    nLayer: 2,
    nHead: 2,
    nEmbd: 16,
    blockSize: 8,
    pos,
    posOptions: resolveSchemeOptions(pos, {}),
    norm,
    normType,
    causal: true,
    dropoutEmbd: 0,
    dropoutAttn: 0,
    dropoutResid: 0,
  };
}

function weightsFor(model: GPT, seed: number): Record<string, Float32Array> {
  const rng = createRng(seed);
  const out: Record<string, Float32Array> = {};
  for (const p of model.layout) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    out[p.name] = Float32Array.from({ length: n }, () => (p.init === 'ones' ? 1 : 0) + 0.3 * (2 * rng.next() - 1));
  }
  return out;
}

async function run(cfg: ModelConfig, T: number): Promise<Result> {
  const before = tf.memory().numTensors;
  const model = new GPT(cfg, 1);
  model.setWeights(weightsFor(model, 7));
  const B = 3;
  const rng = createRng(11);
  const ids = Int32Array.from({ length: B * (T + 1) }, () => rng.int(cfg.vocabSize));
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    x.set(ids.subarray(b * (T + 1), b * (T + 1) + T), b * T);
    y.set(ids.subarray(b * (T + 1) + 1, (b + 1) * (T + 1)), b * T);
  }
  const result = tf.tidy(() => {
    const idx = tf.tensor2d(x, [B, T], 'int32');
    const targets = tf.tensor2d(y, [B, T], 'int32');
    const logits = model.forward(idx).dataSync() as Float32Array;
    const { value, grads } = tf.variableGrads(() => model.loss(idx, targets), [...model.params.values()]);
    const byName: Record<string, tf.Tensor> = {};
    const gradValues: Record<string, Float32Array> = {};
    for (const [name, v] of model.params) {
      byName[name] = grads[v.name];
      gradValues[name] = grads[v.name].dataSync() as Float32Array;
    }
    // One AdamW step on fixed random gradients: model gradients that are zero in exact arithmetic (a key bias
    // under softmax's shift invariance) are float noise, and Adam's first step ≈ lr·sign(g) would amplify it.
    const decayed = new Set(model.layout.filter((p) => p.decay).map((p) => p.name));
    const opt = new AdamW(model.params, decayed, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });
    const g = createRng(5);
    const fixed: Record<string, tf.Tensor> = {};
    for (const [name, v] of model.params) fixed[name] = tf.tensor(Float32Array.from({ length: v.size }, () => 2 * g.next() - 1), v.shape);
    opt.apply(fixed, 1e-2);
    opt.apply(byName, 1e-2);
    opt.dispose();
    return { logits, loss: value.dataSync()[0], grads: gradValues };
  });
  const stepped = await model.getWeights();
  model.dispose();
  return { ...result, stepped, leaked: tf.memory().numTensors - before };
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1e-3;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max / scale;
}

function compare(a: Result, b: Result): number {
  let worst = Math.max(maxRelDiff(a.logits, b.logits), Math.abs(a.loss - b.loss));
  for (const name of Object.keys(b.grads)) worst = Math.max(worst, maxRelDiff(a.grads[name], b.grads[name]), maxRelDiff(a.stepped[name], b.stepped[name]));
  return worst;
}

let failures = 0;
console.log('scheme          norm        T    fast vs plain (wasm)  fast vs cpu   leaks (fast/plain/cpu)');
for (const pos of SCHEME_NAMES) {
  for (const [norm, normType] of [['pre', 'layer'], ['post', 'rms'], ['none', 'layer']] as const) {
    const cfg = config(pos, norm, normType);
    for (const T of pos === 'learned' ? [8] : [8, 12]) {
      await initBackend('wasm');
      setFastPaths(true);
      const fast = await run(cfg, T);
      setFastPaths(false);
      const plain = await run(cfg, T);
      setFastPaths(true);
      await initBackend('cpu');
      const cpu = await run(cfg, T);
      const d1 = compare(fast, plain);
      const d2 = compare(fast, cpu);
      const ok = d1 < tol && d2 < tol && fast.leaked === 0 && plain.leaked === 0 && cpu.leaked === 0;
      if (!ok) failures++;
      console.log(
        `${pos.padEnd(16)}${`${norm}/${normType}`.padEnd(12)}${String(T).padEnd(5)}${d1.toExponential(2).padEnd(22)}${d2.toExponential(2).padEnd(14)}${fast.leaked}/${plain.leaked}/${cpu.leaked}${ok ? '' : '  FAIL'}`,
      );
    }
  }
}
console.log(failures ? `${failures} FAILED (tolerance ${tol})` : `all match within ${tol} (relative to the largest value of each tensor)`);
process.exitCode = failures ? 1 : 0;
