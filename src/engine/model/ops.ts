/**
 * Small tensor helpers shared by the model. matMul2d carries its own gradient: tfjs's generic one uses the
 * transposeA/transposeB flags, which the wasm backend runs an order of magnitude slower than a plain 2-D
 * matmul of explicitly transposed operands (measured in DESIGN.md §2).
 */
import * as tf from '@tensorflow/tfjs';

export const matMul2d = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as tf.Tensor2D[];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy as tf.Tensor2D)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** x (..., in) @ w (in, out) + b, computed as one 2-D matmul over the flattened leading axes. */
export function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const inDim = x.shape[x.shape.length - 1];
  const outDim = w.shape[1]!;
  const y = matMul2d(tf.reshape(x, [-1, inDim]) as tf.Tensor2D, w as tf.Tensor2D);
  const withBias = b ? tf.add(y, b) : y;
  return tf.reshape(withBias, [...x.shape.slice(0, -1), outDim]);
}

/** GELU, tanh approximation (GPT-2 / minGPT's NewGELU). */
export function gelu(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

export const NORM_EPS = 1e-5;

export function layerNorm(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const axis = x.shape.length - 1;
  const { mean, variance } = tf.moments(x, axis, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, NORM_EPS))), gain), bias);
}

export function rmsNorm(x: tf.Tensor, gain: tf.Tensor): tf.Tensor {
  const meanSquare = tf.mean(tf.square(x), x.shape.length - 1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, NORM_EPS))), gain);
}

/** One-hot rows as float32; tf.oneHot's own dtype argument returns int bit patterns on wasm (DESIGN.md §2). */
export function oneHotFloat(ids: tf.Tensor1D, depth: number): tf.Tensor2D {
  return tf.cast(tf.oneHot(ids, depth), 'float32') as tf.Tensor2D;
}

/** Mean cross-entropy of logits (N, V) against integer targets (N). */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  const logProbs = tf.logSoftmax(logits);
  const picked = tf.sum(tf.mul(logProbs, oneHotFloat(targets, logits.shape[1])), 1);
  return tf.neg(tf.mean(picked)) as tf.Scalar;
}

/**
 * Relative-position plumbing for the score-hook schemes. `index` (T·T) maps each query/key pair (i, j) to a
 * relative slot r in [0, R). gatherRelative reads x[..., i, index(i,j)]; scatterRelative is its adjoint,
 * summing y[..., i, j] into slot index(i,j). Each is the other's gradient, so no gather gradient is needed
 * (the wasm backend lacks its kernel).
 */
function relativeOneHot(index: Int32Array, T: number, R: number): tf.Tensor3D {
  return tf.reshape(oneHotFloat(tf.tensor1d(index, 'int32'), R), [T, T, R]) as tf.Tensor3D; // (T_i, T_j, R)
}

/** (N, T, R) → (N, T, T); the forward is a plain gather so long evaluations never build the (T, T, R) one-hot. */
export function gatherRelative(x: tf.Tensor3D, index: Int32Array): tf.Tensor3D {
  const [N, T, R] = x.shape;
  const flatIndex = new Int32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) flatIndex[i * T + j] = i * R + index[i * T + j];
  const gather = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    const value = tf.reshape(tf.gather(tf.reshape(input, [N, T * R]), tf.tensor1d(flatIndex, 'int32'), 1), [N, T, T]);
    return { value, gradFunc: (dy: tf.Tensor) => scatterRelative(dy as tf.Tensor3D, index, R) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (input: tf.Tensor3D) => tf.Tensor3D;
  return gather(x);
}

/** (N, T, T) → (N, T, R): per query row, a batched matmul with the one-hot of its relative slots. */
export function scatterRelative(y: tf.Tensor3D, index: Int32Array, R: number): tf.Tensor3D {
  const [N, T] = y.shape;
  const perRow = tf.transpose(y, [1, 0, 2]) as tf.Tensor3D; // (T_i, N, T_j)
  const summed = tf.matMul(perRow, relativeOneHot(index, T, R)); // (T_i, N, R)
  return tf.transpose(summed, [1, 0, 2]) as tf.Tensor3D; // (N, T_i, R)
}
