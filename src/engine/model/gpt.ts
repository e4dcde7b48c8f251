/**
 * A minGPT-style decoder with switchable positional scheme and norm placement.
 *
 *   x = wte[idx] (+ scheme input table)                 (B, T, C)
 *   per block, pre-norm:  x = x + attn(ln1(x)); x = x + mlp(ln2(x))
 *              post-norm: x = ln1(x + attn(x)); x = ln2(x + mlp(x))
 *              none:      x = x + attn(x);      x = x + mlp(x)
 *   pre-norm only: x = ln_f(x)   (post-norm already ends on a norm)
 *   logits = x @ lm_head                                (B, T, V)
 *
 * Weights are stored (in, out), so every projection is y = x @ W + b.
 */
import * as tf from '@tensorflow/tfjs';
import type { AttnLogScaling, NormPlacement, NormType, RunConfig } from '../config';
import { createRng } from '../rng';
import { DROPOUT_SITE, rowDropout, type DropoutKey } from './dropout';
import { EVALUATION_POSITIONS_KEY, drawPositions, randomPositionsRefusal } from './randomPositions';
import { logScaleFactors } from './logScaling';
import { requireScheme } from './positional/registry';
import type { Params, PositionalScheme, SchemeContext } from './positional/types';
import { PositionRangeError } from './positional/types';
import { readAll } from '../read';
import { batchMatMul, canFuseAttention, crossEntropy, fusedAttention, gelu, layerNorm, linear, matMul2d, oneHotFloat, rmsNorm, splitAxis1 } from './ops';

export interface ModelConfig {
  vocabSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  blockSize: number;
  pos: string;
  posOptions: Record<string, number>;
  norm: NormPlacement;
  normType: NormType;
  causal: boolean;
  dropoutEmbd: number;
  dropoutAttn: number;
  dropoutResid: number;
  /** Ablation: false drops the 1/sqrt(d) score scaling (default true). */
  attnScale?: boolean;
  /** Log-n scaling of each query's logits past blockSize (default none; see logScaling.ts). */
  attnLogScaling?: AttnLogScaling;
  /** Ablation: false leaves only the positional signal, no token embedding (default true). */
  tokenEmbedding?: boolean;
  /** The scheme's context-extension method (see PositionalScheme.extensions): evaluation only unless fixed below. */
  posExtension?: string;
  /** A fine-tuned run's fixed scale factor for `posExtension` (SchemeContext.extensionScale). */
  posExtensionScale?: number;
  /** Randomized positions (see randomPositions.ts): each sequence reads sorted positions drawn from [0, L); absent = off. */
  randomPositions?: number;
}

export function modelConfigOf(config: RunConfig, vocabSize: number): ModelConfig {
  const { nLayer, nHead, nEmbd, blockSize, pos, posOptions, norm, normType, causal, dropoutEmbd, dropoutAttn, dropoutResid, attnScale, attnLogScaling, tokenEmbedding, randomPositions } = config;
  const model: ModelConfig = { vocabSize, nLayer, nHead, nEmbd, blockSize, pos, posOptions, norm, normType, causal, dropoutEmbd, dropoutAttn, dropoutResid, attnScale, attnLogScaling, tokenEmbedding };
  const extended = config.posExtension ? { ...model, posExtension: config.posExtension.method, posExtensionScale: config.posExtension.scale } : model;
  return randomPositions ? { ...extended, randomPositions } : extended;
}

export interface ParamInfo {
  name: string;
  shape: number[];
  /** AdamW decays matmul weights only: not biases, norm gains, embeddings or scheme tables. */
  decay: boolean;
  std: number;
  init: 'normal' | 'zeros' | 'ones';
}

/** Dropout is active only when `dropout` is given (training); evaluation passes none. */
export interface ForwardOptions {
  /** The training pass's key: its dropout masks and, in a randomized-positions run, its rows' positions. */
  dropout?: DropoutKey;
  /** Overrides the config's causal flag (the equivariance probe compares both). */
  causal?: boolean;
  /** Receives each layer's attention weights (B, nh, T, T); the caller owns (must dispose) them. */
  onAttention?: (layer: number, weights: tf.Tensor4D) => void;
}

export function parameterLayout(cfg: ModelConfig): ParamInfo[] {
  const C = cfg.nEmbd;
  const std = 0.02;
  // GPT-2: residual projections scaled down so the residual stream's variance does not grow with depth.
  const projStd = 0.02 / Math.sqrt(2 * cfg.nLayer);
  const norm = (prefix: string): ParamInfo[] =>
    cfg.normType === 'layer'
      ? [
          { name: `${prefix}.g`, shape: [C], decay: false, std: 0, init: 'ones' },
          { name: `${prefix}.b`, shape: [C], decay: false, std: 0, init: 'zeros' },
        ]
      : [{ name: `${prefix}.g`, shape: [C], decay: false, std: 0, init: 'ones' }];
  const layout: ParamInfo[] = cfg.tokenEmbedding !== false ? [{ name: 'wte', shape: [cfg.vocabSize, C], decay: false, std, init: 'normal' }] : [];
  for (const spec of requireScheme(cfg.pos).params?.(schemeContext(cfg)) ?? [])
    layout.push({ name: spec.name, shape: spec.shape, decay: spec.decay ?? false, std, init: spec.init });
  for (let i = 0; i < cfg.nLayer; i++) {
    const h = `h.${i}`;
    if (cfg.norm !== 'none') layout.push(...norm(`${h}.ln1`));
    layout.push(
      { name: `${h}.attn.w_qkv`, shape: [C, 3 * C], decay: true, std, init: 'normal' },
      { name: `${h}.attn.b_qkv`, shape: [3 * C], decay: false, std: 0, init: 'zeros' },
      { name: `${h}.attn.w_proj`, shape: [C, C], decay: true, std: projStd, init: 'normal' },
      { name: `${h}.attn.b_proj`, shape: [C], decay: false, std: 0, init: 'zeros' },
    );
    if (cfg.norm !== 'none') layout.push(...norm(`${h}.ln2`));
    layout.push(
      { name: `${h}.mlp.w_fc`, shape: [C, 4 * C], decay: true, std, init: 'normal' },
      { name: `${h}.mlp.b_fc`, shape: [4 * C], decay: false, std: 0, init: 'zeros' },
      { name: `${h}.mlp.w_proj`, shape: [4 * C, C], decay: true, std: projStd, init: 'normal' },
      { name: `${h}.mlp.b_proj`, shape: [C], decay: false, std: 0, init: 'zeros' },
    );
  }
  if (cfg.norm === 'pre') layout.push(...norm('ln_f'));
  layout.push({ name: 'lm_head.w', shape: [C, cfg.vocabSize], decay: true, std, init: 'normal' });
  return layout;
}

function schemeContext(cfg: ModelConfig): SchemeContext {
  const ctx: SchemeContext = { nEmbd: cfg.nEmbd, nHead: cfg.nHead, nLayer: cfg.nLayer, blockSize: cfg.blockSize, headDim: cfg.nEmbd / cfg.nHead, options: cfg.posOptions };
  const withRandom = cfg.randomPositions ? { ...ctx, randomPositions: cfg.randomPositions } : ctx;
  if (cfg.posExtension === undefined) return withRandom;
  return cfg.posExtensionScale === undefined ? { ...withRandom, extension: cfg.posExtension } : { ...withRandom, extension: cfg.posExtension, extensionScale: cfg.posExtensionScale };
}

/** A causal mask (T, T): 0 on and below the diagonal, −1e9 above it (finite, so fully masked rows never make NaN). */
function causalMask(T: number): tf.Tensor2D {
  const mask = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
  return tf.tensor2d(mask, [T, T]);
}

export class GPT {
  readonly scheme: PositionalScheme;
  readonly layout: ParamInfo[];
  readonly params: Map<string, tf.Variable>;
  /** What the positional scheme sees: dimensions and its knobs. */
  readonly schemeContext: SchemeContext;

  constructor(readonly cfg: ModelConfig, seed: number) {
    this.scheme = requireScheme(cfg.pos);
    if (cfg.posExtension !== undefined && !this.scheme.extensions?.includes(cfg.posExtension))
      throw new Error(`${cfg.pos} has no context-extension method ${JSON.stringify(cfg.posExtension)} (it offers ${this.scheme.extensions?.join(', ') ?? 'none'})`);
    if (cfg.randomPositions && !this.scheme.readsPositions) throw new Error(randomPositionsRefusal(cfg.pos));
    this.schemeContext = schemeContext(cfg);
    this.layout = parameterLayout(cfg);
    this.params = new Map();
    // Each parameter's seed comes from a stream, so runs with neighbouring seeds share no random numbers.
    const seeds = createRng(seed);
    for (const p of this.layout) {
      const paramSeed = seeds.seed();
      const initial = tf.tidy(() =>
        p.init === 'normal' ? tf.randomNormal(p.shape, 0, p.std, 'float32', paramSeed) : p.init === 'ones' ? tf.ones(p.shape) : tf.zeros(p.shape),
      );
      this.params.set(p.name, tf.variable(initial, true));
      initial.dispose();
    }
  }

  get parameterCount(): number {
    return this.layout.reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
  }

  /** Longest input the positional scheme can encode; with randomized positions, as many as there are to draw from. */
  get maxLength(): number {
    return this.cfg.randomPositions ?? this.scheme.maxLength(this.cfg.blockSize);
  }

  /** Replace weights by name (checkpoints, parity fixtures); every shape must match. */
  setWeights(weights: Record<string, Float32Array | number[]>): void {
    for (const p of this.layout) {
      const values = weights[p.name];
      if (!values) throw new Error(`missing weight ${p.name}`);
      const size = p.shape.reduce((a, b) => a * b, 1);
      if (values.length !== size) throw new Error(`weight ${p.name} has ${values.length} values, expected ${size} (shape ${p.shape.join('×')})`);
      const t = tf.tensor(values, p.shape, 'float32');
      this.params.get(p.name)!.assign(t);
      t.dispose();
    }
  }

  /** A copy of every weight, read asynchronously (a GPU backend has no synchronous read in Node). */
  async getWeights(): Promise<Record<string, Float32Array>> {
    return readAll(this.params);
  }

  private p(name: string): tf.Tensor {
    return this.params.get(name)!;
  }

  private norm(x: tf.Tensor, prefix: string): tf.Tensor {
    return this.cfg.normType === 'layer' ? layerNorm(x, this.p(`${prefix}.g`), this.p(`${prefix}.b`)) : rmsNorm(x, this.p(`${prefix}.g`));
  }

  private dropout(x: tf.Tensor, rate: number, key: DropoutKey | undefined, site: number): tf.Tensor {
    return key && rate > 0 ? rowDropout(x, rate, key, site) : x;
  }

  /** (T, 1) log-n factors for the query rows, or null when they are all 1 (no log scaling, or T within the block). */
  private queryScale(T: number): tf.Tensor2D | null {
    const factors = this.cfg.attnLogScaling === 'fixed' ? logScaleFactors(T, this.cfg.blockSize) : null;
    return factors && tf.tensor2d(factors, [T, 1]);
  }

  private attention(x: tf.Tensor3D, layer: number, T: number, opts: ForwardOptions, mask: tf.Tensor | null, bias: tf.Tensor | null, queryScale: tf.Tensor | null, positions: Int32Array | undefined): tf.Tensor {
    const [B, , C] = x.shape;
    const nh = this.cfg.nHead;
    const hs = C / nh;
    const h = `h.${layer}.attn`;
    const scale = this.cfg.attnScale !== false ? (this.scheme.scoreScale?.(hs) ?? 1 / Math.sqrt(hs)) : 1;
    const qkv = linear(x, this.p(`${h}.w_qkv`), this.p(`${h}.b_qkv`)) as tf.Tensor3D; // (B, T, 3C)
    const attnDropout = !!opts.dropout && this.cfg.dropoutAttn > 0;
    let merged: tf.Tensor; // (B, T, C)
    if (!this.scheme.rotate && !this.scheme.scoreTerms && !this.scheme.valueTerms && !queryScale && !opts.onAttention && !attnDropout && canFuseAttention()) {
      // One op from the projection to the merged heads: the same math as below, with hand-written gradients.
      merged = fusedAttention(qkv, bias, { B, T, nHead: nh, headDim: hs, scale, mask });
    } else {
      const heads = tf.transpose(tf.reshape(qkv, [B, T, 3 * nh, hs]), [0, 2, 1, 3]); // (B, 3nh, T, hs): q | k | v
      const parts = splitAxis1(heads, 3) as tf.Tensor4D[]; // each (B, nh, T, hs)
      let [q, k] = parts;
      const v = parts[2];
      if (this.scheme.rotate) [q, k] = this.scheme.rotate(q, k, this.schemeContext, positions);
      let scores: tf.Tensor = batchMatMul(q, k, false, true); // (B, nh, T, T)
      if (this.scheme.scoreTerms) scores = tf.add(scores, this.scheme.scoreTerms(q, k, layer, this.schemeContext, this.paramTensors()));
      let att = this.cfg.attnScale !== false ? tf.mul(scores, scale) : scores;
      // Log-n scales the content (q·k and score terms), as scaling q would; the scheme's bias keeps its own slope.
      if (queryScale) att = tf.mul(att, queryScale);
      if (bias) att = tf.add(att, bias);
      if (mask) att = tf.add(att, mask);
      const weights = tf.softmax(att) as tf.Tensor4D;
      if (opts.onAttention) opts.onAttention(layer, tf.keep(weights.clone()));
      const dropped = this.dropout(weights, this.cfg.dropoutAttn, opts.dropout, DROPOUT_SITE.attentionWeights(layer)) as tf.Tensor4D;
      let y = batchMatMul(dropped, v); // (B, nh, T, hs)
      if (this.scheme.valueTerms) y = tf.add(y, this.scheme.valueTerms(dropped, layer, this.schemeContext, this.paramTensors()));
      merged = tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B, T, C]);
    }
    return this.dropout(linear(merged, this.p(`${h}.w_proj`), this.p(`${h}.b_proj`)), this.cfg.dropoutResid, opts.dropout, DROPOUT_SITE.attentionOutput(layer));
  }

  private mlp(x: tf.Tensor, layer: number, key?: DropoutKey): tf.Tensor {
    const h = `h.${layer}.mlp`;
    const hidden = gelu(linear(x, this.p(`${h}.w_fc`), this.p(`${h}.b_fc`))); // (B, T, 4C)
    return this.dropout(linear(hidden, this.p(`${h}.w_proj`), this.p(`${h}.b_proj`)), this.cfg.dropoutResid, key, DROPOUT_SITE.mlpOutput(layer));
  }

  /** idx (B, T) int32 → logits (B, T, V). Call inside tf.tidy. */
  forward(idx: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    const [B, T] = idx.shape;
    if (T > this.maxLength) throw new PositionRangeError(this.scheme.name, T, this.maxLength);
    const { nEmbd: C, vocabSize: V } = this.cfg;
    const tokens = this.cfg.tokenEmbedding !== false
      ? tf.reshape(matMul2d(oneHotFloat(tf.reshape(idx, [-1]) as tf.Tensor1D, V), this.p('wte') as tf.Tensor2D), [B, T, C])
      : tf.zeros([B, T, C]);
    // Randomized positions: drawn per row from the training key, or from the fixed evaluation key (the paper's protocol).
    const positions = this.cfg.randomPositions ? drawPositions(B, T, this.cfg.randomPositions, opts.dropout ?? EVALUATION_POSITIONS_KEY) : undefined;
    const table = this.scheme.inputTable?.(T, this.schemeContext, this.paramTensors(), positions);
    let x = this.dropout(table ? tf.add(tokens, table) : tokens, this.cfg.dropoutEmbd, opts.dropout, DROPOUT_SITE.embedding) as tf.Tensor3D;
    const mask = (opts.causal ?? this.cfg.causal) ? causalMask(T) : null;
    const bias = this.scheme.logitBias?.(T, this.schemeContext, this.paramTensors(), positions) ?? null;
    const queryScale = this.queryScale(T);
    for (let i = 0; i < this.cfg.nLayer; i++) {
      const h = `h.${i}`;
      const input = x;
      // Each block in its own tidy: its intermediates are freed as soon as it is done (gradients keep what
      // they need), so memory holds one block's temporaries rather than every layer's.
      x = tf.tidy(() => {
        let y = input;
        if (this.cfg.norm === 'pre') {
          y = tf.add(y, this.attention(this.norm(y, `${h}.ln1`) as tf.Tensor3D, i, T, opts, mask, bias, queryScale, positions));
          y = tf.add(y, this.mlp(this.norm(y, `${h}.ln2`), i, opts.dropout));
        } else if (this.cfg.norm === 'post') {
          y = this.norm(tf.add(y, this.attention(y, i, T, opts, mask, bias, queryScale, positions)), `${h}.ln1`) as tf.Tensor3D;
          y = this.norm(tf.add(y, this.mlp(y, i, opts.dropout)), `${h}.ln2`) as tf.Tensor3D;
        } else {
          y = tf.add(y, this.attention(y, i, T, opts, mask, bias, queryScale, positions));
          y = tf.add(y, this.mlp(y, i, opts.dropout));
        }
        return y as tf.Tensor3D;
      });
    }
    if (this.cfg.norm === 'pre') x = this.norm(x, 'ln_f') as tf.Tensor3D;
    return linear(x, this.p('lm_head.w')) as tf.Tensor3D;
  }

  /** Mean next-token cross-entropy; idx and targets (B, T). Call inside tf.tidy or a gradient function. */
  loss(idx: tf.Tensor2D, targets: tf.Tensor2D, opts: ForwardOptions = {}): tf.Scalar {
    const logits = this.forward(idx, opts);
    const V = this.cfg.vocabSize;
    return crossEntropy(tf.reshape(logits, [-1, V]) as tf.Tensor2D, tf.reshape(targets, [-1]) as tf.Tensor1D);
  }

  /** The parameters by name, as plain tensors for the scheme hooks. */
  paramTensors(): Params {
    return Object.fromEntries(this.params) as Params;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}

