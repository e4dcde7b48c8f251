/** Autoregressive sampling with temperature and top-k, drawing from a seeded Rng. */
import * as tf from '@tensorflow/tfjs';
import type { GPT } from '../model/gpt';
import { takeValues } from '../read';
import type { Rng } from '../rng';

export interface SampleOptions {
  maxNewTokens: number;
  /** 0 means greedy (argmax). */
  temperature: number;
  /** Keep only the k most likely tokens; 0 keeps all. */
  topK: number;
  rng: Rng;
  /** Longest context fed to the model; defaults to the block size, as in minGPT's generate. */
  contextLimit?: number;
  /** Called with each new token and the probability the model gave it (softmax of the raw logits, T = 1). */
  onToken?: (id: number, probability: number) => void;
}

/** softmax(logits)[id], computed stably. */
export function probabilityOf(logits: Float32Array, id: number): number {
  const max = Math.max(...logits);
  let sum = 0;
  for (const l of logits) sum += Math.exp(l - max);
  return Math.exp(logits[id] - max) / sum;
}

/** Index drawn from `logits` (one row) after temperature and top-k. */
export function pickToken(logits: Float32Array, temperature: number, topK: number, rng: Rng): number {
  if (temperature <= 0) return logits.indexOf(Math.max(...logits));
  const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]);
  const kept = topK > 0 ? order.slice(0, topK) : order;
  const max = logits[kept[0]];
  const weights = kept.map((i) => Math.exp((logits[i] - max) / temperature));
  let r = rng.next() * weights.reduce((a, b) => a + b, 0);
  for (let n = 0; n < kept.length; n++) {
    r -= weights[n];
    if (r <= 0) return kept[n];
  }
  return kept[kept.length - 1];
}

/** Continue `prompt` token ids; the context is cropped to `contextLimit` (the block size unless given). */
export async function generate(model: GPT, prompt: ArrayLike<number>, opts: SampleOptions): Promise<number[]> {
  const ids = Array.from(prompt);
  for (let n = 0; n < opts.maxNewTokens; n++) {
    const context = ids.slice(-(opts.contextLimit ?? model.cfg.blockSize));
    const last = await takeValues(
      tf.tidy(() => {
        const logits = model.forward(tf.tensor2d(context, [1, context.length], 'int32')); // (1, T, V)
        return tf.slice(logits, [0, context.length - 1, 0], [1, 1, -1]); // (1, 1, V)
      }),
    );
    const id = pickToken(last, opts.temperature, opts.topK, opts.rng);
    ids.push(id);
    opts.onToken?.(id, probabilityOf(last, id));
  }
  return ids.slice(prompt.length);
}
