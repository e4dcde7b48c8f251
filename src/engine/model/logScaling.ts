/**
 * Log-n attention scaling (Chiang & Cholak 2022, "Overcoming a Theoretical Limitation of Self-Attention", §5, and
 * Su's "entropy-invariant" scaling as in Qwen's logn attention): a query that sees n tokens has its content logits
 * multiplied by max(1, log(n)/log(L_train)), so the softmax over more keys past the training length stays about as
 * sharp as it was over L_train keys. n counts the keys a causal query sees (position i → n = i + 1), so every query
 * within the training length keeps factor 1 and training at the block is unchanged.
 *
 * Only the fixed form: a learned per-head factor (s_h·log n) would only ever see n ≤ L_train in training, where the
 * fixed form is 1, so it would learn a temperature, not how the temperature should grow with length.
 */

/** Factor per query position (T), or null when T ≤ trainLength, where every factor is 1. */
export function logScaleFactors(T: number, trainLength: number): Float32Array | null {
  if (T <= trainLength) return null;
  const logTrain = Math.log(trainLength);
  return Float32Array.from({ length: T }, (_, i) => Math.max(1, Math.log(i + 1) / logTrain));
}
