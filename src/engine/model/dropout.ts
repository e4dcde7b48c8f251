/**
 * Dropout masks that depend only on (run seed, step, global row, site): row r of a batch gets the same mask whether
 * the batch trains on one thread or is split over several, so a run's numbers do not depend on its thread count and
 * a resume needs no random-stream state. The masks are drawn here in JavaScript (mulberry32), not by a tfjs op, so
 * they are also the same on every backend and machine.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../rng';

/** Which masks a training forward pass draws. `firstRow`: the global index of the pass's row 0 within the batch. */
export interface DropoutKey {
  seed: number;
  step: number;
  firstRow: number;
}

/** The dropout sites of a forward pass, numbered so that every site of every layer has its own masks. */
export const DROPOUT_SITE = {
  embedding: 0,
  attentionWeights: (layer: number) => 1 + 3 * layer,
  attentionOutput: (layer: number) => 2 + 3 * layer,
  mlpOutput: (layer: number) => 3 + 3 * layer,
} as const;

/** A 32-bit hash of several integers (murmur3's finaliser folded over them): neighbouring inputs share no bits. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/**
 * Inverted dropout on x (rows first: (B, …)): each element is zeroed with probability `rate` and the rest scaled by
 * 1 / (1 − rate). Row b's mask is drawn from its own stream keyed by (seed, step, firstRow + b, site).
 */
export function rowDropout(x: tf.Tensor, rate: number, key: DropoutKey, site: number): tf.Tensor {
  const [rows, ...rest] = x.shape;
  const perRow = rest.reduce((a, b) => a * b, 1);
  const keep = 1 / (1 - rate);
  const mask = new Float32Array(rows! * perRow);
  for (let b = 0; b < rows!; b++) {
    const rng = createRng(mixSeed(key.seed, key.step, key.firstRow + b, site));
    for (let i = b * perRow, end = i + perRow; i < end; i++) mask[i] = rng.next() < rate ? 0 : keep;
  }
  return tf.mul(x, tf.tensor(mask, x.shape, 'float32'));
}
