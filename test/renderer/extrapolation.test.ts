/** The extrapolation view's chart specs: per-position loss binned to a readable number of points. */
import { describe, expect, it } from 'vitest';
import type { EvalLengthResultData } from '../../src/shared/api';
import { binPositions, lengthChart, perPositionChart } from '../../src/renderer/composables/extrapolation';

/** A run as the charts need it: id, name, and a config (labels come from what differs). */
const named = (id: number, name: string, pos: string) => ({ id, name, config: { pos } as never });

function lengthResult(length: number, perPositionLoss: number[], applicable = true): EvalLengthResultData['results'][number] {
  return { length, applicable, loss: 1, ppl: Math.E, accuracy: null, perPositionLoss, windows: 1, ms: 1, peakBytes: 1 };
}

describe('per-position loss', () => {
  it('bins are means of consecutive positions, x at the bin centre, a short last bin included', () => {
    expect(binPositions([1, 3, 5, 7, 9], 2)).toEqual({ x: [1.5, 3.5, 5], y: [2, 6, 9] });
    expect(binPositions([4, 2], 1)).toEqual({ x: [1, 2], y: [4, 2] });
  });

  it('keeps short lengths point by point and averages long ones to at most 32 points, saying so on the x axis', () => {
    const ramp = (n: number) => Array.from({ length: n }, (_, i) => i);
    const short: EvalLengthResultData = { runId: 1, block: 16, scheme: 'alibi', results: [lengthResult(16, ramp(16)), lengthResult(32, ramp(32))] };
    const spec = perPositionChart([named(1, 'a', 'alibi')], [short]);
    expect(spec.title).toBe('Loss per position, longest length');
    expect(spec.xLabel).toBe('position');
    expect(spec.series[0]!.y).toEqual(ramp(32));

    // Learned stops at its block: its longest applicable length is used, and the bin width follows from it.
    const long: EvalLengthResultData = { runId: 2, block: 16, scheme: 'rope', results: [lengthResult(16, ramp(16)), lengthResult(128, ramp(128))] };
    const learned: EvalLengthResultData = { runId: 3, block: 16, scheme: 'learned', results: [lengthResult(16, ramp(16)), lengthResult(128, [], false)] };
    const mixed = perPositionChart([named(2, 'b', 'rope'), named(3, 'c', 'learned')], [long, learned]);
    expect(mixed.series.map((s) => s.label)).toEqual(['#2 rope at 128', '#3 learned at 16']);
    expect(mixed.series.map((s) => s.fullName)).toEqual(['#2 b at length 128', '#3 c at length 16']);
    expect(mixed.series[0]!.y).toEqual(Array.from({ length: 32 }, (_, i) => 4 * i + 1.5));
    expect(mixed.series[0]!.x[0]).toBe(2.5);
    expect(mixed.xLabel).toBe('position (mean over bins)');
    expect(perPositionChart([named(2, 'b', 'rope')], [long]).xLabel).toBe('position (mean of each 4)');
  });
});

describe('loss vs length', () => {
  it('marks on the chart where a run stops being applicable, beside the training length', () => {
    const learned: EvalLengthResultData = { runId: 3, block: 16, scheme: 'learned', results: [lengthResult(16, []), lengthResult(32, [], false), lengthResult(64, [], false)] };
    const alibi: EvalLengthResultData = { runId: 4, block: 16, scheme: 'alibi', results: [lengthResult(16, []), lengthResult(32, []), lengthResult(64, [])] };
    const spec = lengthChart([named(3, 'c', 'learned'), named(4, 'd', 'alibi')], [learned, alibi], 'loss');
    expect(spec.markers).toEqual([{ x: 16, label: 'trained at 16' }, { x: 32, label: 'n/a from here: #3' }]);
    expect(spec.series[0].y).toEqual([1, null, null]);
  });
});
