import { describe, expect, it } from 'vitest';
import { evalBatchCap, evalWindowBytes, gib, trainingMemory, trainingMemoryProblem } from '../../src/engine/memory';

// 1000 parameters, 2 layers, 4 heads, width 8, vocabulary 10; 3 rows of 5 tokens.
const SHAPE = { params: 1000, nLayer: 2, nHead: 4, nEmbd: 8, vocabSize: 10 };

describe('trainingMemory', () => {
  it('adds weights ×4 copies, B·T·C·L ×17, B·H·T²·L ×4 and B·T·V ×4, in float32 bytes', () => {
    expect(trainingMemory(SHAPE, 3, 5)).toEqual({
      weightBytes: 1000 * 4 * 4, // 16 000
      layerBytes: 3 * 5 * 8 * 2 * 17 * 4, // 16 320
      attentionBytes: 3 * 4 * 5 * 5 * 2 * 4 * 4, // 9 600
      logitBytes: 3 * 5 * 10 * 4 * 4, // 2 400
      totalBytes: 44_320,
    });
  });

  it('grows with the square of the block only in the attention term', () => {
    const at = (T: number) => trainingMemory(SHAPE, 1, T);
    expect(at(20).attentionBytes / at(10).attentionBytes).toBe(4);
    expect(at(20).layerBytes / at(10).layerBytes).toBe(2);
    expect(at(20).weightBytes).toBe(at(10).weightBytes);
  });
});

describe('trainingMemoryProblem', () => {
  it('is null when the step fits exactly, and names the largest term one byte over', () => {
    expect(trainingMemoryProblem(SHAPE, 3, 5, 44_320)).toBeNull();
    const problem = trainingMemoryProblem(SHAPE, 3, 5, 44_319)!;
    // Activations (16 320) outweigh the weights (16 000) here, so the advice points at the depth.
    expect(problem.field).toBe('nLayer');
    expect(problem.message).toMatch(/^the run needs about 0\.0 MiB per training step but 0\.0 MiB is available: weights \+ gradients \+ AdamW state 0\.0 MiB \(1,000 parameters\), activations B·T·C·layers/);
  });

  it('blames the block for attention, the data for a large vocabulary and the width for parameters', () => {
    const limit = 2 ** 30;
    expect(trainingMemoryProblem({ ...SHAPE, nHead: 8 }, 32, 4096, limit)!.field).toBe('blockSize');
    expect(trainingMemoryProblem({ ...SHAPE, vocabSize: 1_100_000 }, 32, 64, limit)!.field).toBe('data');
    expect(trainingMemoryProblem({ ...SHAPE, params: 10 ** 9 }, 1, 1, limit)!.field).toBe('nEmbd');
  });
});

describe('evaluation', () => {
  it('a window of T costs T·C·17 + H·T²·2 + T·V·2 floats', () => {
    expect(evalWindowBytes(SHAPE, 5)).toBe((5 * 8 * 17 + 4 * 25 * 2 + 5 * 10 * 2) * 4); // 3 920
  });

  it('fits as many windows as the memory beside the weights allows, and none when one is too big', () => {
    expect(evalBatchCap(SHAPE, 5, 4000 + 3 * 3920)).toBe(3);
    expect(evalBatchCap(SHAPE, 5, 4000 + 3 * 3920 - 1)).toBe(2);
    expect(evalBatchCap(SHAPE, 5, 4000 + 3919)).toBe(0);
    // eval-length --lengths 20000 with 3 heads: one window alone is ~9 GiB of attention.
    expect(evalBatchCap({ ...SHAPE, nHead: 3 }, 20_000, 4 * 2 ** 30)).toBe(0);
  });

  it('formats MiB below a GiB and GiB above', () => {
    expect(gib(1.5 * 2 ** 20)).toBe('1.5 MiB');
    expect(gib(3.25 * 2 ** 30)).toBe('3.3 GiB');
  });
});
