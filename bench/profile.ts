/**
 * Where a training step spends its time: runs a few steps of the trainer's step body under tf.profile and
 * prints kernel time aggregated by kernel name (and the slowest kernel shapes).
 *
 *   npx tsx bench/profile.ts [--config M] [--steps 3] [--pos learned] [--shapes 25]
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/engine/backend';
import { resolveConfig } from '../src/engine/config';
import { GPT, modelConfigOf } from '../src/engine/model/gpt';
import { AdamW, clipByGlobalNorm, globalNorm } from '../src/engine/train/adamw';
import { CONFIGS, type ConfigName } from './configs';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'M' },
    steps: { type: 'string', default: '3' },
    pos: { type: 'string', default: 'learned' },
    norm: { type: 'string', default: 'pre' },
    shapes: { type: 'string', default: '25' },
    vocab: { type: 'string', default: '65' },
  },
});

await initBackend('wasm');
const dims = CONFIGS[values.config as ConfigName];
const config = resolveConfig({ ...dims, pos: values.pos, norm: values.norm as 'pre' });
const V = Number(values.vocab);
const model = new GPT(modelConfigOf(config, V), 1);
const decayed = new Set(model.layout.filter((p) => p.decay).map((p) => p.name));
const opt = new AdamW(model.params, decayed, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });
const { batchSize: B, blockSize: T } = config;
const x = Int32Array.from({ length: B * T }, (_, i) => (i * 7919) % V);
const y = Int32Array.from({ length: B * T }, (_, i) => (i * 104729 + 1) % V);

function step(): number {
  return tf.tidy(() => {
    const idx = tf.tensor2d(x, [B, T], 'int32');
    const targets = tf.tensor2d(y, [B, T], 'int32');
    const { value, grads } = tf.variableGrads(() => model.loss(idx, targets), [...model.params.values()]);
    const byName: Record<string, tf.Tensor> = {};
    for (const [name, v] of model.params) byName[name] = grads[v.name];
    const loss = value.dataSync()[0];
    const norm = globalNorm(byName).dataSync()[0];
    opt.apply(clipByGlobalNorm(byName, norm, 1), 3e-4);
    return loss;
  });
}

step();
const byKernel = new Map<string, { ms: number; calls: number }>();
const byShape = new Map<string, { ms: number; calls: number }>();
const steps = Number(values.steps);
const t0 = performance.now();
let peak = 0;
for (let s = 0; s < steps; s++) {
  const info = await tf.profile(() => void step());
  peak = Math.max(peak, info.peakBytes);
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const a = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    a.ms += ms;
    a.calls += 1;
    byKernel.set(k.name, a);
    const key = `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join(' ')} -> ${k.outputShapes.map((s) => `[${s}]`).join(' ')}`;
    const b = byShape.get(key) ?? { ms: 0, calls: 0 };
    b.ms += ms;
    b.calls += 1;
    byShape.set(key, b);
  }
}
const wall = (performance.now() - t0) / steps;
const total = [...byKernel.values()].reduce((s, k) => s + k.ms, 0) / steps;
console.log(`config ${values.config} pos ${values.pos}: wall ${wall.toFixed(1)} ms/step (profiled), kernels ${total.toFixed(1)} ms/step, ${[...byKernel.values()].reduce((s, k) => s + k.calls, 0) / steps} kernel calls/step, peak ${(peak / 2 ** 20).toFixed(1)} MB`);
for (const [name, k] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms))
  console.log(`${(k.ms / steps).toFixed(2).padStart(9)} ms ${String(k.calls / steps).padStart(5)}×  ${name}`);
console.log('slowest shapes:');
for (const [key, k] of [...byShape].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(values.shapes)))
  console.log(`${(k.ms / steps).toFixed(2).padStart(9)} ms ${String(k.calls / steps).padStart(5)}×  ${key}`);
opt.dispose();
model.dispose();
