/**
 * The GPT model's own behaviour (the parity suite covers agreement with PyTorch): causal masking, loss at
 * initialisation, dropout switching, parameter layout and initialisation, finite-difference gradients. The tensor
 * ops it is built from are tested in ops.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { NORM_PLACEMENTS, NORM_TYPES } from '../../../src/engine/config';
import { GPT, parameterLayout, type ModelConfig } from '../../../src/engine/model/gpt';
import { requireScheme, SCHEME_NAMES } from '../../../src/engine/model/positional/registry';
import { createRng } from '../../../src/engine/rng';
import { useWasmBackend } from '../../helpers/backend';
import { buildModel, logitsOf, maxAbsDiff, row, tinyConfig } from '../../helpers/model';

useWasmBackend();

function randomTokens(B: number, T: number, V: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(V)));
}

function lossOf(model: GPT, idx: number[][], targets: number[][]): number {
  return tf.tidy(() => {
    const B = idx.length;
    const T = idx[0].length;
    return model.loss(tf.tensor2d(idx.flat(), [B, T], 'int32'), tf.tensor2d(targets.flat(), [B, T], 'int32')).dataSync()[0];
  });
}

function stdOf(values: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  return { mean, std: Math.sqrt(sq / values.length) };
}

// ---------------------------------------------------------------------------------------------------------------
describe('causal mask', () => {
  it.each(SCHEME_NAMES)('%s: changing token 5 leaves logits 0…4 exactly unchanged and changes 5…7', (pos) => {
    const V = 11;
    const T = 8;
    const model = buildModel({ pos, vocabSize: V, blockSize: T, posOptions: pos === 'integer' ? { scale: 0.3 } : {} }, 9);
    const before = tf.memory().numTensors;
    const a = randomTokens(2, T, V, 17);
    const b = a.map((r) => [...r]);
    b[0][5] = (a[0][5] + 3) % V;
    b[1][5] = (a[1][5] + 5) % V;
    const la = logitsOf(model, a);
    const lb = logitsOf(model, b);
    for (let item = 0; item < 2; item++) {
      for (let t = 0; t < 5; t++) expect(maxAbsDiff(row(la, T, V, t, item), row(lb, T, V, t, item)), `item ${item} t=${t}`).toBe(0);
      for (let t = 5; t < T; t++) expect(maxAbsDiff(row(la, T, V, t, item), row(lb, T, V, t, item)), `item ${item} t=${t}`).toBeGreaterThan(1e-3);
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('attention weights are zero above the diagonal and rows sum to 1; unmasked rows use every key', () => {
    const model = buildModel({ pos: 'rope', nLayer: 2 }, 10);
    const T = 6;
    const before = tf.memory().numTensors;
    const seen: { layer: number; masked: boolean; w: Float32Array }[] = [];
    for (const causal of [true, false]) {
      tf.tidy(() => {
        model.forward(tf.tensor2d(randomTokens(1, T, 11, 3).flat(), [1, T], 'int32'), {
          causal,
          onAttention: (layer, w) => {
            expect(w.shape).toEqual([1, 2, T, T]);
            seen.push({ layer, masked: causal, w: w.dataSync() as Float32Array });
            w.dispose();
          },
        });
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(seen.map((s) => s.layer)).toEqual([0, 1, 0, 1]);
    for (const { masked, w } of seen)
      for (let r = 0; r < 2 * T; r++) {
        const i = r % T;
        const rowW = w.subarray(r * T, (r + 1) * T);
        expect(Math.abs(rowW.reduce((x, y) => x + y, 0) - 1)).toBeLessThan(1e-5);
        for (let j = 0; j < T; j++) {
          if (masked && j > i) expect(rowW[j]).toBe(0);
          else expect(rowW[j]).toBeGreaterThan(0);
        }
      }
    model.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('loss at initialisation', () => {
  const V = 30;
  const idx = randomTokens(4, 16, V, 5);
  const targets = randomTokens(4, 16, V, 6);

  it.each(SCHEME_NAMES)('%s, pre-norm: ≈ ln(vocab) within 0.1', (pos) => {
    const model = new GPT(tinyConfig({ pos, vocabSize: V, nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 16 }), 1337);
    const loss = lossOf(model, idx, targets);
    expect(Math.abs(loss - Math.log(V))).toBeLessThan(0.1);
    model.dispose();
  });

  it.each([
    ['post', 'layer'],
    ['post', 'rms'],
    ['none', 'layer'],
    ['pre', 'rms'],
  ] as const)('learned, norm %s/%s: ≈ ln(vocab) within 0.1', (norm, normType) => {
    const model = new GPT(tinyConfig({ pos: 'learned', vocabSize: V, nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 16, norm, normType }), 7);
    expect(Math.abs(lossOf(model, idx, targets) - Math.log(V))).toBeLessThan(0.1);
    model.dispose();
  });

  it('a trained-looking (large-weight) model is far from ln(vocab), so the check above can fail', () => {
    const model = buildModel({ pos: 'learned', vocabSize: V, nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 16 }, 7, 0.5);
    expect(Math.abs(lossOf(model, idx, targets) - Math.log(V))).toBeGreaterThan(0.5);
    model.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('dropout', () => {
  const rates = { dropoutEmbd: 0.2, dropoutAttn: 0.2, dropoutResid: 0.2 };
  const tokens = randomTokens(2, 8, 11, 8);

  const key = { seed: 99, step: 0, firstRow: 0 };

  it('is off without a dropout key: two forwards are identical', () => {
    const model = buildModel({ pos: 'learned', ...rates }, 11);
    const plain = buildModel({ pos: 'learned' }, 11);
    const before = tf.memory().numTensors;
    expect(maxAbsDiff(logitsOf(model, tokens), logitsOf(model, tokens))).toBe(0);
    // …and equal to a dropout-free model with the same weights.
    expect(maxAbsDiff(logitsOf(model, tokens), logitsOf(plain, tokens))).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    plain.dispose();
  });

  it('is on with a key, reproducible for the same key, and different for another step or seed', () => {
    const model = buildModel({ pos: 'learned', ...rates }, 11);
    const before = tf.memory().numTensors;
    const off = logitsOf(model, tokens);
    const first = logitsOf(model, tokens, { dropout: key });
    expect(maxAbsDiff(first, off)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(logitsOf(model, tokens, { dropout: { ...key } }), first)).toBe(0);
    expect(maxAbsDiff(logitsOf(model, tokens, { dropout: { ...key, step: 1 } }), first)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(logitsOf(model, tokens, { dropout: { ...key, seed: 100 } }), first)).toBeGreaterThan(1e-3);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('row b of a batch gets the masks it gets as row 0 of a pass that starts at global row b', () => {
    const model = buildModel({ pos: 'learned', ...rates }, 11);
    const whole = logitsOf(model, tokens, { dropout: key }); // (2, T, V) flattened
    const secondRow = whole.subarray(whole.length / 2);
    expect(maxAbsDiff(logitsOf(model, [tokens[1]!], { dropout: { ...key, firstRow: 1 } }), secondRow)).toBeLessThan(1e-5);
    // …and not the masks of global row 0.
    expect(maxAbsDiff(logitsOf(model, [tokens[1]!], { dropout: key }), secondRow)).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('zero rates leave the logits as they are', () => {
    const model = buildModel({ pos: 'learned' }, 11);
    expect(maxAbsDiff(logitsOf(model, tokens, { dropout: key }), logitsOf(model, tokens))).toBe(0);
    model.dispose();
  });

  it('each kind of dropout acts on its own', () => {
    const base = buildModel({ pos: 'learned' }, 11);
    const off = logitsOf(base, tokens);
    base.dispose();
    for (const rate of ['dropoutEmbd', 'dropoutAttn', 'dropoutResid'] as const) {
      const model = buildModel({ pos: 'learned', [rate]: 0.3 }, 11);
      expect(maxAbsDiff(logitsOf(model, tokens, { dropout: key }), off), rate).toBeGreaterThan(1e-3);
      model.dispose();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('parameter layout', () => {
  const DECAYED = /^(h\.\d+\.attn\.w_qkv|h\.\d+\.attn\.w_proj|h\.\d+\.mlp\.w_fc|h\.\d+\.mlp\.w_proj|lm_head\.w)$/;

  const CORE = ['none', 'integer', 'binary', 'sinusoidal', 'learned', 'rope', 't5', 'alibi'];
  const combos: [string, string, string][] = [];
  for (const pos of CORE) for (const norm of NORM_PLACEMENTS) for (const normType of NORM_TYPES) combos.push([pos, norm, normType]);

  it('decays exactly the matmul weights, for every core scheme × norm × norm type', () => {
    for (const [pos, norm, normType] of combos) {
      const layout = parameterLayout(tinyConfig({ pos, norm: norm as ModelConfig['norm'], normType: normType as ModelConfig['normType'], nLayer: 2 }));
      const label = `${pos}/${norm}/${normType}`;
      for (const p of layout) expect(p.decay, `${label} ${p.name}`).toBe(DECAYED.test(p.name));
      expect(layout.filter((p) => p.decay).length, label).toBe(2 * 4 + 1);
      expect(new Set(layout.map((p) => p.name)).size, label).toBe(layout.length);
      for (const p of layout) {
        if (p.name === 'wte' || p.name.startsWith('pos.') || /\.(b|g)$/.test(p.name) || /\.b_/.test(p.name)) expect(p.decay, p.name).toBe(false);
      }
    }
  });

  it('every registered scheme: its pos.* params decay only when the scheme marks them as projections', () => {
    for (const pos of SCHEME_NAMES) {
      const cfg = tinyConfig({ pos, nLayer: 2 });
      const specs = new Map((requireScheme(pos).params?.({ ...cfg, headDim: cfg.nEmbd / cfg.nHead, options: cfg.posOptions }) ?? []).map((p) => [p.name, p]));
      for (const p of parameterLayout(cfg)) {
        if (p.name.startsWith('pos.')) expect(p.decay, `${pos} ${p.name}`).toBe(specs.get(p.name)!.decay ?? false);
        else expect(p.decay, `${pos} ${p.name}`).toBe(DECAYED.test(p.name));
      }
      expect([...specs.keys()].every((n) => parameterLayout(cfg).some((p) => p.name === n)), pos).toBe(true);
    }
  });

  it('norm parameters follow placement and type: post and none have no ln_f, none has no norms, rms has no .b', () => {
    const names = (norm: ModelConfig['norm'], normType: ModelConfig['normType']) =>
      parameterLayout(tinyConfig({ norm, normType, nLayer: 2 })).map((p) => p.name);
    const normNames = (ns: string[]) => ns.filter((n) => /(^|\.)ln(1|2|_f)\./.test(n));
    expect(normNames(names('pre', 'layer'))).toEqual([
      'h.0.ln1.g', 'h.0.ln1.b', 'h.0.ln2.g', 'h.0.ln2.b', 'h.1.ln1.g', 'h.1.ln1.b', 'h.1.ln2.g', 'h.1.ln2.b', 'ln_f.g', 'ln_f.b',
    ]);
    expect(normNames(names('pre', 'rms'))).toEqual(['h.0.ln1.g', 'h.0.ln2.g', 'h.1.ln1.g', 'h.1.ln2.g', 'ln_f.g']);
    expect(normNames(names('post', 'layer'))).toEqual(['h.0.ln1.g', 'h.0.ln1.b', 'h.0.ln2.g', 'h.0.ln2.b', 'h.1.ln1.g', 'h.1.ln1.b', 'h.1.ln2.g', 'h.1.ln2.b']);
    expect(normNames(names('post', 'rms'))).toEqual(['h.0.ln1.g', 'h.0.ln2.g', 'h.1.ln1.g', 'h.1.ln2.g']);
    expect(normNames(names('none', 'layer'))).toEqual([]);
    expect(normNames(names('none', 'rms'))).toEqual([]);
    for (const norm of NORM_PLACEMENTS) expect(names(norm, 'rms').some((n) => n.endsWith('.b')), norm).toBe(false);
  });

  it('parameterCount equals the sum of shapes, the variables, and the closed form 12C²+13C per layer', () => {
    const V = 65;
    const C = 48;
    const L = 3;
    const block = 64;
    const cases: [Partial<ModelConfig>, number][] = [
      // wte + wpe + layers + ln_f + lm_head
      [{ pos: 'learned', norm: 'pre', normType: 'layer' }, V * C + block * C + L * (12 * C * C + 13 * C) + 2 * C + C * V],
      // no pos params; rms norms have one vector each, two per layer
      [{ pos: 'rope', norm: 'pre', normType: 'rms' }, V * C + L * (12 * C * C + 11 * C) + C + C * V],
      // t5 adds (buckets, nh); post has no ln_f
      [{ pos: 't5', posOptions: { buckets: 32, maxDistance: 128 }, norm: 'post', normType: 'layer' }, V * C + 32 * 3 + L * (12 * C * C + 13 * C) + C * V],
      // none has no norm parameters at all
      [{ pos: 'alibi', norm: 'none', normType: 'layer' }, V * C + L * (12 * C * C + 9 * C) + C * V],
    ];
    for (const [overrides, expected] of cases) {
      const model = new GPT(tinyConfig({ vocabSize: V, nLayer: L, nHead: 3, nEmbd: C, blockSize: block, ...overrides }), 1);
      expect(model.parameterCount, JSON.stringify(overrides)).toBe(expected);
      let actual = 0;
      for (const p of model.layout) {
        const v = model.params.get(p.name)!;
        expect(v.shape, p.name).toEqual(p.shape);
        expect(v.trainable).toBe(true);
        actual += v.size;
      }
      expect(actual).toBe(expected);
      expect([...model.params.keys()]).toEqual(model.layout.map((p) => p.name));
      model.dispose();
    }
    // The nano preset with learned positions and 65 symbols: 94 224 parameters.
    expect(parameterLayout(tinyConfig({ pos: 'learned', vocabSize: 65, nLayer: 3, nHead: 3, nEmbd: 48, blockSize: 64 })).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0)).toBe(94_224);
  });

  it('initialises weights N(0, 0.02), residual projections N(0, 0.02/sqrt(2·nLayer)), biases 0 and gains 1', async () => {
    const L = 4;
    const model = new GPT(tinyConfig({ pos: 't5', vocabSize: 100, nLayer: L, nHead: 4, nEmbd: 128, blockSize: 32 }), 1234);
    const w = await model.getWeights();
    const projStd = 0.02 / Math.sqrt(2 * L);
    const expectStd = (name: string, expected: number) => {
      const { mean, std } = stdOf(w[name]);
      expect(Math.abs(std - expected) / expected, `${name} std ${std}`).toBeLessThan(0.15);
      expect(Math.abs(mean), `${name} mean`).toBeLessThan(expected / 5);
    };
    for (const layer of [0, L - 1]) {
      expectStd(`h.${layer}.mlp.w_proj`, projStd);
      expectStd(`h.${layer}.attn.w_proj`, projStd);
      expectStd(`h.${layer}.attn.w_qkv`, 0.02);
      expectStd(`h.${layer}.mlp.w_fc`, 0.02);
    }
    expectStd('wte', 0.02);
    expectStd('lm_head.w', 0.02);
    // The scaled-down projections are clearly not at 0.02.
    expect(stdOf(w['h.0.mlp.w_proj']).std).toBeLessThan(0.012);
    for (const p of model.layout) {
      if (p.init === 'zeros') expect(w[p.name].every((x) => x === 0), p.name).toBe(true);
      if (p.init === 'ones') expect(w[p.name].every((x) => x === 1), p.name).toBe(true);
    }
    // Parameters are drawn independently of one another (not the same stream twice).
    const a = w['h.0.attn.w_qkv'].subarray(0, 256);
    const b = w['h.0.mlp.w_fc'].subarray(0, 256);
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('the same seed gives the same weights; another seed different ones', async () => {
    const cfg = tinyConfig({ pos: 'learned' });
    const [a, b, c] = [new GPT(cfg, 5), new GPT(cfg, 5), new GPT(cfg, 6)];
    const [wa, wb, wc] = [await a.getWeights(), await b.getWeights(), await c.getWeights()];
    for (const name of Object.keys(wa)) expect(maxAbsDiff(wa[name], wb[name]), name).toBe(0);
    expect(maxAbsDiff(wa.wte, wc.wte)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(wa['h.1.attn.w_qkv'], wc['h.1.attn.w_qkv'])).toBeGreaterThan(1e-3);
    [a, b, c].forEach((m) => m.dispose());
  });

  it('setWeights/getWeights round-trip and reject a wrong size or a missing name', async () => {
    const model = buildModel({ pos: 't5', posOptions: { buckets: 8, maxDistance: 16 } }, 3);
    const w = await model.getWeights();
    const copy = Object.fromEntries(Object.entries(w).map(([k, v]) => [k, v.slice()]));
    const other = buildModel({ pos: 't5', posOptions: { buckets: 8, maxDistance: 16 } }, 77);
    other.setWeights(copy);
    for (const [k, v] of Object.entries(await other.getWeights())) expect(maxAbsDiff(v, w[k]), k).toBe(0);
    expect(() => other.setWeights({ ...copy, 'pos.rel_bias': new Float32Array(3) })).toThrow(/pos\.rel_bias has 3 values, expected 16/);
    const { wte: _wte, ...missing } = copy;
    expect(() => other.setWeights(missing)).toThrow(/missing weight wte/);
    model.dispose();
    other.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('gradients against central finite differences', () => {
  const V = 7;
  const T = 6;
  const idx = randomTokens(2, T, V, 21);
  const targets = randomTokens(2, T, V, 22);

  function setEntry(model: GPT, name: string, i: number, value: number): void {
    const v = model.params.get(name)!;
    const data = v.dataSync().slice() as Float32Array;
    data[i] = value;
    const t = tf.tensor(data, v.shape, 'float32');
    v.assign(t);
    t.dispose();
  }

  function check(model: GPT, names: string[]): void {
    const before = tf.memory().numTensors;
    const vars = names.map((n) => model.params.get(n)!);
    const analytic = tf.tidy(() => {
      const x = tf.tensor2d(idx.flat(), [2, T], 'int32');
      const y = tf.tensor2d(targets.flat(), [2, T], 'int32');
      const { value, grads } = tf.variableGrads(() => model.loss(x, y), vars);
      value.dispose();
      return Object.fromEntries(names.map((n, k) => [n, grads[vars[k].name].dataSync() as Float32Array]));
    });
    expect(tf.memory().numTensors).toBe(before);
    const eps = 1e-2;
    const rng = createRng(names.length * 7 + names[0].length);
    for (const name of names) {
      const g = analytic[name];
      const byMagnitude = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]));
      expect(Math.abs(g[byMagnitude[0]]), `${name} has a non-zero gradient`).toBeGreaterThan(1e-3);
      const coords = [...byMagnitude.slice(0, 5), rng.int(g.length), rng.int(g.length)];
      for (const i of coords) {
        const original = model.params.get(name)!.dataSync()[i];
        setEntry(model, name, i, original + eps);
        const up = lossOf(model, idx, targets);
        setEntry(model, name, i, original - eps);
        const down = lossOf(model, idx, targets);
        setEntry(model, name, i, original);
        const numeric = (up - down) / (2 * eps);
        const scale = Math.max(Math.abs(numeric), Math.abs(g[i]));
        expect(Math.abs(numeric - g[i]), `${name}[${i}]: numeric ${numeric} vs analytic ${g[i]}`).toBeLessThanOrEqual(2e-2 * scale + 2e-4);
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  }

  const small = { vocabSize: V, nLayer: 1, nHead: 2, nEmbd: 8, blockSize: T };

  it('learned: pos.wpe, wte and lm_head.w', () => {
    const model = buildModel({ pos: 'learned', ...small }, 31, 0.3);
    check(model, ['pos.wpe', 'wte', 'lm_head.w']);
    model.dispose();
  });

  it('t5: pos.rel_bias and the attention weights', async () => {
    const model = buildModel({ pos: 't5', posOptions: { buckets: 8, maxDistance: 16 }, ...small }, 32, 0.3);
    // Stronger relative biases make their gradient large against float32 noise.
    const w = await model.getWeights();
    model.setWeights({ ...w, 'pos.rel_bias': w['pos.rel_bias'].map((x) => 3 * x) });
    check(model, ['pos.rel_bias', 'h.0.attn.w_qkv']);
    model.dispose();
  });

  it('rope and alibi: the query/key weights through the rotation and the bias', () => {
    for (const pos of ['rope', 'alibi']) {
      const model = buildModel({ pos, ...small }, 33, 0.3);
      check(model, ['h.0.attn.w_qkv']);
      model.dispose();
    }
  });

  it('post-norm rms: norm gains and the MLP', () => {
    const model = buildModel({ pos: 'sinusoidal', norm: 'post', normType: 'rms', ...small }, 34, 0.3);
    check(model, ['h.0.ln1.g', 'h.0.mlp.w_fc', 'h.0.mlp.b_proj']);
    model.dispose();
  });
});
