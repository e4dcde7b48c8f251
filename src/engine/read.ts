/**
 * Asynchronous reads of tensor values. A GPU backend (webgpu in Node) has no synchronous read, so nothing on the
 * training, evaluation, sampling or probe paths calls dataSync(); reads are batched so a step waits on the GPU once.
 */
import * as tf from '@tensorflow/tfjs';

/** Every tensor's values by name, read together (the reads overlap on a GPU backend). */
export async function readAll(tensors: Map<string, tf.Tensor>): Promise<Record<string, Float32Array>> {
  const names = [...tensors.keys()];
  const values = await Promise.all([...tensors.values()].map((t) => t.data() as Promise<Float32Array>));
  return Object.fromEntries(names.map((name, i) => [name, values[i]!]));
}

/** The values of a tensor the caller hands over: read, then disposed (also when the read fails). */
export async function takeValues(t: tf.Tensor): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}
