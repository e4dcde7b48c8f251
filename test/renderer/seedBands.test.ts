/** Seed groups in Compare: which runs form a group, the mean ± std band by hand, and the band in the chart and its exports. */
import { describe, expect, it } from 'vitest';
import { chartToCsv, chartToJson } from '../../src/renderer/charts/dataExport';
import { chartToSvg } from '../../src/renderer/charts/svg';
import { compareChart, seedGroups } from '../../src/renderer/composables/compare';
import { seedBand } from '../../src/renderer/composables/seedBands';
import type { MetricRowData, RunInfo } from '../../src/shared/api';

const config = (patch: Record<string, unknown>) => ({ pos: 'rope', norm: 'pre', lr: 1e-3, seed: 1, posOptions: { base: 10000 }, data: 'builtin:copy', ...patch }) as unknown as RunInfo['config'];
const run = (id: number, patch: Record<string, unknown>, name = `r${id}`) => ({ id, name, config: config(patch) });

describe('seedGroups', () => {
  it('groups runs equal in every setting but the seed, keeping first-seen order and singletons', () => {
    const runs = [run(1, { seed: 1 }), run(2, { seed: 1, lr: 2e-3 }), run(3, { seed: 2 }), run(4, { seed: 3, posOptions: { base: 500 } }), run(5, { seed: 9 })];
    expect(seedGroups(runs).map((g) => g.map((r) => r.id))).toEqual([[1, 3, 5], [2], [4]]);
  });
});

describe('seedBand', () => {
  it('is the mean and sample std at each step all seeds share (hand values)', () => {
    // step 0: 2, 2.2, 2.4 → mean 2.2, std 0.2; step 1: 1, 1, 1 → 1, 0; step 2 is missing in one run; step 3 has a null.
    const band = seedBand([
      { step: [0, 1, 2, 3], x: [10, 20, 30, 40], y: [2.0, 1, 5, null] },
      { step: [0, 1, 3], x: [12, 22, 42], y: [2.2, 1, 3] },
      { step: [0, 1, 2, 3], x: [14, 24, 34, 44], y: [2.4, 1, 5, 3] },
    ]);
    expect(band.n).toBe(3);
    expect(band.x).toEqual([12, 22]);
    expect(band.mean[0]).toBeCloseTo(2.2, 12);
    expect(band.std[0]).toBeCloseTo(0.2, 12);
    expect(band.mean[1]).toBe(1);
    expect(band.std[1]).toBe(0);
    expect(() => seedBand([{ step: [0], x: [0], y: [1] }])).toThrow(/at least 2 runs/);
  });
});

describe('compareChart with seed bands', () => {
  const rows = (id: number, losses: number[]): MetricRowData[] =>
    losses.map((trainLoss, step) => ({ runId: id, step, tokens: 8 * (step + 1), wallMs: 100 * step, trainLoss, valLoss: null, lr: 1e-3, gradNorm: 1 }) as unknown as MetricRowData);
  const runs = [run(1, { seed: 1 }, 'rope · seed 1'), run(2, { seed: 2 }, 'rope · seed 2'), run(3, { pos: 'alibi', posOptions: {} })];
  const metrics = new Map([
    [1, rows(1, [3, 2])],
    [2, rows(2, [3.2, 2.4])],
    [3, rows(3, [3.1, 2.1])],
  ]);
  const opts = { metric: 'trainLoss', x: 'step', smoothing: 0, logY: false, groupBy: null } as const;

  it('draws a seed group as its mean with a ± std band and "n seeds" in the legend, its seeds thin; others unchanged', () => {
    const spec = compareChart(runs, metrics, { ...opts, seedBands: true });
    expect(spec.series.map((s) => s.label)).toEqual(['#1 rope: mean ± std, 2 seeds', '#1 rope · seed 1', '#2 rope · seed 2', '#3 alibi · seed 1']);
    expect(spec.series[0]!.fullName).toBe('#1 #2 rope: mean ± std over 2 seeds');
    const [mean, seed1] = spec.series;
    expect(mean!.x).toEqual([0, 1]); // steps as stored, 0 first
    expect(mean!.y[0]).toBeCloseTo(3.1, 12);
    const std0 = 0.2 / Math.SQRT2; // two values 0.2 apart
    expect(mean!.band!.high[0]).toBeCloseTo(3.1 + std0, 12);
    expect(mean!.band!.low[1]).toBeCloseTo(2.2 - 0.4 / Math.SQRT2, 12);
    expect(seed1!.width).toBe(1);
    expect(spec.series[3]!.band).toBeUndefined();
    // Off, the same runs are three plain curves.
    expect(compareChart(runs, metrics, opts).series.map((s) => [s.label, s.band])).toEqual([
      ['#1 rope · seed 1', undefined],
      ['#2 rope · seed 2', undefined],
      ['#3 alibi · seed 1', undefined],
    ]);
  });

  it('exports the per-seed and the aggregate rows, labelled, with the band as its own columns', () => {
    const spec = compareChart(runs, metrics, { ...opts, seedBands: true });
    const csv = chartToCsv(spec).trimEnd().split('\n');
    expect(csv[0]).toBe('series,step,train loss,train loss band low,train loss band high');
    const label = '"#1 rope: mean ± std, 2 seeds",'; // quoted: the label holds a comma
    expect(csv[1]!.startsWith(label)).toBe(true);
    const [x, mean, low, high] = csv[1]!.slice(label.length).split(',').map(Number);
    expect([x, mean, low, high]).toEqual([0, spec.series[0]!.y[0], spec.series[0]!.band!.low[0], spec.series[0]!.band!.high[0]]);
    expect(csv.filter((line) => line.startsWith('#1 rope · seed 1,'))).toEqual(['#1 rope · seed 1,0,3,,', '#1 rope · seed 1,1,2,,']);
    const json = JSON.parse(chartToJson(spec)) as { series: { label: string; band?: { low: number[] } }[] };
    expect(json.series.map((s) => s.band !== undefined)).toEqual([true, false, false, false]);
    const svg = chartToSvg(spec);
    expect(svg.match(/class="band"/g)).toHaveLength(1);
  });
});
