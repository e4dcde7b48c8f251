/**
 * Loss, perplexity and next-token accuracy at several evaluation lengths, with the loss at every position,
 * the time taken and the peak tensor memory. Every length sees the same number of held-out tokens, so at
 * the training length it evaluates exactly the windows the trainer's validation loss uses.
 */
import * as tf from '@tensorflow/tfjs';
import { sequentialWindows } from '../data/batches';
import { WASM_HEAP_BYTES, evalBatchCap, evalWindowBytes, gib } from '../memory';
import type { GPT } from '../model/gpt';
import { oneHotFloat } from '../model/ops';
import { takeValues } from '../read';

export interface LengthResult {
  length: number;
  /** False when the positional scheme has no positions this far (e.g. learned past its block). */
  applicable: boolean;
  reason?: string;
  loss: number | null;
  ppl: number | null;
  accuracy: number | null;
  /** Mean loss at each position 0…length−1; its mean is `loss`. */
  perPositionLoss: number[];
  windows: number;
  ms: number;
  /**
   * Most tensor memory the evaluation held at once beyond what was allocated before it (the weights and anything
   * else alive in the process are not counted): activations and the B·nh·T·T attention scores.
   */
  peakBytes: number;
}

export interface EvalLengthOptions {
  /** Held-out tokens per length (split into length-sized windows); the trainer uses evalBatches·batchSize·blockSize. */
  tokenBudget: number;
  /** Cap on B·nh·T·T attention entries per forward pass, to bound memory at long lengths. */
  maxAttentionEntries?: number;
  /** Memory one forward pass may use (memory.ts): batches are capped by it, and a length whose single window does not fit is not applicable. Default: a wasm heap. */
  memoryLimitBytes?: number;
}

export function defaultLengths(blockSize: number): number[] {
  return [1, 2, 4, 8].map((f) => f * blockSize);
}

/** Per-token losses (B·T) and correctness (B·T, 1 or 0) for windows of length T+1, read once. */
async function scoreBatch(model: GPT, batch: Int32Array[], T: number): Promise<{ losses: Float32Array; correct: Float32Array }> {
  const scores = tf.tidy(() => {
    const B = batch.length;
    const x = new Int32Array(B * T);
    const y = new Int32Array(B * T);
    batch.forEach((w, b) => {
      x.set(w.subarray(0, T), b * T);
      y.set(w.subarray(1, T + 1), b * T);
    });
    const V = model.cfg.vocabSize;
    const logits = tf.reshape(model.forward(tf.tensor2d(x, [B, T], 'int32')), [B * T, V]) as tf.Tensor2D;
    const targets = tf.tensor1d(y, 'int32');
    const losses = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), oneHotFloat(targets, V)), 1));
    const correct = tf.cast(tf.equal(tf.argMax(logits, 1), targets), 'float32');
    return tf.stack([losses, correct]); // (2, B·T)
  });
  const values = await takeValues(scores);
  const n = batch.length * T;
  return { losses: values.subarray(0, n), correct: values.subarray(n) };
}

export async function evalAtLengths(model: GPT, heldOut: Int32Array, lengths: number[], opts: EvalLengthOptions): Promise<LengthResult[]> {
  const results: LengthResult[] = [];
  const maxEntries = opts.maxAttentionEntries ?? 2 ** 23;
  for (const length of lengths) {
    if (!Number.isInteger(length) || length < 1) throw new Error(`evaluation length must be a positive integer, got ${length}`);
    const empty = { length, loss: null, ppl: null, accuracy: null, perPositionLoss: [], windows: 0, ms: 0, peakBytes: 0 };
    if (length > model.maxLength) {
      results.push({ ...empty, applicable: false, reason: `${model.scheme.name} has no positions past ${model.maxLength}` });
      continue;
    }
    if (heldOut.length < length + 1) {
      results.push({ ...empty, applicable: false, reason: `only ${heldOut.length} held-out tokens; length ${length} needs ${length + 1}` });
      continue;
    }
    const shape = { params: model.parameterCount, nHead: model.cfg.nHead, nEmbd: model.cfg.nEmbd, vocabSize: model.cfg.vocabSize };
    const limit = opts.memoryLimitBytes ?? WASM_HEAP_BYTES;
    const fitting = evalBatchCap(shape, length, limit);
    if (fitting < 1) {
      results.push({ ...empty, applicable: false, reason: `one window of ${length} needs about ${gib(evalWindowBytes(shape, length))} (attention ${model.cfg.nHead}·${length}²), more than the ${gib(limit)} available` });
      continue;
    }
    const windows = sequentialWindows(heldOut, length, Math.max(1, Math.round(opts.tokenBudget / length)));
    const batchSize = Math.min(fitting, Math.max(1, Math.floor(maxEntries / (model.cfg.nHead * length * length))));
    const sumAtPosition = new Float64Array(length);
    let correct = 0;
    const started = performance.now();
    // tf.profile's peak counts every tensor alive in the process; the evaluation's own share is the rise above this.
    const bytesBefore = tf.memory().numBytes;
    const profile = await tf.profile(async () => {
      for (let start = 0; start < windows.length; start += batchSize) {
        const batch = windows.slice(start, start + batchSize);
        const scored = await scoreBatch(model, batch, length);
        for (let i = 0; i < scored.losses.length; i++) {
          sumAtPosition[i % length] += scored.losses[i];
          correct += scored.correct[i];
        }
      }
    });
    const perPositionLoss = Array.from(sumAtPosition, (sum) => sum / windows.length);
    const loss = perPositionLoss.reduce((a, b) => a + b, 0) / length;
    results.push({
      length,
      applicable: true,
      loss,
      ppl: Math.exp(loss),
      accuracy: correct / (windows.length * length),
      perPositionLoss,
      windows: windows.length,
      ms: performance.now() - started,
      peakBytes: Math.max(0, profile.peakBytes - bytesBefore),
    });
  }
  return results;
}
