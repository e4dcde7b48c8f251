/**
 * Probes that show how a model knows where tokens are: attention maps, the additive position table,
 * the logit-bias matrices, RoPE's long-term decay, and the permutation-equivariance demo.
 */
import * as tf from '@tensorflow/tfjs';
import { CharTokenizer, type Tokenizer } from '../data/tokenizer';
import { GPT, type ModelConfig } from '../model/gpt';
import { takeValues } from '../read';
import { SCHEMES, resolveSchemeOptions } from '../model/positional/registry';

export const PROBE_KINDS = ['attention', 'pe-table', 'bias', 'rope-decay', 'equivariance'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

export const EQUIVARIANCE_TEXT = 'the dog chased another dog';

/** Attention weights for `ids`: [layer][head] → T×T, row = query position (rows sum to 1). */
export async function attentionMaps(model: GPT, ids: ArrayLike<number>): Promise<number[][][][]> {
  const T = ids.length;
  const perLayer: tf.Tensor4D[] = []; // each (1, nh, T, T)
  tf.tidy(() => {
    model.forward(tf.tensor2d(Array.from(ids), [1, T], 'int32'), { onAttention: (layer, weights) => (perLayer[layer] = weights) });
  });
  const values = await Promise.all(perLayer.map(takeValues));
  return values.map((data) =>
    Array.from({ length: model.cfg.nHead }, (_, h) => Array.from({ length: T }, (_, i) => Array.from(data.subarray((h * T + i) * T, (h * T + i + 1) * T)))),
  );
}

/** The (T, C) table an additive scheme adds to the input, or null for schemes that add nothing. */
export async function positionTable(model: GPT, T: number): Promise<number[][] | null> {
  if (!model.scheme.inputTable) return null;
  const C = model.cfg.nEmbd;
  const data = await takeValues(tf.tidy(() => model.scheme.inputTable!(T, model.schemeContext, model.paramTensors())));
  return Array.from({ length: T }, (_, t) => Array.from(data.subarray(t * C, (t + 1) * C)));
}

/** The per-head (T, T) bias a bias scheme adds to the logits, or null for the others. */
export async function biasMatrices(model: GPT, T: number): Promise<number[][][] | null> {
  if (!model.scheme.logitBias) return null;
  const data = await takeValues(tf.tidy(() => model.scheme.logitBias!(T, model.schemeContext, model.paramTensors())));
  return Array.from({ length: model.cfg.nHead }, (_, h) => Array.from({ length: T }, (_, i) => Array.from(data.subarray((h * T + i) * T, (h * T + i + 1) * T))));
}

export interface EquivarianceRow {
  scheme: string;
  causal: boolean;
  /** max |output(first "dog") − output(second "dog")| over the word's characters and the logits. */
  difference: number;
  /** max |logit| over the word's characters at both places: what the difference is small or large against. */
  scale: number;
  /** True when the two identical words get identical outputs: difference at most TIE_TOLERANCE · scale. */
  tied: boolean;
}

/** Character positions of the first and second occurrence of `word` in `text`. */
function twoOccurrences(text: string, word: string): [number, number] {
  const first = text.indexOf(word);
  const second = first < 0 ? -1 : text.indexOf(word, first + 1);
  if (first < 0 || second < 0) throw new Error(`the probe text must contain "${word}" twice, got ${JSON.stringify(text)}`);
  return [first, second];
}

/**
 * Relative tolerance for "tied". float32 rounding grows with the values a forward pass carries: integer PE adds t to
 * every dimension before LayerNorm subtracts it again, leaving ~1e-4 of noise on logits of order 10, while a scheme
 * that does tell the words apart differs by a sizeable fraction of the logits.
 */
export const TIE_TOLERANCE = 1e-4;

/** max |logits row a+k − logits row b+k| for k over the word, and max |logit| over those rows (one read). */
export async function wordOutputDifference(model: GPT, ids: Int32Array, positions: [number, number], wordLength: number, causal: boolean): Promise<{ difference: number; scale: number }> {
  const measured = tf.tidy(() => {
    const T = ids.length;
    const logits = model.forward(tf.tensor2d(ids, [1, T], 'int32'), { causal }).squeeze([0]) as tf.Tensor2D; // (T, V)
    const a = tf.slice(logits, [positions[0], 0], [wordLength, -1]);
    const b = tf.slice(logits, [positions[1], 0], [wordLength, -1]);
    return tf.stack([tf.max(tf.abs(tf.sub(a, b))), tf.max(tf.abs(tf.concat([a, b])))]); // [difference, scale]
  });
  const [difference, scale] = await takeValues(measured);
  return { difference: difference!, scale: scale! };
}

/**
 * The "dog chased another dog" demo. With fresh weights every scheme is built with the same seed; with a
 * trained model only its own scheme is measured. Without PE and without a mask the two "dog"s are tied;
 * unmasked ALiBi ties them too, because −m(i−j) = −m·i + m·j and −m·i is constant along a softmax row.
 */
export async function equivarianceProbe(opts: { text?: string; word?: string; trained?: { model: GPT; tokenizer: Tokenizer }; seed?: number }): Promise<EquivarianceRow[]> {
  const text = opts.text ?? EQUIVARIANCE_TEXT;
  const word = opts.word ?? 'dog';
  const positions = twoOccurrences(text, word);
  const measure = (model: GPT, ids: Int32Array): Promise<EquivarianceRow[]> =>
    Promise.all(
      [false, true].map(async (causal) => {
        const { difference, scale } = await wordOutputDifference(model, ids, positions, word.length, causal);
        return { scheme: model.scheme.name, causal, difference, scale, tied: difference <= TIE_TOLERANCE * scale };
      }),
    );
  if (opts.trained) return measure(opts.trained.model, opts.trained.tokenizer.encode(text));

  const tokenizer = CharTokenizer.fromText(text);
  const ids = tokenizer.encode(text);
  const rows: EquivarianceRow[] = [];
  for (const scheme of SCHEMES) {
    const cfg: ModelConfig = {
      vocabSize: tokenizer.size,
      nLayer: 2,
      nHead: 4,
      nEmbd: 32,
      blockSize: Math.max(32, text.length),
      pos: scheme.name,
      posOptions: resolveSchemeOptions(scheme.name),
      norm: 'pre',
      normType: 'layer',
      causal: true,
      dropoutEmbd: 0,
      dropoutAttn: 0,
      dropoutResid: 0,
    };
    const model = new GPT(cfg, opts.seed ?? 1234);
    // minGPT's init (std 0.02) makes every scheme's effect tiny; probe with visible weights instead.
    const values = await Promise.all(model.layout.map((p, i) => randomValues(p.shape, i + (opts.seed ?? 1234), p.init)));
    model.setWeights(Object.fromEntries(model.layout.map((p, i) => [p.name, values[i]!])));
    try {
      rows.push(...(await measure(model, ids)));
    } finally {
      model.dispose();
    }
  }
  return rows;
}

async function randomValues(shape: number[], seed: number, init: 'normal' | 'zeros' | 'ones'): Promise<Float32Array> {
  if (init === 'ones') return new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1);
  return takeValues(tf.randomNormal(shape, 0, init === 'zeros' ? 0.1 : 0.5, 'float32', seed));
}
