/**
 * Experiment (not used by the app): data-parallel training on both cores. tfjs-wasm runs single-threaded in
 * Node, so W ranks (the main thread plus W−1 worker_threads, each with its own wasm instance) each take
 * B/W rows of every batch, exchange gradients through a SharedArrayBuffer, average them and apply the same
 * AdamW step to their own replica, so the replicas stay identical without sending weights.
 *
 * Every rank draws the same batches from the same seeded sampler and keeps its own rows, so W ranks train on
 * exactly the batches one process would. The run checks that: after the timed steps it compares rank 0's
 * weights with a single-process run of the same steps (max |Δ|, float32 summation order differs) and that all
 * replicas hold identical weights.
 *
 *   npx tsx bench/data-parallel.ts [--configs S,M,L] [--workers 2] [--steps 12] [--warmup 3] [--repeat 2] [--torch auto|off]
 */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { initBackend } from '../src/engine/backend';
import { resolveConfig } from '../src/engine/config';
import { buildCorpus } from '../src/engine/data/corpus';
import { BatchSampler } from '../src/engine/data/batches';
import { GPT, modelConfigOf } from '../src/engine/model/gpt';
import { createRng } from '../src/engine/rng';
import { AdamW, clipByGlobalNorm, globalNorm } from '../src/engine/train/adamw';
import { CONFIGS, type ConfigName } from './configs';
import { torchAvailable, torchConfig } from './torch';

interface Job {
  config: ConfigName;
  world: number;
  steps: number;
  sab: SharedArrayBuffer;
}

interface RankResult {
  stepMs: number[];
  weights: Record<string, Float32Array>;
  losses: number[];
}

/** Layout of the shared buffer: per-rank progress counters, then per-rank double-buffered gradients. */
function views(sab: SharedArrayBuffer, world: number, paramCount: number) {
  const ctrl = new Int32Array(sab, 0, 16);
  const grads = (parity: number, rank: number) => new Float32Array(sab, 64 + 4 * paramCount * (parity * world + rank), paramCount);
  return { ctrl, grads };
}

function sabBytes(world: number, paramCount: number): number {
  return 64 + 4 * paramCount * 2 * world;
}

function setup(name: ConfigName, steps: number) {
  const dims = CONFIGS[name];
  const config = resolveConfig({ ...dims, data: 'builtin:toy-english', steps, pos: 'learned', lr: 3e-4, minLr: 3e-4, evalEvery: 1_000_000, sampleEvery: 0, checkpointEvery: 0 });
  const corpus = buildCorpus({ source: config.data, blockSize: config.blockSize, seed: 1, chars: 100_000 });
  const model = new GPT(modelConfigOf(config, corpus.tokenizer.size), 1);
  return { dims, config, corpus, model };
}

/** One rank's training loop; rank 0 runs on the main thread, the others in workers. */
async function rankLoop(rank: number, job: Job, ready?: () => void): Promise<RankResult> {
  await initBackend('wasm');
  const { dims, config, corpus, model } = setup(job.config, job.steps);
  ready?.();
  const { world } = job;
  const B = dims.batchSize;
  const T = dims.blockSize;
  if (B % world !== 0) throw new Error(`batch ${B} does not split over ${world} ranks`);
  const rows = B / world;
  const decayed = new Set(model.layout.filter((p) => p.decay).map((p) => p.name));
  const opt = new AdamW(model.params, decayed, { beta1: config.beta1, beta2: config.beta2, eps: 1e-8, weightDecay: config.weightDecay });
  const sampler = new BatchSampler(corpus.train, T, B, createRng(config.seed));
  const names = [...model.params.keys()];
  const offsets: number[] = [];
  let total = 0;
  for (const n of names) {
    offsets.push(total);
    total += model.params.get(n)!.size;
  }
  const { ctrl, grads } = views(job.sab, world, total);
  const stepMs: number[] = [];
  const losses: number[] = [];
  for (let step = 0; step < job.steps; step++) {
    const t0 = performance.now();
    const { x, y } = sampler.next();
    const xs = x.subarray(rank * rows * T, (rank + 1) * rows * T);
    const ys = y.subarray(rank * rows * T, (rank + 1) * rows * T);
    const loss = tf.tidy(() => {
      const idx = tf.tensor2d(xs, [rows, T], 'int32');
      const targets = tf.tensor2d(ys, [rows, T], 'int32');
      const { value, grads: g } = tf.variableGrads(() => model.loss(idx, targets), [...model.params.values()]);
      const mine = grads(step % 2, rank);
      names.forEach((n, i) => mine.set(g[model.params.get(n)!.name].dataSync() as Float32Array, offsets[i]));
      return value.dataSync()[0];
    });
    Atomics.store(ctrl, rank, step + 1);
    Atomics.notify(ctrl, rank);
    for (let r = 0; r < world; r++) {
      if (r === rank) continue;
      while (Atomics.load(ctrl, r) < step + 1) Atomics.wait(ctrl, r, Atomics.load(ctrl, r), 1000);
    }
    tf.tidy(() => {
      // Mean over ranks of the per-rank mean gradients = the gradient of the full batch's mean loss.
      const sum = new Float32Array(total);
      for (let r = 0; r < world; r++) {
        const g = grads(step % 2, r);
        for (let i = 0; i < total; i++) sum[i] += g[i];
      }
      const byName: Record<string, tf.Tensor> = {};
      names.forEach((n, i) => {
        const p = model.params.get(n)!;
        byName[n] = tf.mul(tf.tensor(sum.subarray(offsets[i], offsets[i] + p.size), p.shape), 1 / world);
      });
      const norm = globalNorm(byName).dataSync()[0];
      opt.apply(clipByGlobalNorm(byName, norm, config.gradClip), config.lr);
    });
    losses.push(loss);
    stepMs.push(performance.now() - t0);
    if (process.env.DP_DEBUG) console.error(`rank ${rank} step ${step} ${(performance.now() - t0).toFixed(1)} ms`);
  }
  const weights = model.getWeights();
  opt.dispose();
  model.dispose();
  return { stepMs, weights, losses };
}

async function runParallel(name: ConfigName, world: number, steps: number): Promise<RankResult & { identicalReplicas: boolean }> {
  const probe = setup(name, steps);
  const paramCount = probe.model.parameterCount;
  probe.model.dispose();
  const sab = new SharedArrayBuffer(sabBytes(world, paramCount));
  const job: Job = { config: name, world, steps, sab };
  const ready: Promise<void>[] = [];
  const workers = Array.from({ length: world - 1 }, (_, i) => {
    const w = new Worker(new URL('./dp-worker.mjs', import.meta.url), { workerData: { rank: i + 1, job } });
    let signalReady: () => void = () => {};
    ready.push(new Promise<void>((resolve) => (signalReady = resolve)));
    return new Promise<RankResult>((resolve, reject) => {
      w.on('message', (m: RankResult | 'ready') => (m === 'ready' ? signalReady() : resolve(m)));
      w.once('error', reject);
    });
  });
  // The main thread blocks in Atomics.wait during its steps: start only once every worker is running.
  await Promise.race([Promise.all(ready), ...workers.map((w) => w.then(() => Promise.reject(new Error('worker ended early'))))]);
  const mine = await rankLoop(0, job);
  const others = await Promise.all(workers);
  const identicalReplicas = others.every((o) => Object.entries(o.weights).every(([n, w]) => w.every((v, i) => v === mine.weights[n][i])));
  return { ...mine, identicalReplicas };
}

const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];

if (!isMainThread) {
  const { rank, job } = workerData as { rank: number; job: Job };
  const result = await rankLoop(rank, job, () => parentPort!.postMessage('ready'));
  parentPort!.postMessage(result);
} else {
  const { values } = parseArgs({
    options: {
      configs: { type: 'string', default: 'S,M,L' },
      workers: { type: 'string', default: String(typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length) },
      steps: { type: 'string', default: '12' },
      warmup: { type: 'string', default: '3' },
      repeat: { type: 'string', default: '2' },
      torch: { type: 'string', default: 'auto' },
      python: { type: 'string', default: '/usr/bin/python3' },
    },
  });
  const world = Number(values.workers);
  const steps = Number(values.steps);
  const warmup = Number(values.warmup);
  const torch = { python: values.python!, threads: world, mode: values.torch as 'auto' | 'on' | 'off' };
  const useTorch = torchAvailable(torch);
  console.log(`data-parallel over ${world} ranks (main thread + ${world - 1} worker threads), load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('config  1 rank tok/s  W ranks tok/s  speed-up  torch tok/s  ratio(1)  ratio(W)  max|Δw| vs 1 rank  replicas equal');
  for (const name of values.configs!.split(',') as ConfigName[]) {
    const dims = CONFIGS[name];
    const tokens = dims.batchSize * dims.blockSize;
    let best1 = 0;
    let bestW = 0;
    let bestTorch = 0;
    let diff = 0;
    let equal = true;
    for (let r = 0; r < Number(values.repeat); r++) {
      const single = await runParallel(name, 1, steps + warmup);
      const parallel = await runParallel(name, world, steps + warmup);
      best1 = Math.max(best1, tokens / (median(single.stepMs.slice(warmup)) / 1000));
      bestW = Math.max(bestW, tokens / (median(parallel.stepMs.slice(warmup)) / 1000));
      for (const [n, w] of Object.entries(single.weights)) for (let i = 0; i < w.length; i++) diff = Math.max(diff, Math.abs(w[i] - parallel.weights[n][i]));
      equal &&= parallel.identicalReplicas;
      if (useTorch) {
        const probe = setup(name, 1);
        const vocab = probe.corpus.tokenizer.size;
        probe.model.dispose();
        bestTorch = Math.max(bestTorch, torchConfig(torch, name, vocab, steps, warmup).tokensPerSecond ?? 0);
      }
    }
    const fmt = (v: number, w: number, d = 0) => (v > 0 ? v.toFixed(d) : '—').padEnd(w);
    console.log(
      `${name.padEnd(8)}${fmt(best1, 14)}${fmt(bestW, 15)}${fmt(bestW / best1, 10, 2)}${fmt(bestTorch, 13)}${fmt(bestTorch ? best1 / bestTorch : 0, 10, 3)}${fmt(bestTorch ? bestW / bestTorch : 0, 10, 3)}${diff.toExponential(2).padEnd(19)}${equal}`,
    );
  }
}
