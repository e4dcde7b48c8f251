/** Task accuracy: the sample-size interval printed beside it, the examples option, and "not applicable" past the block. */
import { describe, expect, it } from 'vitest';
import { CharTokenizer } from '../../../src/engine/data/tokenizer';
import { TASK_NAMES, buildCorpus, taskLengthRange } from '../../../src/engine/data';
import { accuracyExamples, accuracyInterval, taskAccuracy } from '../../../src/engine/eval/taskAccuracy';
import { createRng } from '../../../src/engine/rng';
import { BUILTIN_DATA_SEED } from '../../../src/lab/corpusLoader';
import { useWasmBackend } from '../../helpers/backend';
import { buildModel } from '../../helpers/model';

useWasmBackend();

describe('accuracyInterval (95 % Wilson score)', () => {
  it('matches hand-computed values and stays inside [0, 1]', () => {
    // 12/24: centre (0.5 + 1.96²/48) / (1 + 1.96²/24) = 0.5, half 1.96·√(0.25/24 + 1.96²/2304) / 1.16007 = 0.18573.
    const [low, high] = accuracyInterval(0.5, 24);
    expect(low).toBeCloseTo(0.31427, 4);
    expect(high).toBeCloseTo(0.68573, 4);
    // 0/24 is not certainty: up to 0.138; 24/24 symmetric.
    expect(accuracyInterval(0, 24)[0]).toBe(0);
    expect(accuracyInterval(0, 24)[1]).toBeCloseTo(0.13798, 4);
    expect(accuracyInterval(1, 24)[0]).toBeCloseTo(1 - 0.13798, 4);
    expect(accuracyInterval(1, 24)[1]).toBe(1);
  });

  it('narrows as the number of prompts grows', () => {
    const width = (n: number) => accuracyInterval(0.7, n)[1] - accuracyInterval(0.7, n)[0];
    expect(width(200)).toBeLessThan(width(24) / 2.5);
  });
});

describe('accuracyExamples', () => {
  for (const task of TASK_NAMES) {
    it(`${task}: prompts at every training size are never lines of the training text`, () => {
      const corpus = buildCorpus({ source: `builtin:${task}`, blockSize: 32, seed: BUILTIN_DATA_SEED });
      const trainLines = new Set(corpus.tokenizer.decode(corpus.train).split('\n'));
      const { min, max } = taskLengthRange(task);
      for (let size = min; size <= max; size++) {
        const lines = accuracyExamples(task, size, 24, createRng(size)).map((e) => `${e.prompt}${e.answer}`);
        expect(lines.filter((line) => trainLines.has(line)), `size ${size}`).toEqual([]);
      }
    });
  }
});

describe('taskAccuracy', () => {
  it('asks as many prompts as told, and says "not applicable" where an example is longer than the learned table', async () => {
    const tokenizer = CharTokenizer.fromText('\n0123456789 .=');
    const model = buildModel({ pos: 'learned', vocabSize: tokenizer.size, blockSize: 16 });
    try {
      const [small, large] = await taskAccuracy(model, tokenizer, 'count', { sizes: [2, 9], examples: 5 });
      expect(small).toMatchObject({ size: 2, applicable: true, examples: 5 });
      expect((small!.accuracy! * 5) % 1).toBe(0);
      expect(large).toMatchObject({ size: 9, applicable: false, accuracy: null, examples: 0 });
      expect(large!.sequenceLength).toBeGreaterThan(16);
    } finally {
      model.dispose();
    }
  });
});
