/**
 * A positional scheme is a small object plugged into the model at one of its hook points:
 *   input  — a (T, C) table added to the token embeddings,
 *   rotate — a rotation applied to q and k inside attention,
 *   bias   — an (nh, T, T) term added to the attention logits after the 1/sqrt(d) scaling,
 *   score  — relative terms computed from q and k inside the score, before scaling (Shaw, Transformer-XL,
 *            DeBERTa), optionally with a value-side term and its own scaling.
 * The model, trainer, CLI and UI ask the scheme (knobs, params, maxLength, preview) instead of special-casing it.
 */
import type * as tf from '@tensorflow/tfjs';

export interface SchemeKnob {
  /** Key in RunConfig.posOptions. */
  key: string;
  /** CLI option name, without the leading dashes. */
  flag: string;
  label: string;
  help: string;
  default: number;
  min: number;
  max: number;
  integer: boolean;
}

/** The model dimensions a scheme sees. */
export interface SchemeShape {
  nEmbd: number;
  nHead: number;
  blockSize: number;
}

export interface SchemeContext extends SchemeShape {
  /** Schemes with per-layer parameters name them `pos.h.{layer}.*`. */
  nLayer: number;
  headDim: number;
  options: Record<string, number>;
  /**
   * A context-extension method from the scheme's `extensions` (rope: pi, ntk, yarn). Alone it is evaluation only, with
   * s = T / blockSize at each length T; with `extensionScale` (a fine-tuned run's, see RunConfig.posExtension) s is
   * that number at every length, trained and evaluated alike.
   */
  extension?: string;
  extensionScale?: number;
  /** Randomized positions: every sequence reads sorted positions drawn from [0, randomPositions); absent = 0…T−1. */
  randomPositions?: number;
}

export interface ParamSpec {
  name: string;
  shape: number[];
  /** Initial values: 'normal' draws N(0, 0.02) as minGPT does for embeddings. */
  init: 'normal' | 'zeros';
  /** True for projection matrices, which AdamW decays like the model's other matmul weights. */
  decay?: boolean;
}

export type Params = Record<string, tf.Tensor>;

/** The dimensions a preview is drawn for: the sequence length and the model's width and head count. */
export interface PreviewShape {
  length: number;
  nEmbd: number;
  nHead: number;
}

/**
 * What a scheme draws from its definition alone, with no weights and no tfjs: the picture beside the scheme picker in
 * New run and in Probes when no run is chosen. Every part is optional (leave out what the scheme does not draw) and
 * flat, row-major, with exactly the size named here; src/lab/schemePreview.ts checks the sizes and turns them into rows.
 */
export interface SchemePreviewParts {
  /** (length, nEmbd): the table added to the input. */
  table?: Float32Array;
  /** (nHead, length, length): the bias added to the logits, row i = query, column j = key. */
  bias?: Float32Array;
  /** (length, length): the bucket or slot each (query, key) pair reads, for schemes whose terms are learned per slot. */
  buckets?: Int32Array;
  /** A rotation's long-term decay over distance 0…D (three arrays of D + 1 values, D at most 8·length). */
  decay?: { distance: number[]; bound: number[]; onesScore: number[] };
}

export interface PositionalScheme {
  name: string;
  label: string;
  /** One line for the UI: what the scheme does and its known weakness. */
  summary: string;
  hook: 'none' | 'input' | 'rotate' | 'bias' | 'score';
  knobs: SchemeKnob[];
  /**
   * True when every hook below honours `positions`: a (B, T) row-major grid of each row's positions, given only for
   * randomized-position runs (absent = 0…T−1). Such schemes may then return per-row results: an input table
   * (B, T, C), rotate tables per row, a bias (B, nh, T, T). Runs with random positions refuse other schemes.
   */
  readsPositions?: boolean;
  /** Context-extension methods the scheme offers at evaluation time ('none' first); absent when it has none. */
  extensions?: readonly string[];
  /** Longest sequence the scheme can encode for a model trained at blockSize; Infinity when computed at run time. */
  maxLength(blockSize: number): number;
  /** Extra constraints on the model or between knobs (e.g. an even head size for rotation), reported like config problems. */
  checkModel?(shape: SchemeShape, options: Record<string, number>): { field: string; message: string; flag?: string }[];
  /** Learned parameters, named `pos.*`; tables are not weight-decayed, projections may ask to be. */
  params?(ctx: SchemeContext): ParamSpec[];
  /** input hook: (T, C) added to the token embeddings. */
  inputTable?(T: number, ctx: SchemeContext, params: Params, positions?: Int32Array): tf.Tensor2D | tf.Tensor3D;
  /** rotate hook: q, k of shape (B, nh, T, hs) rotated by position; v is never passed. */
  rotate?(q: tf.Tensor4D, k: tf.Tensor4D, ctx: SchemeContext, positions?: Int32Array): [tf.Tensor4D, tf.Tensor4D];
  /** bias hook: (nh, T, T) added to the scaled logits, row i = query position, column j = key position. */
  logitBias?(T: number, ctx: SchemeContext, params: Params, positions?: Int32Array): tf.Tensor3D | tf.Tensor4D;
  /** score hook: (B, nh, T, T) added to the raw q·kᵀ of `layer` before scaling; q, k are (B, nh, T, hs). */
  scoreTerms?(q: tf.Tensor4D, k: tf.Tensor4D, layer: number, ctx: SchemeContext, params: Params): tf.Tensor4D;
  /** score hook, value side: (B, nh, T, hs) added to the attention output, from the weights (B, nh, T, T). */
  valueTerms?(weights: tf.Tensor4D, layer: number, ctx: SchemeContext, params: Params): tf.Tensor4D;
  /** Replaces the usual 1/sqrt(hs) score scaling (DeBERTa scales by 1/sqrt(3·hs)). */
  scoreScale?(headDim: number): number;
  /** The preview drawn in New run; `options` has every knob, defaults filled in. Absent: only the hook is explained. */
  preview?(shape: PreviewShape, options: Record<string, number>): SchemePreviewParts;
}

/** Thrown when a sequence is longer than a scheme can encode; evaluation reports "not applicable" instead. */
export class PositionRangeError extends Error {
  constructor(readonly scheme: string, readonly length: number, readonly maxLength: number) {
    super(`${scheme} positions exist only for lengths up to ${maxLength}; length ${length} is not applicable`);
    this.name = 'PositionRangeError';
  }
}
