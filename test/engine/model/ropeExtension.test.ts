/**
 * RoPE past its training length: the frequencies of Position Interpolation, NTK-aware scaling and YaRN (hand-computed
 * for hs = 8, base 10000, where θ = [1, 0.1, 0.01, 0.001]), their identity at s ≤ 1, p-RoPE's partial rotation,
 * and how the model takes an extension method (evaluation only, rope only).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { GPT } from '../../../src/engine/model/gpt';
import { resolveSchemeOptions } from '../../../src/engine/model/positional/registry';
import { rope, ropeFrequencies, rotatedPairs, ROPE_SCALINGS } from '../../../src/engine/model/positional/rope';
import type { SchemeContext } from '../../../src/engine/model/positional/types';
import { createRng } from '../../../src/engine/rng';
import { ROPE_SCALING_VALUES } from '../../../src/shared/api';
import { useWasmBackend } from '../../helpers/backend';
import { buildModel, gaussian, maxAbsDiff, tinyConfig } from '../../helpers/model';

useWasmBackend();

const HS = 8;
const BASE = 10000;
const PLAIN = [1, 0.1, 0.01, 0.001];

function expectClose(actual: ArrayLike<number>, expected: number[], digits = 12): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(actual[i], `pair ${i}`).toBeCloseTo(e, digits));
}

describe('ropeFrequencies', () => {
  it('is plain RoPE for every method at s = 1 and below', () => {
    for (const scaling of ROPE_SCALINGS)
      for (const scale of [1, 0.5]) {
        const f = ropeFrequencies(HS, { base: BASE, scaling, scale, trainLength: 256 });
        expectClose(f.inverseFrequencies, PLAIN);
        expect(f.qkScale).toBe(1);
      }
  });

  it('PI divides every frequency by s', () => {
    const f = ropeFrequencies(HS, { base: BASE, scaling: 'pi', scale: 4, trainLength: 16 });
    expectClose(f.inverseFrequencies, [0.25, 0.025, 0.0025, 0.00025]);
    expect(f.qkScale).toBe(1);
  });

  it('NTK raises the base to base·s^(d/(d−2)): the highest frequency stays, the lowest is interpolated like PI', () => {
    // base' = 10000·4^(4/3); θ_1 = base'^(−1/4) = 1/(10·4^(1/3)), θ_2 = 1/(100·4^(2/3)), θ_3 = 1/(1000·4).
    const f = ropeFrequencies(HS, { base: BASE, scaling: 'ntk', scale: 4, trainLength: 16 });
    expectClose(f.inverseFrequencies, [1, 1 / (10 * 4 ** (1 / 3)), 1 / (100 * 4 ** (2 / 3)), 0.00025]);
    expect(f.inverseFrequencies[1]).toBeCloseTo(0.0629960525, 9);
    expect(f.qkScale).toBe(1);
  });

  it('YaRN blends by wavelength ratio and sets the temperature 0.1·ln s + 1', () => {
    // L = 256: r = 256·θ/2π = [40.74, 4.074, 0.41, 0.04]; γ = [1, 3.074/31, 0, 0].
    const long = ropeFrequencies(HS, { base: BASE, scaling: 'yarn', scale: 4, trainLength: 256 });
    const gamma1 = (25.6 / (2 * Math.PI) - 1) / 31;
    expectClose(long.inverseFrequencies, [1, ((1 - gamma1) * 0.1) / 4 + gamma1 * 0.1, 0.0025, 0.00025]);
    expect(long.inverseFrequencies[1]).toBeCloseTo(0.0324379836, 9);
    expect(long.qkScale).toBeCloseTo(1.1386294361, 9);
    // L = 16: r_0 = 2.546, γ_0 = 0.0499: pair 0 is only slightly interpolated.
    const short = ropeFrequencies(HS, { base: BASE, scaling: 'yarn', scale: 4, trainLength: 16 });
    expectClose(short.inverseFrequencies, [0.2874148167, 0.025, 0.0025, 0.00025], 9);
  });

  it('p-RoPE rotates the highest round(p·hs/2) frequencies and leaves the rest at θ = 0', () => {
    expect([0, 0.25, 0.5, 0.6, 1].map((p) => rotatedPairs(HS, p))).toEqual([0, 1, 2, 2, 4]);
    expectClose(ropeFrequencies(HS, { base: BASE, fraction: 0.5 }).inverseFrequencies, [1, 0.1, 0, 0]);
    expectClose(ropeFrequencies(HS, { base: BASE, fraction: 0 }).inverseFrequencies, [0, 0, 0, 0]);
    expectClose(ropeFrequencies(HS, { base: BASE, fraction: 0.5, scaling: 'pi', scale: 2 }).inverseFrequencies, [0.5, 0.05, 0, 0]);
  });

  it('names the same methods as the API contract', () => {
    expect([...ROPE_SCALING_VALUES]).toEqual([...ROPE_SCALINGS]);
  });
});

function ctxOf(blockSize: number, options: Record<string, number>, extension?: string): SchemeContext {
  return { nEmbd: HS, nHead: 1, nLayer: 1, blockSize, headDim: HS, options, ...(extension ? { extension } : {}) };
}

function randomQK(T: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: T * HS }, () => gaussian(rng));
}

/** rope.rotate on (1, 1, T, hs) q and k; returns the rotated q, k and the scores q·kᵀ (T, T). */
function rotated(q: Float32Array, k: Float32Array, ctx: SchemeContext): { q: Float32Array; k: Float32Array; scores: Float32Array } {
  const T = q.length / HS;
  return tf.tidy(() => {
    const [rq, rk] = rope.rotate!(tf.tensor4d(q, [1, 1, T, HS]), tf.tensor4d(k, [1, 1, T, HS]), ctx);
    const scores = tf.matMul(tf.reshape(rq, [T, HS]), tf.reshape(rk, [T, HS]), false, true);
    return { q: rq.dataSync() as Float32Array, k: rk.dataSync() as Float32Array, scores: scores.dataSync() as Float32Array };
  });
}

describe('rope.rotate with an extension method', () => {
  const options = { base: BASE, fraction: 1 };

  it('PI at twice the block rotates position 2m as plain RoPE rotates position m', () => {
    const T = 16;
    const q = randomQK(T, 1);
    const k = randomQK(T, 2);
    const plain = rotated(q, k, ctxOf(T, options));
    const pi = rotated(q, k, ctxOf(T / 2, options, 'pi')); // s = 16 / 8 = 2
    for (const m of [1, 3, 7]) {
      // The input at 2m rotated by PI equals that same input rotated by plain rope at m.
      const inputAt2m = q.subarray(2 * m * HS, (2 * m + 1) * HS);
      const atM = new Float32Array(T * HS);
      atM.set(inputAt2m, m * HS);
      const plainAtM = rotated(atM, atM, ctxOf(T, options)).q.subarray(m * HS, (m + 1) * HS);
      expect(maxAbsDiff(pi.q.subarray(2 * m * HS, (2 * m + 1) * HS), plainAtM)).toBeLessThan(1e-6);
    }
    expect(maxAbsDiff(pi.q, plain.q)).toBeGreaterThan(1e-2);
  });

  it('leaves plain RoPE unchanged at or below the training length, for every method', () => {
    const q = randomQK(8, 3);
    const k = randomQK(8, 4);
    const plain = rotated(q, k, ctxOf(8, options));
    for (const method of ['pi', 'ntk', 'yarn']) expect(maxAbsDiff(rotated(q, k, ctxOf(8, options, method)).q, plain.q), method).toBe(0);
  });

  it('YaRN multiplies every score by (0.1·ln s + 1)² on top of its blended angles', () => {
    const T = 32;
    const q = randomQK(T, 5);
    const k = randomQK(T, 6);
    const yarn = rotated(q, k, ctxOf(8, options, 'yarn')); // s = 4
    const t = 0.1 * Math.log(4) + 1;
    // Same angles without the temperature: the scores differ by exactly t².
    const { inverseFrequencies } = ropeFrequencies(HS, { base: BASE, scaling: 'yarn', scale: 4, trainLength: 8 });
    const angles = Array.from(inverseFrequencies);
    let expected = 0;
    const [m, n] = [20, 3];
    for (let i = 0; i < HS / 2; i++) {
      const [q1, q2, k1, k2] = [q[m * HS + i], q[m * HS + i + 4], k[n * HS + i], k[n * HS + i + 4]];
      const d = (m - n) * angles[i];
      expected += (q1 * k1 + q2 * k2) * Math.cos(d) + (q1 * k2 - q2 * k1) * Math.sin(d); // ⟨R_m q, R_n k⟩ per pair
    }
    expect(yarn.scores[m * T + n] / (t * t)).toBeCloseTo(expected, 4);
  });

  it('p-RoPE with p = 0 gives a score that does not depend on position; p = 1 equals the default rope exactly', () => {
    const T = 12;
    const qVec = randomQK(1, 7);
    const kVec = randomQK(1, 8);
    const tile = (v: Float32Array): Float32Array => Float32Array.from({ length: T * HS }, (_, j) => v[j % HS]);
    const noRotation = rotated(tile(qVec), tile(kVec), ctxOf(T, { base: BASE, fraction: 0 }));
    const expected = Array.from(qVec).reduce((sum, x, i) => sum + x * kVec[i], 0);
    for (const score of noRotation.scores) expect(score).toBeCloseTo(expected, 5);
    const halfRotated = rotated(tile(qVec), tile(kVec), ctxOf(T, { base: BASE, fraction: 0.5 }));
    expect(Math.max(...halfRotated.scores) - Math.min(...halfRotated.scores)).toBeGreaterThan(1e-2);

    const q = randomQK(T, 9);
    const k = randomQK(T, 10);
    const defaults = resolveSchemeOptions('rope');
    expect(defaults).toEqual({ base: BASE, fraction: 1 });
    expect(maxAbsDiff(rotated(q, k, ctxOf(T, { base: BASE, fraction: 1 })).q, rotated(q, k, ctxOf(T, { base: BASE })).q)).toBe(0);
  });
});

describe('GPT with posExtension', () => {
  it('changes rope logits only past the block, and refuses a scheme without extensions', () => {
    const config = tinyConfig({ pos: 'rope', posOptions: { base: BASE, fraction: 1 }, blockSize: 4 });
    const plain = buildModel(config, 11);
    const yarn = buildModel({ ...config, posExtension: 'yarn' }, 11);
    const logits = (model: GPT, T: number): Float32Array =>
      tf.tidy(() => model.forward(tf.tensor2d(Array.from({ length: T }, (_, i) => i % config.vocabSize), [1, T], 'int32')).dataSync() as Float32Array);
    expect(maxAbsDiff(logits(yarn, 4), logits(plain, 4))).toBe(0);
    expect(maxAbsDiff(logits(yarn, 16), logits(plain, 16))).toBeGreaterThan(1e-6);
    plain.dispose();
    yarn.dispose();
    expect(() => new GPT({ ...config, pos: 'alibi', posOptions: {}, posExtension: 'pi' }, 1)).toThrow(/alibi has no context-extension method "pi"/);
    expect(() => new GPT({ ...config, posExtension: 'linear' }, 1)).toThrow(/offers none, pi, ntk, yarn/);
  });
});

describe('GPT with a fixed posExtensionScale (a fine-tuned run)', () => {
  const logits = (model: GPT, T: number): Float32Array =>
    tf.tidy(() => model.forward(tf.tensor2d(Array.from({ length: T }, (_, i) => (3 * i) % 11), [1, T], 'int32')).dataSync() as Float32Array);

  it('at its own block equals the parent under eval-time scaling at that length, for every method (YaRN measures L from the parent)', () => {
    const parentCfg = tinyConfig({ pos: 'rope', posOptions: { base: 100, fraction: 1 }, blockSize: 4 });
    for (const method of ['pi', 'ntk', 'yarn']) {
      const parent = buildModel({ ...parentCfg, posExtension: method }, 5);
      const child = buildModel({ ...parentCfg, blockSize: 8, posExtension: method, posExtensionScale: 2 }, 5);
      expect(maxAbsDiff(logits(child, 8), logits(parent, 8)), method).toBeLessThan(1e-6);
      parent.dispose();
      child.dispose();
    }
  });

  it('keeps s at every length: below its block it still differs from plain RoPE, where eval-time scaling does not', () => {
    const cfg = tinyConfig({ pos: 'rope', posOptions: { base: 100, fraction: 1 }, blockSize: 8 });
    const plain = buildModel(cfg, 5);
    const fixed = buildModel({ ...cfg, posExtension: 'pi', posExtensionScale: 2 }, 5);
    const halved = buildModel({ ...cfg, blockSize: 4, posExtension: 'pi' }, 5);
    const trainedAt2 = buildModel({ ...cfg, blockSize: 2, posExtension: 'pi' }, 5);
    expect(maxAbsDiff(logits(fixed, 4), logits(plain, 4))).toBeGreaterThan(1e-3);
    // PI ×2 at length 4 is the eval-time PI of a block-2-trained model at 4: angles m·θ/2 either way.
    expect(maxAbsDiff(logits(fixed, 4), logits(trainedAt2, 4))).toBeLessThan(1e-6);
    expect(maxAbsDiff(logits(halved, 4), logits(plain, 4))).toBe(0);
    for (const m of [plain, fixed, halved, trainedAt2]) m.dispose();
  });
});
