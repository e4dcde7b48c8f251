/** The extrapolation view's chart specs: per-position loss binned to a readable number of points. */
import { describe, expect, it } from 'vitest';
import type { EvalLengthResultData } from '../../src/shared/api';
import { binPositions, lengthChart, perPositionChart, taskChart } from '../../src/renderer/composables/extrapolation';

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

describe('rope scaling curves', () => {
  it('draws a scaled evaluation of a run as its own dashed curve in the run colour, named by its method', () => {
    const plain: EvalLengthResultData = { runId: 2, block: 16, scheme: 'rope', results: [lengthResult(16, [1]), lengthResult(32, [2])] };
    const yarn: EvalLengthResultData = { ...plain, ropeScaling: 'yarn' };
    const spec = lengthChart([named(2, 'b', 'rope')], [plain, yarn], 'loss');
    expect(spec.series.map((s) => [s.label, s.fullName, s.dashed, s.color])).toEqual([
      [spec.series[0]!.label, '#2 b (rope)', false, spec.series[0]!.color],
      [`${spec.series[0]!.label} · yarn`, '#2 b · yarn (rope)', true, spec.series[0]!.color],
    ]);
    expect(perPositionChart([named(2, 'b', 'rope')], [plain, yarn]).series.map((s) => s.fullName)).toEqual(['#2 b at length 32', '#2 b · yarn at length 32']);
  });
});

describe('seed bands', () => {
  const seeded = (id: number, pos: string, seed: number) => ({ id, name: `${pos} · seed ${seed}`, config: { pos, seed } as never });
  const evalOf = (runId: number, losses: (number | null)[], ropeScaling?: 'yarn'): EvalLengthResultData => ({
    runId, block: 16, scheme: 'rope', ...(ropeScaling ? { ropeScaling } : {}),
    results: losses.map((loss, i) => ({ ...lengthResult(16 * 2 ** i, []), loss, applicable: loss !== null })),
  });

  it('draws runs differing only in seed as mean ± std with n seeds, each seed thin; other runs stay single', () => {
    const runs = [seeded(1, 'rope', 1), seeded(2, 'rope', 2), seeded(3, 'rope', 3), seeded(4, 'alibi', 1)];
    // Losses at 16 / 32: seeds 1.0, 2.0, 3.0 → mean 2, sample std 1; at 32: 2, 4, 6 → mean 4, std 2.
    const evals = [evalOf(1, [1, 2]), evalOf(2, [2, 4]), evalOf(3, [3, 6]), evalOf(4, [5, 5])];
    const spec = lengthChart(runs, evals, 'loss', true);
    const [mean, ...rest] = spec.series;
    expect(mean!.label).toBe('#1 rope: mean ± std, 3 seeds');
    expect(mean!.fullName).toBe('#1 #2 #3 rope: mean ± std over 3 seeds');
    expect(mean!.x).toEqual([16, 32]);
    expect(mean!.y).toEqual([2, 4]);
    expect(mean!.band).toEqual({ low: [1, 2], high: [3, 6] });
    expect(rest.map((s) => [s.fullName, s.width])).toEqual([['#1 rope · seed 1 (rope)', 1], ['#2 rope · seed 2 (rope)', 1], ['#3 rope · seed 3 (rope)', 1], ['#4 alibi · seed 1 (rope)', undefined]]);
    expect(lengthChart(runs, evals, 'loss', false).series.some((s) => s.band)).toBe(false);
  });

  it('keeps a scaled evaluation its own group, and leaves a length out of the mean where a seed has no value', () => {
    const runs = [seeded(1, 'rope', 1), seeded(2, 'rope', 2)];
    const spec = lengthChart(runs, [evalOf(1, [1, 2]), evalOf(2, [3, null]), evalOf(1, [5, 6], 'yarn'), evalOf(2, [7, 8], 'yarn')], 'loss', true);
    const means = spec.series.filter((s) => s.band);
    expect(means.map((s) => [s.label, s.x, s.y])).toEqual([
      ['#1 rope: mean ± std, 2 seeds', [16], [2]],
      ['#1 rope · yarn: mean ± std, 2 seeds', [16, 32], [6, 7]],
    ]);
  });

  it('bands task accuracy the same way', () => {
    const runs = [seeded(1, 'rope', 1), seeded(2, 'rope', 2)];
    const task = (runId: number, accuracy: number) => ({ runId, task: 'count' as const, trainingMaxSize: 6, results: [{ size: 9, sequenceLength: 34, applicable: true, accuracy, examples: 24 }] });
    const spec = taskChart(runs, [task(1, 0.25), task(2, 0.75)], true);
    expect(spec.series[0]!.label).toBe('#1 rope: mean ± std, 2 seeds');
    expect(spec.series[0]!.y).toEqual([0.5]);
    expect(spec.series[0]!.band!.high[0]).toBeCloseTo(0.5 + Math.SQRT1_2 * 0.5, 12);
  });
});
