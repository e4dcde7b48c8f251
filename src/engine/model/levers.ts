/**
 * The engine's optimisations in one place (the ops in ./ops.ts, the wasm kernels in ./wasmKernels.ts and the
 * optimizer in ../train/adamw.ts read them). Each can be switched off, so `npm run bench -- --levers` can measure them one at a time and
 * bench/check-kernels.ts can compare the fast paths with the plain ones. All on by default; the model computes
 * the same function either way.
 */
export const perfLevers = {
  /** Matmul gradients with explicit transposes; on wasm, large 2-D transposes in two cache-friendly stages. */
  twoStageTranspose: true,
  /** wasm: Σ over rows (bias and gain gradients) as a ones-vector matmul instead of tf.sum over axis 0. */
  rowSumMatmul: true,
  /** linear(): bias fused into the matmul (one kernel) and a custom gradient for x, w and b together. */
  fusedBias: true,
  /** GELU as x·σ(2u) with a written-out derivative, instead of tanh and pow and their generic gradients. */
  geluSigmoid: true,
  /** LayerNorm / RMSNorm with closed-form gradients instead of tf.moments and the generic ones. */
  normGradients: true,
  /** Cross-entropy with gradient (softmax − onehot)/N. */
  crossEntropyGradient: true,
  /** wasm: batched matmuls as one XNNPACK 2-D matmul per batch slice (else tfjs's batched kernel). */
  slicedBatchMatMul: true,
  /** wasm: causal attention without score/value hooks as one op from the QKV projection to the merged heads. */
  fusedAttention: true,
  /** wasm: AdamW as one kernel per parameter and the global gradient norm as one kernel (train/adamw.ts). */
  fusedOptimizer: true,
  /** wasm: q, k, v split out of the projection by block copies (the attention path with scheme hooks). */
  fastSplit: true,
  /** wasm: every matmul on the machine's BLAS (native/blas, when it loads), transposed operands read in place. */
  nativeGemm: true,
  /** wasm: a clone (what tfjs makes of every tensor a custom gradient saves) shares the data instead of copying it. */
  sharedClones: true,
};
export type PerfLever = keyof typeof perfLevers;

/** Turns every fast path on or off (benchmarks, cross-checks against the plain tfjs path). */
export function setFastPaths(enabled: boolean): void {
  for (const key of Object.keys(perfLevers) as PerfLever[]) perfLevers[key] = enabled;
}
