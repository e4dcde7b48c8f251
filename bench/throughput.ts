/**
 * Training throughput on the active backend (and optionally others): tokens/s, median ms/step after warm-up,
 * achieved GFLOP/s against the machine's matmul peak measured in the same run, memory and tensors left alive.
 *
 *   npm run bench [-- --backend wasm,cpu] [--steps 20] [--configs S,M,L] [--json out.json]
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BACKEND_NAMES, initBackend, type BackendName } from '../src/engine/backend';
import { resolveConfig } from '../src/engine/config';
import { buildCorpus } from '../src/engine/data/corpus';
import { GPT, modelConfigOf } from '../src/engine/model/gpt';
import { Trainer } from '../src/engine/train/trainer';

const CONFIGS = {
  S: { nLayer: 2, nHead: 2, nEmbd: 64, blockSize: 32, batchSize: 32 },
  M: { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, batchSize: 32 },
  L: { nLayer: 6, nHead: 6, nEmbd: 192, blockSize: 128, batchSize: 16 },
} as const;
type ConfigName = keyof typeof CONFIGS;

const { values } = parseArgs({
  options: {
    backend: { type: 'string' },
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    configs: { type: 'string', default: 'S,M' },
    json: { type: 'string' },
  },
});

/** Training FLOPs per token: 6 per parameter (forward + backward) plus attention's 6·L·T·C (PaLM appendix B). */
function flopsPerToken(params: number, c: (typeof CONFIGS)[ConfigName]): number {
  return 6 * params + 6 * c.nLayer * c.blockSize * c.nEmbd;
}

/** Peak matmul throughput of this backend: a large square 2-D matmul, best of 5. */
function matmulPeakGflops(): number {
  const n = 1024;
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  tf.matMul(a, b).dispose();
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    best = Math.min(best, performance.now() - t0);
    c.dispose();
  }
  tf.dispose([a, b]);
  return (2 * n ** 3) / (best / 1000) / 1e9;
}

async function benchConfig(name: ConfigName, steps: number, warmup: number) {
  const dims = CONFIGS[name];
  const config = resolveConfig({ ...dims, data: 'builtin:toy-english', steps: steps + warmup, evalEvery: 1_000_000, sampleEvery: 0, checkpointEvery: 0, pos: 'learned' });
  const corpus = buildCorpus({ source: config.data, blockSize: config.blockSize, seed: 1, chars: 100_000 });
  const tensorsBefore = tf.memory().numTensors;
  const model = new GPT(modelConfigOf(config, corpus.tokenizer.size), 1);
  const stepMs: number[] = [];
  let last = performance.now();
  let peakBytes = 0;
  const trainer = new Trainer({
    model,
    config,
    corpus,
    callbacks: {
      onStep: (m) => {
        const now = performance.now();
        if (m.step >= warmup) stepMs.push(now - last);
        last = now;
        peakBytes = Math.max(peakBytes, tf.memory().numBytes);
      },
    },
  });
  await trainer.run();
  const params = model.parameterCount;
  trainer.dispose();
  model.dispose();
  stepMs.sort((a, b) => a - b);
  const median = stepMs[Math.floor(stepMs.length / 2)];
  const tokensPerSecond = (dims.batchSize * dims.blockSize) / (median / 1000);
  return {
    config: name,
    params,
    msPerStep: median,
    tokensPerSecond,
    gflops: (tokensPerSecond * flopsPerToken(params, dims)) / 1e9,
    peakMB: peakBytes / 2 ** 20,
    tensorsLeft: tf.memory().numTensors - tensorsBefore,
  };
}

const backends = (values.backend?.split(',') ?? [undefined]) as (BackendName | undefined)[];
const configNames = values.configs!.split(',') as ConfigName[];
for (const name of configNames) if (!(name in CONFIGS)) throw new Error(`unknown config ${name}; choose from ${Object.keys(CONFIGS).join(', ')}`);
for (const b of backends) if (b && !BACKEND_NAMES.includes(b)) throw new Error(`unknown backend ${b}; choose from ${BACKEND_NAMES.join(', ')}`);

const rows = [];
for (const requested of backends) {
  const info = await initBackend(requested);
  const peak = matmulPeakGflops();
  console.log(`backend ${info.name} (gpu: ${info.gpu}, threads: ${info.threads}); 1024² matmul peak ${peak.toFixed(1)} GFLOP/s`);
  console.log('config  params    ms/step  tokens/s  GFLOP/s  % of peak  peak MB  tensors left');
  for (const name of configNames) {
    const r = await benchConfig(name, Number(values.steps), Number(values.warmup));
    rows.push({ backend: info.name, gpu: info.gpu, matmulPeakGflops: peak, ...r });
    console.log(
      `${name.padEnd(8)}${String(r.params).padEnd(10)}${r.msPerStep.toFixed(1).padEnd(9)}${r.tokensPerSecond.toFixed(0).padEnd(10)}${r.gflops.toFixed(2).padEnd(9)}${((100 * r.gflops) / peak).toFixed(1).padEnd(11)}${r.peakMB.toFixed(1).padEnd(9)}${r.tensorsLeft}`,
    );
  }
}
if (values.json) writeFileSync(values.json, JSON.stringify({ machine: { cpus: (await import('node:os')).cpus().length, node: process.version }, rows }, null, 2));
