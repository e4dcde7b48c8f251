/**
 * Exact-match accuracy on a synthetic task at example sizes beyond those seen in training: the model
 * completes each prompt greedily and must reproduce the answer character for character.
 */
import type { Tokenizer } from '../data/tokenizer';
import { heldOutTaskExample, taskLengthRange, type TaskExample, type TaskName } from '../data/tasks';
import type { Rng } from '../rng';
import type { GPT } from '../model/gpt';
import { createRng } from '../rng';
import { generate } from '../train/sample';

export interface TaskSizeResult {
  size: number;
  /** Characters in prompt + answer of the longest example at this size. */
  sequenceLength: number;
  applicable: boolean;
  accuracy: number | null;
  examples: number;
}

/**
 * The 95 % Wilson score interval of an accuracy measured on `examples` prompts: how far a small sample's 0.7 may
 * be from the model's true rate (24 prompts at 0.5: 0.31–0.69). Unlike the normal approximation it stays in [0, 1]
 * and is not empty at 0 or 1.
 */
export function accuracyInterval(accuracy: number, examples: number): [number, number] {
  const z2 = 1.96 ** 2;
  const denominator = 1 + z2 / examples;
  const centre = (accuracy + z2 / (2 * examples)) / denominator;
  const half = (1.96 * Math.sqrt((accuracy * (1 - accuracy)) / examples + z2 / (4 * examples ** 2))) / denominator;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Training's largest size, then 1.5×, 2×, 3× and 4× it (capped where the task cannot go further). */
export function defaultTaskSizes(task: TaskName): number[] {
  const { max } = taskLengthRange(task);
  const cap = task === 'induction' ? 26 : Infinity;
  return [...new Set([1, 1.5, 2, 3, 4].map((f) => Math.min(cap, Math.round(max * f))))];
}

/** The prompts task accuracy asks: held-out examples only, so at the training sizes it measures more than recall. */
export function accuracyExamples(task: TaskName, size: number, count: number, rng: Rng): TaskExample[] {
  return Array.from({ length: count }, () => heldOutTaskExample(task, rng, size));
}

export async function taskAccuracy(
  model: GPT,
  tokenizer: Tokenizer,
  task: TaskName,
  opts: { sizes?: number[]; examples?: number; seed?: number } = {},
): Promise<TaskSizeResult[]> {
  const sizes = opts.sizes ?? defaultTaskSizes(task);
  const count = opts.examples ?? 24;
  const results: TaskSizeResult[] = [];
  for (const size of sizes) {
    const rng = createRng((opts.seed ?? 7) + size);
    const examples = accuracyExamples(task, size, count, rng);
    // A leading newline puts the prompt where training lines start.
    const sequenceLength = Math.max(...examples.map((e) => 1 + e.prompt.length + e.answer.length));
    if (sequenceLength > model.maxLength) {
      results.push({ size, sequenceLength, applicable: false, accuracy: null, examples: 0 });
      continue;
    }
    let correct = 0;
    for (const example of examples) {
      const prompt = tokenizer.encode(`\n${example.prompt}`);
      const ids = await generate(model, prompt, { maxNewTokens: example.answer.length, temperature: 0, topK: 0, rng, contextLimit: model.maxLength });
      if (tokenizer.decode(ids) === example.answer) correct += 1;
    }
    results.push({ size, sequenceLength, applicable: true, accuracy: correct / count, examples: count });
  }
  return results;
}
