/**
 * The matmuls of a training step, one shape at a time, on tfjs-wasm's XNNPACK kernel and on the machine's BLAS
 * (native/blas), in the same process: GFLOP/s of each and their ratio. The shapes are each config's linear layers
 * (forward, dX = dY·Wᵀ, dW = Xᵀ·dY) and one attention slice (T×hs · hs×T), plus 1024² for the peak.
 *
 *   npx tsx bench/matmul.ts [--configs S,M,L] [--repeat 20]
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/engine/backend';
import { nativeGemm } from '../src/engine/model/nativeGemm';
import { gemm } from '../src/engine/model/wasmKernels';
import { CONFIGS, type ConfigName } from './configs';

const { values } = parseArgs({ options: { configs: { type: 'string', default: 'S,M,L' }, repeat: { type: 'string', default: '20' } } });
const repeat = Number(values.repeat);
await initBackend('wasm');
const blas = nativeGemm();
if (!blas) throw new Error('no native BLAS in this process (see src/engine/model/nativeGemm.ts): nothing to compare');

/** Median ms of `f` over `repeat` runs after one warm-up; each run's output is read back and freed. */
function medianMs(f: () => tf.Tensor): number {
  f().dispose();
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    const out = f();
    out.dataSync();
    times.push(performance.now() - t0);
    out.dispose();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

interface Shape {
  what: string;
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
}

function shapesOf(name: ConfigName): Shape[] {
  const { nEmbd: C, blockSize: T, batchSize: B, nHead } = CONFIGS[name];
  const N = B * T;
  const plain = (what: string, m: number, k: number, n: number): Shape => ({ what, m, k, n, transposeA: false, transposeB: false });
  return [
    plain('qkv forward', N, C, 3 * C),
    plain('mlp up forward', N, C, 4 * C),
    plain('mlp down forward', N, 4 * C, C),
    { what: 'mlp down dX = dY·Wᵀ', m: N, k: C, n: 4 * C, transposeA: false, transposeB: true },
    { what: 'mlp down dW = Xᵀ·dY', m: 4 * C, k: N, n: C, transposeA: true, transposeB: false },
    plain('attention slice q·kᵀ', T, C / nHead, T),
  ];
}

console.log(`${'config'.padEnd(7)}${'product'.padEnd(24)}${'m×k·k×n'.padEnd(20)}${'XNNPACK GF/s'.padEnd(14)}${'BLAS GF/s'.padEnd(11)}ratio`);
const shapes: [string, Shape][] = [['-', { what: '1024² peak', m: 1024, k: 1024, n: 1024, transposeA: false, transposeB: false }]];
for (const name of values.configs!.split(',') as ConfigName[]) for (const s of shapesOf(name)) shapes.push([name, s]);
for (const [config, s] of shapes) {
  const a = tf.randomNormal(s.transposeA ? [s.k, s.m] : [s.m, s.k]) as tf.Tensor2D;
  const b = tf.randomNormal(s.transposeB ? [s.n, s.k] : [s.k, s.n]) as tf.Tensor2D;
  // XNNPACK as the fallback path runs it: an explicit transpose, then the plain 2-D matmul.
  const xnn = medianMs(() => tf.tidy(() => tf.matMul(s.transposeA ? tf.transpose(a) : a, s.transposeB ? tf.transpose(b) : b)));
  const native = medianMs(() => gemm(a, b, s.transposeA, s.transposeB));
  const gflop = (2 * s.m * s.k * s.n) / 1e6;
  console.log(
    `${config.padEnd(7)}${s.what.padEnd(24)}${`${s.m}×${s.k}·${s.k}×${s.n}`.padEnd(20)}${(gflop / xnn).toFixed(1).padEnd(14)}${(gflop / native).toFixed(1).padEnd(11)}${(xnn / native).toFixed(2)}`,
  );
  a.dispose();
  b.dispose();
}
console.log(`BLAS: ${blas.config} (${blas.library}), one thread`);
