import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface TensorFixture {
  shape: number[];
  data: number[];
}

export interface ParityCase {
  id: string;
  scheme: string;
  options: Record<string, number>;
  norm: 'pre' | 'post' | 'none';
  normType: 'layer' | 'rms';
  vocab: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  blockSize: number;
  T: number;
  idx: number[][];
  targets: number[][];
  weights: Record<string, TensorFixture>;
  logits: TensorFixture;
  loss: number;
  grads: Record<string, TensorFixture>;
}

export interface ParityFixture {
  torch: string;
  tables: {
    alibiSlopes: Record<string, number[]>;
    t5Buckets: { numBuckets: number; maxDistance: number; n: number[]; buckets: number[] }[];
    sinusoidal: { T: number; C: number; data: number[] };
    binary: { T: number; C: number; scale: number; data: number[] };
  };
  cases: ParityCase[];
}

let cached: ParityFixture | undefined;

/** test/fixtures/parity.json, written by test/fixtures/parity.py (PyTorch, float64). */
export function parityFixture(): ParityFixture {
  cached ??= JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/parity.json', import.meta.url)), 'utf8')) as ParityFixture;
  return cached;
}
