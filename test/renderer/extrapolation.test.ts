/** The extrapolation view's chart specs: per-position loss binned to a readable number of points. */
import { describe, expect, it } from 'vitest';
import type { EvalLengthResultData } from '../../src/shared/api';
import { binPositions, lengthChart, perPositionChart } from '../../src/renderer/composables/extrapolation';

function lengthResult(length: number, perPositionLoss: number[], applicable = true): EvalLengthResultData['results'][number] {
  return { length, applicable, loss: 1, ppl: Math.E, accuracy: null, perPositionLoss, windows: 1, ms: 1, peakBytes: 1 };
}

describe('per-position loss', () => {
  it('bins are means of consecutive positions, x at the bin centre, a short last bin included', () => {
    expect(binPositions([1, 3, 5, 7, 9], 2)).toEqual({ x: [1.5, 3.5, 5], y: [2, 6, 9] });
    expect(binPositions([4, 2], 1)).toEqual({ x: [1, 2], y: [4, 2] });
  });

  it('keeps short lengths point by point and averages long ones to at most 32 points, saying so in the title', () => {
    const ramp = (n: number) => Array.from({ length: n }, (_, i) => i);
    const short: EvalLengthResultData = { runId: 1, block: 16, scheme: 'alibi', results: [lengthResult(16, ramp(16)), lengthResult(32, ramp(32))] };
    const spec = perPositionChart([{ id: 1, name: 'a' }], [short]);
    expect(spec.title).toBe('Loss per position (longest evaluated length)');
    expect(spec.series[0]!.y).toEqual(ramp(32));

    // Learned stops at its block: its longest applicable length is used, and the bin width follows from it.
    const long: EvalLengthResultData = { runId: 2, block: 16, scheme: 'rope', results: [lengthResult(16, ramp(16)), lengthResult(128, ramp(128))] };
    const learned: EvalLengthResultData = { runId: 3, block: 16, scheme: 'learned', results: [lengthResult(16, ramp(16)), lengthResult(128, [], false)] };
    const mixed = perPositionChart([{ id: 2, name: 'b' }, { id: 3, name: 'c' }], [long, learned]);
    expect(mixed.series.map((s) => s.label)).toEqual(['#2 b at 128', '#3 c at 16']);
    expect(mixed.series[0]!.y).toEqual(Array.from({ length: 32 }, (_, i) => 4 * i + 1.5));
    expect(mixed.series[0]!.x[0]).toBe(2.5);
    expect(mixed.title).toBe('Loss per position (longest evaluated length, mean over bins of positions)');
    expect(perPositionChart([{ id: 2, name: 'b' }], [long]).title).toBe('Loss per position (longest evaluated length, mean of each 4 positions)');
  });
});

describe('rope scaling curves', () => {
  it('draws a scaled evaluation of a run as its own dashed curve in the run colour, named by its method', () => {
    const plain: EvalLengthResultData = { runId: 2, block: 16, scheme: 'rope', results: [lengthResult(16, [1]), lengthResult(32, [2])] };
    const yarn: EvalLengthResultData = { ...plain, ropeScaling: 'yarn' };
    const spec = lengthChart([{ id: 2, name: 'b' }], [plain, yarn], 'loss');
    expect(spec.series.map((s) => [s.label, s.dashed, s.color])).toEqual([
      ['#2 b (rope)', false, spec.series[0]!.color],
      ['#2 b · yarn (rope)', true, spec.series[0]!.color],
    ]);
    expect(perPositionChart([{ id: 2, name: 'b' }], [plain, yarn]).series.map((s) => s.label)).toEqual(['#2 b at 32', '#2 b · yarn at 32']);
  });
});
