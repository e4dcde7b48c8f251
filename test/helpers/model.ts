/** Small builders shared by the model tests: a tiny ModelConfig, seeded weight randomisation, array diffs. */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { GPT, type ModelConfig } from '../../src/engine/model/gpt';
import { resolveSchemeOptions } from '../../src/engine/model/positional/registry';
import { createRng, type Rng } from '../../src/engine/rng';

/** A tiny model config; posOptions get the scheme's defaults unless given. */
export function tinyConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  const pos = overrides.pos ?? 'none';
  return {
    vocabSize: 11,
    nLayer: 2,
    nHead: 2,
    nEmbd: 16,
    blockSize: 16,
    norm: 'pre',
    normType: 'layer',
    causal: true,
    dropoutEmbd: 0,
    dropoutAttn: 0,
    dropoutResid: 0,
    ...overrides,
    pos,
    posOptions: resolveSchemeOptions(pos, overrides.posOptions ?? {}),
  };
}

/** Standard normal via Box–Muller from a seeded Rng. */
export function gaussian(rng: Rng): number {
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** n draws of N(0, std²) from a seeded generator. */
export function randomArray(n: number, seed: number, std = 1): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => std * gaussian(rng));
}

/**
 * Replace every weight by seeded noise much larger than GPT's 0.02 init, so that positional effects are
 * far above float32 noise: matrices N(0, std), biases N(0, std/2), norm gains 1 + N(0, 0.1).
 */
export function randomizeWeights(model: GPT, seed: number, std = 0.4): void {
  const rng = createRng(seed);
  const weights: Record<string, Float32Array> = {};
  for (const p of model.layout) {
    const size = p.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    const isGain = p.init === 'ones';
    const isBias = p.init === 'zeros' && !p.name.startsWith('pos.');
    for (let i = 0; i < size; i++) values[i] = isGain ? 1 + 0.1 * gaussian(rng) : (isBias ? std / 2 : std) * gaussian(rng);
    weights[p.name] = values;
  }
  model.setWeights(weights);
}

export function buildModel(overrides: Partial<ModelConfig> = {}, seed = 1, randomStd: number | null = 0.4): GPT {
  const model = new GPT(tinyConfig(overrides), seed);
  if (randomStd !== null) randomizeWeights(model, seed + 1000, randomStd);
  return model;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** Logits (B·T·V, flattened) of a forward pass, computed inside tidy. */
export function logitsOf(model: GPT, tokens: number[][], opts: Parameters<GPT['forward']>[1] = {}): Float32Array {
  return tf.tidy(() => {
    const idx = tf.tensor2d(tokens.flat(), [tokens.length, tokens[0].length], 'int32');
    return model.forward(idx, opts).dataSync() as Float32Array;
  });
}

/** Row t (length V) of batch item b from flattened (B, T, V) logits. */
export function row(logits: Float32Array, T: number, V: number, t: number, b = 0): Float32Array {
  return logits.subarray((b * T + t) * V, (b * T + t + 1) * V);
}
