/**
 * How much memory a run needs, estimated from its shape before anything is allocated, so a config that cannot fit
 * (wasm's 4 GiB heap, the machine's memory) is refused with the numbers instead of dying mid-run with "memory access
 * out of bounds". Pure arithmetic on float32 counts; the copy factors are what backpropagation keeps alive.
 */
import type { ConfigProblem } from './config';

export const BYTES_PER_FLOAT = 4;
/** WebAssembly memory is 32-bit: one wasm heap holds at most 4 GiB. */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;

/** Weights, their gradients and AdamW's two moments. */
const COPIES_PER_PARAM = 4;
/**
 * Floats kept per token per layer for the backward pass: two norms (C each), q/k/v (3C), the attention output and its
 * projection (2C), the residual (C), the MLP's hidden layer before and after GELU (8C), its projection (C).
 */
const COPIES_PER_TOKEN_LAYER = 17;
/** The attention logits, their softmax (with dropout mask) and the gradient through them: B·H·T² each. */
const COPIES_PER_SCORE = 4;
/** Logits, softmax, the one-hot targets and the logits' gradient: B·T·V each. */
const COPIES_PER_LOGIT = 4;
/** A forward pass alone (evaluation) keeps one layer at a time; scores and logits live once plus their softmax. */
const EVAL_COPIES_PER_TOKEN = 17;
const EVAL_COPIES_PER_SCORE = 2;
const EVAL_COPIES_PER_LOGIT = 2;

export interface ModelShape {
  params: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  vocabSize: number;
}

export interface MemoryEstimate {
  /** params · 4 floats (weights, gradients, AdamW m and v). */
  weightBytes: number;
  /** B·T·C·layers · 17. */
  layerBytes: number;
  /** B·H·T²·layers · 4. */
  attentionBytes: number;
  /** B·T·V · 4. */
  logitBytes: number;
  totalBytes: number;
}

/** One training step of `rows` sequences of length T. */
export function trainingMemory(shape: ModelShape, rows: number, T: number): MemoryEstimate {
  const { params, nLayer: L, nHead: H, nEmbd: C, vocabSize: V } = shape;
  const weightBytes = params * COPIES_PER_PARAM * BYTES_PER_FLOAT;
  const layerBytes = rows * T * C * L * COPIES_PER_TOKEN_LAYER * BYTES_PER_FLOAT;
  const attentionBytes = rows * H * T * T * L * COPIES_PER_SCORE * BYTES_PER_FLOAT;
  const logitBytes = rows * T * V * COPIES_PER_LOGIT * BYTES_PER_FLOAT;
  return { weightBytes, layerBytes, attentionBytes, logitBytes, totalBytes: weightBytes + layerBytes + attentionBytes + logitBytes };
}

/** Bytes one evaluation window of length T needs beyond the weights (forward only, a layer at a time). */
export function evalWindowBytes(shape: Omit<ModelShape, 'params' | 'nLayer'>, T: number): number {
  const { nHead: H, nEmbd: C, vocabSize: V } = shape;
  return (T * C * EVAL_COPIES_PER_TOKEN + H * T * T * EVAL_COPIES_PER_SCORE + T * V * EVAL_COPIES_PER_LOGIT) * BYTES_PER_FLOAT;
}

/**
 * Windows of length T that fit in `limitBytes` beside the weights (params floats once): 0 when not even one does.
 */
export function evalBatchCap(shape: Omit<ModelShape, 'nLayer'>, T: number, limitBytes: number): number {
  const free = limitBytes - shape.params * BYTES_PER_FLOAT;
  return Math.max(0, Math.floor(free / evalWindowBytes(shape, T)));
}

/** Bytes for people: MiB below a GiB, GiB above. */
export const gib = (bytes: number): string => (bytes < 2 ** 30 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 2 ** 30).toFixed(1)} GiB`);

/**
 * The problem with a run whose step does not fit, naming the setting behind the largest term and every figure, or
 * null when it fits. `rows` is the batch share of one thread (each thread has a heap of its own).
 */
export function trainingMemoryProblem(shape: ModelShape, rows: number, T: number, limitBytes: number): ConfigProblem | null {
  const estimate = trainingMemory(shape, rows, T);
  if (estimate.totalBytes <= limitBytes) return null;
  const terms: [field: string, bytes: number, what: string][] = [
    ['nEmbd', estimate.weightBytes, `weights + gradients + AdamW state ${gib(estimate.weightBytes)} (${shape.params.toLocaleString('en-US')} parameters)`],
    ['nLayer', estimate.layerBytes, `activations B·T·C·layers ${gib(estimate.layerBytes)}`],
    ['blockSize', estimate.attentionBytes, `attention scores B·H·T²·layers ${gib(estimate.attentionBytes)}`],
    ['data', estimate.logitBytes, `logits B·T·V ${gib(estimate.logitBytes)} (vocabulary of ${shape.vocabSize.toLocaleString('en-US')})`],
  ];
  const largest = terms.reduce((a, b) => (b[1] > a[1] ? b : a));
  return {
    field: largest[0],
    message: `the run needs about ${gib(estimate.totalBytes)} per training step but ${gib(limitBytes)} is available: ${terms.map((t) => t[2]).join(', ')}; make the batch, block, width, depth or vocabulary smaller`,
  };
}
