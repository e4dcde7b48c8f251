/**
 * The pure parts of iterating on experiments: short run labels built from what differs, the New run form filled
 * from a stored run (Clone), queue start estimates, and exports that say what they hold (raw vs smoothed, axis ends).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RunConfigData, RunInfo } from '../../src/shared/api';
import { chartToCsv, chartToJson } from '../../src/renderer/charts/dataExport';
import type { ChartSpec } from '../../src/renderer/charts/spec';
import { chartToSvg, heatScale } from '../../src/renderer/charts/svg';
import { compareChart } from '../../src/renderer/composables/compare';
import { formFromConfig, formOverrides } from '../../src/renderer/composables/configForm';
import { equivarianceChart } from '../../src/renderer/composables/probes';
import { queueEstimates } from '../../src/renderer/composables/queue';
import { parseRecipeReferences } from '../../src/renderer/composables/recipeReferences';
import { runLabels } from '../../src/renderer/composables/runLabels';

const BASE: RunConfigData = {
  data: 'builtin:toy-english', nLayer: 3, nHead: 3, nEmbd: 48, blockSize: 64, batchSize: 32, steps: 500, lr: 1e-3, minLr: 1e-4,
  warmupSteps: null, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, gradClip: 1, dropoutEmbd: 0, dropoutAttn: 0, dropoutResid: 0,
  pos: 'learned', posOptions: {}, norm: 'pre', normType: 'layer', causal: true, attnScale: true, tokenEmbedding: true, seed: 1337,
  threads: 1, backend: 'auto', tokenizer: 'char', evalEvery: 0, evalBatches: 4, sampleEvery: 250, sampleLength: 120, checkpointEvery: 250, valFraction: 0.1,
};
const PRESETS = [
  { name: 'nano' as const, nLayer: 3, nHead: 3, nEmbd: 48 },
  { name: 'micro' as const, nLayer: 4, nHead: 4, nEmbd: 128 },
];
const runOf = (id: number, config: Partial<RunConfigData>, name = `#${id} tiny sweep · a long name cut off here`) => ({ id, name, config: { ...BASE, ...config } }) as RunInfo;

describe('runLabels', () => {
  it('labels runs by their number and what differs between them, the three dropouts read once', () => {
    const runs = [runOf(5, { pos: 'rope' }), runOf(6, { pos: 'alibi' }), runOf(7, { pos: 'rope', dropoutEmbd: 0.1, dropoutAttn: 0.1, dropoutResid: 0.1 })];
    expect([...runLabels(runs).values()]).toEqual(['#5 rope · drop 0', '#6 alibi · drop 0', '#7 rope · drop 0.1']);
    const withNorm = [runOf(5, { pos: 'rope' }), runOf(6, { pos: 'alibi', norm: 'post' })];
    expect([...runLabels(withNorm).values()]).toEqual(['#5 rope · pre-norm', '#6 alibi · post-norm']);
  });

  it('keeps at most three settings, in the compare table’s order, and names knobs and other fields', () => {
    const runs = [runOf(1, { lr: 0.003, seed: 1, posOptions: { base: 500 }, blockSize: 32 }), runOf(2, { lr: 0.001, seed: 2, posOptions: { base: 10000 }, blockSize: 64 })];
    expect([...runLabels(runs).values()]).toEqual(['#1 block 32 · lr 0.003 · seed 1', '#2 block 64 · lr 0.001 · seed 2']);
  });

  it('names a scheme’s knob only where runs of that scheme differ in it', () => {
    const runs = [runOf(1, { pos: 'rope', posOptions: { base: 10000 } }), runOf(2, { pos: 'alibi' }), runOf(3, { pos: 'rope', posOptions: { base: 500 } })];
    expect([...runLabels(runs).values()]).toEqual(['#1 rope · base 10000', '#2 alibi', '#3 rope · base 500']);
    expect([...runLabels(runs.slice(0, 2)).values()]).toEqual(['#1 rope', '#2 alibi']);
  });

  it('leaves out how often runs log or save unless nothing else differs', () => {
    expect([...runLabels([runOf(1, { pos: 'rope', evalEvery: 10 }), runOf(2, { pos: 'alibi' })]).values()]).toEqual(['#1 rope', '#2 alibi']);
    expect([...runLabels([runOf(1, { evalEvery: 10 }), runOf(2, {})]).values()]).toEqual(['#1 evalEvery 10', '#2 evalEvery 0']);
  });

  it('falls back to the shortened name when nothing differs, and labels are always distinct', () => {
    const runs = [runOf(1, {}), runOf(2, {})];
    const labels = [...runLabels(runs, 12).values()];
    expect(labels).toEqual(['#1 #1 tiny swe…', '#2 #2 tiny swe…']);
    expect(new Set(labels).size).toBe(2);
  });

  it('puts the short labels in the compare legend and the full names in the tooltip and the SVG titles', () => {
    const runs = [runOf(1, { pos: 'rope' }, 'one <&>'), runOf(2, { pos: 'alibi' }, 'two')];
    const rows = [0, 1].map((step) => ({ step, tokens: step, wallMs: step, trainLoss: 1, valLoss: null, lr: null, gradNorm: null }));
    const spec = compareChart(runs, new Map(runs.map((r) => [r.id, rows])), { metric: 'trainLoss', x: 'step', smoothing: 0, logY: false, groupBy: null });
    expect(spec.series.map((s) => [s.label, s.fullName])).toEqual([['#1 rope', '#1 one <&>'], ['#2 alibi', '#2 two']]);
    expect(chartToSvg(spec)).toContain('<title>#1 one &lt;&amp;&gt;</title>');
  });
});

describe('formFromConfig (Clone)', () => {
  it('fills every box from the run, and the form then asks for exactly that config again', () => {
    const config: RunConfigData = { ...BASE, pos: 'rope', posOptions: { base: 500 }, norm: 'post', normType: 'rms', warmupSteps: 20, lr: 0.003, steps: 1234, seed: 9, beta2: 0.99, evalBatches: 2, attnScale: false, attnLogScaling: 'fixed', randomPositions: 128 };
    const form = formFromConfig(config, PRESETS);
    expect(form.randomPositions).toBe(128);
    expect(form).toMatchObject({ preset: 'nano', dataKind: 'builtin', builtin: 'toy-english', pos: 'rope', norm: 'post', normType: 'rms', attnLogScaling: 'fixed', warmupAuto: false, warmupSteps: 20, separateDropout: false });
    const { preset, ...asked } = formOverrides(form, undefined);
    expect(preset).toBe('nano');
    // No scheme info given: the knobs come from the run itself (the view passes the scheme; see below).
    expect({ ...asked, posOptions: config.posOptions }).toEqual(config);
  });

  it('keeps a file path, separate dropouts and the size of a run no preset matches', () => {
    const form = formFromConfig({ ...BASE, data: '/data/corpus.txt', dropoutEmbd: 0.1, dropoutAttn: 0.2, dropoutResid: 0, nLayer: 5, threads: undefined }, PRESETS);
    expect(form).toMatchObject({ dataKind: 'file', filePath: '/data/corpus.txt', separateDropout: true, preset: 'nano' });
    expect(form.attnLogScaling).toBe('none'); // stored before log-n scaling existed
    expect(form.randomPositions).toBe(0);
    expect(form.numbers).toMatchObject({ nLayer: 5, dropoutAttn: 0.2, threads: 1 });
    expect(formOverrides(form, undefined)).toMatchObject({ data: '/data/corpus.txt', nLayer: 5, dropoutEmbd: 0.1, dropoutAttn: 0.2, dropoutResid: 0 });
  });
});

describe('queueEstimates', () => {
  it('adds each run ahead at the current speed after the running run’s ETA', () => {
    // 1000 tokens/s; run 8 has 100 steps × 2 × 5 = 1000 tokens = 1 s, run 9 10 s.
    const queued = [{ runId: 8, steps: 100, batchSize: 2, blockSize: 5 }, { runId: 9, steps: 1000, batchSize: 2, blockSize: 5 }, { runId: 10, steps: 1, batchSize: 1, blockSize: 1 }];
    expect(queueEstimates(queued, 30_000, 1000)).toEqual([
      { runId: 8, position: 1, startsInMs: 30_000 },
      { runId: 9, position: 2, startsInMs: 31_000 },
      { runId: 10, position: 3, startsInMs: 41_000 },
    ]);
    expect(queueEstimates(queued, null, 1000).map((e) => e.startsInMs)).toEqual([null, null, null]);
    expect(queueEstimates(queued, 5000, 0).map((e) => [e.position, e.startsInMs])).toEqual([[1, null], [2, null], [3, null]]);
  });
});

describe('chart exports', () => {
  const smoothed: ChartSpec = { title: 't', xLabel: 'step', yLabel: 'train loss', smoothing: 0.6, series: [{ label: '#1 rope', color: '#000', x: [0, 1], y: [3, 2.5], raw: [3, 2] }] };

  it('writes raw and smoothed values in columns named so', () => {
    expect(chartToCsv(smoothed)).toBe('series,step,train loss (raw),train loss (EMA 0.6)\n#1 rope,0,3,3\n#1 rope,1,2,2.5\n');
    expect(JSON.parse(chartToJson(smoothed))).toMatchObject({ smoothing: 0.6, series: [{ y: [3, 2.5], raw: [3, 2] }] });
  });

  it('labels the first and the last tick of each linear axis at its ends, as the screen does', () => {
    const spec: ChartSpec = { title: 't', xLabel: 'step', yLabel: 'loss', series: [{ label: 's', color: '#000', x: [0, 250, 499], y: [4.19, 3, 2.31] }] };
    const svg = chartToSvg(spec);
    const ticks = (group: string): string[] => [...new RegExp(`<g class="${group}"[^>]*>([\\s\\S]*?)</g>`).exec(svg)![1].matchAll(/>([^<]+)<\/text>/g)].map((m) => m[1]);
    expect(ticks('x-ticks')).toEqual(['0', '100', '200', '300', '400', '500']);
    expect(ticks('y-ticks')).toEqual(['2', '2.5', '3', '3.5', '4', '4.5']);
  });
});

describe('probe charts', () => {
  it('draws the equivariance differences as one bar per scheme and mask, standing on the axis', () => {
    const rows = ['none', 'alibi'].flatMap((scheme) => [false, true].map((causal) => ({ scheme, causal, difference: causal ? 0.3 : 0, tied: !causal })));
    const spec = equivarianceChart(rows);
    expect(spec.series.every((s) => s.bars)).toBe(true);
    const svg = chartToSvg(spec);
    expect(svg.match(/<rect x="[^"]+" y="[^"]+" width="[^"]+" height="[^"]+"\/>/g)).toHaveLength(4);
    expect(svg.match(/<path /g)).toBeNull();
    // Side by side: the two bars of a scheme do not overlap.
    const [noneUnmasked, , noneCausal] = [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="[\d.]+"\/>/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(noneUnmasked[0] + noneUnmasked[1]).toBeLessThanOrEqual(noneCausal[0] + 1e-6);
  });

  it('gives a heatmap’s colour scale: its range for weights, ±the largest magnitude for signed values', () => {
    expect(heatScale({ values: [[0.1, 0.9]], scale: 'sequential' })).toMatchObject({ low: 0.1, high: 0.9 });
    const signed = heatScale({ values: [[-0.5, 2]], scale: 'diverging' });
    expect([signed.low, signed.high]).toEqual([-2, 2]);
    expect(signed.gradient).toBe('linear-gradient(to right, rgb(33,102,172) 0%, rgb(144,179,214) 25%, rgb(255,255,255) 50%, rgb(217,140,149) 75%, rgb(178,24,43) 100%)');
  });
});

describe('recipe references', () => {
  it('reads every recipe’s shipped result from docs/RECIPES.md: full size where there is one, else quick size', () => {
    const references = parseRecipeReferences(readFileSync('docs/RECIPES.md', 'utf8'));
    expect(references.size).toBeGreaterThanOrEqual(7);
    for (const reference of references.values()) {
      expect(reference.version).toBeGreaterThanOrEqual(1);
      expect(['held', 'did not hold', 'inconclusive']).toContain(reference.verdict);
      expect(reference.summary.length).toBeGreaterThan(10);
      expect(reference.summary).not.toContain('\\|');
    }
  });

  it('prefers the full-size table, unescapes bars, and also reads the older four-column table', () => {
    const doc = [
      '## Full size',
      '| `dog-equivariance` v2 | **held** | \\|difference\\| at most 1e-5 |',
      '## Quick size, all seven',
      '| `dog-equivariance` v2 | **did not hold** | quick numbers |',
      '| `extrapolation` v2 | **inconclusive** | ratio 1.01 |',
      '## Details',
      '| `no-layernorm` v1 | **held** | a details table, not a result |',
    ].join('\n');
    const references = parseRecipeReferences(doc);
    expect(references.get('dog-equivariance')).toEqual({ name: 'dog-equivariance', version: 2, verdict: 'held', summary: '|difference| at most 1e-5', size: 'full' });
    expect(references.get('extrapolation')).toMatchObject({ verdict: 'inconclusive', size: 'quick' });
    expect(references.has('no-layernorm')).toBe(false);
    const old = '| `dog-equivariance` v1 | A claim. | **held** | no PE, no mask: difference 0 |';
    expect(parseRecipeReferences(`intro\n${old}\n`).get('dog-equivariance')).toMatchObject({ version: 1, verdict: 'held', summary: 'no PE, no mask: difference 0', size: 'full' });
  });
});
