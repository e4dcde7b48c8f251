/**
 * AdamW against a plain-JS transcription of torch.optim.AdamW:
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  m̂ = m/(1−β1^t);  v̂ = v/(1−β2^t)
 *   p ← p·(1 − lr·wd) − lr·m̂/(√v̂ + ε)          (the decay factor only for parameters in the decay set)
 * and the global-norm helpers against sums of squares done by hand.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { AdamW, clipByGlobalNorm, globalNorm } from '../../../src/engine/train/adamw';
import { useWasmBackend } from '../../helpers/backend';

useWasmBackend();

interface Hyper {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** Reference AdamW over plain numbers, one parameter tensor at a time. */
class ReferenceAdamW {
  t = 0;
  m: Record<string, number[]> = {};
  v: Record<string, number[]> = {};
  constructor(
    readonly params: Record<string, number[]>,
    readonly decayed: Set<string>,
    readonly h: Hyper,
  ) {
    for (const [name, p] of Object.entries(params)) {
      this.m[name] = p.map(() => 0);
      this.v[name] = p.map(() => 0);
    }
  }

  step(grads: Record<string, number[]>, lr: number): void {
    this.t += 1;
    const { beta1, beta2, eps, weightDecay } = this.h;
    for (const [name, p] of Object.entries(this.params)) {
      const g = grads[name];
      const m = this.m[name];
      const v = this.v[name];
      for (let i = 0; i < p.length; i++) {
        m[i] = beta1 * m[i] + (1 - beta1) * g[i];
        v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
        const mHat = m[i] / (1 - beta1 ** this.t);
        const vHat = v[i] / (1 - beta2 ** this.t);
        const decayFactor = this.decayed.has(name) ? 1 - lr * weightDecay : 1;
        p[i] = p[i] * decayFactor - (lr * mHat) / (Math.sqrt(vHat) + eps);
      }
    }
  }
}

const created: tf.Tensor[] = [];
afterEach(() => {
  for (const t of created.splice(0)) if (!t.isDisposed) t.dispose();
});

function variables(values: Record<string, number[]>): Map<string, tf.Variable> {
  const map = new Map<string, tf.Variable>();
  for (const [name, data] of Object.entries(values)) {
    const v = tf.variable(tf.tensor1d(data), true);
    created.push(v);
    map.set(name, v);
  }
  return map;
}

function tensors(values: Record<string, number[]>): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [name, data] of Object.entries(values)) {
    out[name] = tf.tensor1d(data);
    created.push(out[name]);
  }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]));
    expect(Math.abs(actual[i] - expected[i]) / scale, `index ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThan(tol);
  }
}

const hyper: Hyper = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
const initial = { w: [1.0, -2.0, 0.5], b: [0.25, -0.75] };
const grads1 = { w: [0.1, -0.3, 0.02], b: [-0.2, 0.05] };
const grads2 = { w: [-0.05, 0.4, 0.01], b: [0.3, -0.1] };

describe('AdamW', () => {
  it('one step matches the formula worked out by hand', () => {
    const params = variables(initial);
    const opt = new AdamW(params, new Set(['w']), hyper);
    opt.apply(tensors(grads1), 0.1);

    // At t = 1, m̂ = g and v̂ = g², so the step is lr·g/(|g| + ε) ≈ lr·sign(g):
    // w[0] = 1·(1 − 0.1·0.1) − 0.1·0.1/(0.1 + 1e-8) = 0.99 − 0.0999999900 = 0.8900000100
    const w0 = 1 * (1 - 0.1 * 0.1) - (0.1 * 0.1) / (0.1 + 1e-8);
    expect(w0).toBeCloseTo(0.89000001, 10);
    const expectedW = [w0, -2 * 0.99 + (0.1 * 0.3) / (0.3 + 1e-8), 0.5 * 0.99 - (0.1 * 0.02) / (0.02 + 1e-8)];
    // b is not in the decay set: no shrink factor.
    const expectedB = [0.25 + (0.1 * 0.2) / (0.2 + 1e-8), -0.75 - (0.1 * 0.05) / (0.05 + 1e-8)];
    expectClose(params.get('w')!.dataSync(), expectedW);
    expectClose(params.get('b')!.dataSync(), expectedB);
    expect(opt.stepCount).toBe(1);
    opt.dispose();
  });

  it('two steps match the reference implementation (different lr per step)', async () => {
    const params = variables(initial);
    const opt = new AdamW(params, new Set(['w']), hyper);
    const ref = new ReferenceAdamW(structuredClone(initial), new Set(['w']), hyper);
    opt.apply(tensors(grads1), 0.1);
    ref.step(grads1, 0.1);
    opt.apply(tensors(grads2), 0.05);
    ref.step(grads2, 0.05);

    // Spot-check the reference itself at w[1] after two steps, written out in full.
    const m1 = 0.1 * -0.3; // β1·0 + (1−β1)·g1
    const v1 = 0.05 * 0.09; // β2·0 + (1−β2)·g1²
    const m2 = 0.9 * m1 + 0.1 * 0.4;
    const v2 = 0.95 * v1 + 0.05 * 0.16;
    const after1 = -2 * (1 - 0.1 * 0.1) - (0.1 * (m1 / 0.1)) / (Math.sqrt(v1 / 0.05) + 1e-8);
    const after2 = after1 * (1 - 0.05 * 0.1) - (0.05 * (m2 / (1 - 0.81))) / (Math.sqrt(v2 / (1 - 0.9025)) + 1e-8);
    expect(ref.params.w[1]).toBeCloseTo(after2, 12);

    expectClose(params.get('w')!.dataSync(), ref.params.w);
    expectClose(params.get('b')!.dataSync(), ref.params.b);
    const state = await opt.getState();
    expect(state.t).toBe(2);
    expectClose(state.m.w, ref.m.w);
    expectClose(state.v.w, ref.v.w);
    expectClose(state.m.b, ref.m.b);
    expectClose(state.v.b, ref.v.b);
    opt.dispose();
  });

  it('applies weight decay only to parameters in the decay set', () => {
    // With zero gradients Adam's step is 0, so only the decay factor can move a parameter.
    const params = variables({ decayed: [2, -4], kept: [2, -4] });
    const opt = new AdamW(params, new Set(['decayed']), { ...hyper, weightDecay: 0.5 });
    const zero = tensors({ decayed: [0, 0], kept: [0, 0] });
    opt.apply(zero, 0.1);
    opt.apply(zero, 0.1);
    // p·(1 − 0.1·0.5)² = p·0.9025
    expectClose(params.get('decayed')!.dataSync(), [2 * 0.9025, -4 * 0.9025]);
    expect(Array.from(params.get('kept')!.dataSync())).toEqual([2, -4]);
    opt.dispose();
  });

  it('throws when a parameter has no gradient', () => {
    const params = variables({ a: [1], b: [2] });
    const opt = new AdamW(params, new Set(), hyper);
    expect(() => opt.apply(tensors({ a: [0.1] }), 0.1)).toThrow(/no gradient for parameter b/);
    opt.dispose();
  });

  it('getState/setState round-trips: a restored optimizer continues exactly like the original', async () => {
    const a = variables(initial);
    const optA = new AdamW(a, new Set(['w']), hyper);
    optA.apply(tensors(grads1), 0.1);
    optA.apply(tensors(grads2), 0.1);
    const state = await optA.getState();

    // A second copy of the parameters at A's current values, with a fresh optimizer given A's state.
    const b = variables({ w: Array.from(a.get('w')!.dataSync()), b: Array.from(a.get('b')!.dataSync()) });
    const optB = new AdamW(b, new Set(['w']), hyper);
    optB.setState(state);
    const restored = await optB.getState();
    expect(restored.t).toBe(2);
    for (const group of ['m', 'v'] as const)
      for (const name of ['w', 'b']) expect(Array.from(restored[group][name])).toEqual(Array.from(state[group][name]));

    const grads3 = { w: [0.3, 0.3, -0.3], b: [0.01, 0.02] };
    optA.apply(tensors(grads3), 0.1);
    optB.apply(tensors(grads3), 0.1);
    expect(Array.from(b.get('w')!.dataSync())).toEqual(Array.from(a.get('w')!.dataSync()));
    expect(Array.from(b.get('b')!.dataSync())).toEqual(Array.from(a.get('b')!.dataSync()));

    // A fresh optimizer (t = 0, zero moments) would have moved differently: the state matters.
    const c = variables({ w: Array.from(a.get('w')!.dataSync()), b: Array.from(a.get('b')!.dataSync()) });
    const optC = new AdamW(c, new Set(['w']), hyper);
    optC.apply(tensors(grads3), 0.1);
    expect(Array.from(c.get('w')!.dataSync())).not.toEqual(Array.from(b.get('w')!.dataSync()));
    for (const o of [optA, optB, optC]) o.dispose();
  });

  it('getState returns copies: later steps do not change a saved state', async () => {
    const params = variables(initial);
    const opt = new AdamW(params, new Set(['w']), hyper);
    opt.apply(tensors(grads1), 0.1);
    const state = await opt.getState();
    const savedM = Array.from(state.m.w);
    opt.apply(tensors(grads2), 0.1);
    expect(Array.from(state.m.w)).toEqual(savedM);
    opt.dispose();
  });

  it('setState rejects state of the wrong size or for missing parameters', async () => {
    const params = variables(initial);
    const opt = new AdamW(params, new Set(['w']), hyper);
    const good = await opt.getState();
    expect(() => opt.setState({ ...good, m: { ...good.m, w: new Float32Array(2) } })).toThrow(/state for w .*wrong size/);
    expect(() => opt.setState({ t: 1, m: { w: good.m.w }, v: good.v })).toThrow(/state for b/);
    opt.dispose();
  });

  it('does not leak tensors across steps and frees its moments on dispose', () => {
    const params = variables(initial);
    const grads = tensors(grads1);
    const before = tf.memory().numTensors;
    const opt = new AdamW(params, new Set(['w']), hyper);
    opt.apply(grads, 0.1);
    const afterOne = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) opt.apply(grads, 0.1);
    expect(tf.memory().numTensors).toBe(afterOne);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('globalNorm and clipByGlobalNorm', () => {
  it('globalNorm is the square root of the sum of squares over every gradient', () => {
    const grads = tensors({ a: [3, 4], b: [12], c: [0, 0, 0] });
    const norm = globalNorm(grads);
    created.push(norm);
    expect(norm.dataSync()[0]).toBeCloseTo(13, 5); // √(9 + 16 + 144)
    const uneven = tensors({ a: [1, -2, 2], b: [-0.5, 0.5, 0.5, 0.5] });
    const n2 = globalNorm(uneven);
    created.push(n2);
    expect(n2.dataSync()[0]).toBeCloseTo(Math.sqrt(1 + 4 + 4 + 4 * 0.25), 5); // √10
  });

  it('scales large gradients so their global norm is exactly maxNorm, keeping directions', () => {
    const grads = tensors({ a: [3, 4], b: [12] });
    const clipped = clipByGlobalNorm(grads, 13, 1);
    for (const t of Object.values(clipped)) created.push(t);
    const norm = globalNorm(clipped);
    created.push(norm);
    expect(Math.abs(norm.dataSync()[0] - 1) / 1).toBeLessThan(1e-6);
    expectClose(clipped.a.dataSync(), [3 / 13, 4 / 13]);
    expectClose(clipped.b.dataSync(), [12 / 13]);

    const big = tensors({ a: [100, -200, 300], b: [400] });
    const bigNorm = globalNorm(big);
    created.push(bigNorm);
    const clippedBig = clipByGlobalNorm(big, bigNorm.dataSync()[0], 2.5);
    for (const t of Object.values(clippedBig)) created.push(t);
    const after = globalNorm(clippedBig);
    created.push(after);
    expect(Math.abs(after.dataSync()[0] - 2.5) / 2.5).toBeLessThan(1e-6);
  });

  it('leaves gradients untouched when the norm is within maxNorm or clipping is off', () => {
    const grads = tensors({ a: [0.3, 0.4] });
    expect(clipByGlobalNorm(grads, 0.5, 1)).toBe(grads);
    expect(clipByGlobalNorm(grads, 0.5, 0.5)).toBe(grads);
    expect(clipByGlobalNorm(grads, 0.5, 0)).toBe(grads);
    expect(Array.from(grads.a.dataSync())).toEqual([Math.fround(0.3), Math.fround(0.4)]);
  });
});
