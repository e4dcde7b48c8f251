import { describe, expect, it } from 'vitest';
import { chartToCsv, chartToJson, fileSlug, heatmapToCsv } from '../../src/renderer/charts/dataExport';
import { downsampleMinMax, MinMaxDownsampler } from '../../src/renderer/charts/downsample';
import { emaSmooth, formatTick, logTicks, niceTicks, runColor, tickFormatter, type ChartSpec } from '../../src/renderer/charts/spec';
import { chartToSvg, escapeXml, heatmapToSvg } from '../../src/renderer/charts/svg';
import { compareChart } from '../../src/renderer/composables/compare';
import { metricDatasets } from '../../src/renderer/charts/metricSeries';

/** A small well-formedness check: every tag closes in order (the e2e test parses exports with a real DOMParser). */
function balancedTags(svg: string): boolean {
  const stack: string[] = [];
  for (const [, close, name, selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>/g)) {
    if (selfClosing) continue;
    if (close) {
      if (stack.pop() !== name) return false;
    } else stack.push(name);
  }
  return stack.length === 0;
}

describe('min/max downsampling', () => {
  it('keeps small series as they are', () => {
    expect(downsampleMinMax([1, 2, 3], [5, 4, 6], 10)).toEqual([
      { x: 1, y: 5 },
      { x: 2, y: 4 },
      { x: 3, y: 6 },
    ]);
  });

  it('bounds 100k points to about two per bucket, in x order, keeping every extreme and both ends', () => {
    const n = 100_000;
    const xs = Array.from({ length: n }, (_, i) => i);
    const ys = xs.map((i) => Math.sin(i / 500) + (i === 77_777 ? 50 : 0) - (i === 12_345 ? 40 : 0));
    const started = performance.now();
    const out = downsampleMinMax(xs, ys, 1000);
    expect(performance.now() - started).toBeLessThan(500);
    expect(out.length).toBeLessThanOrEqual(2 * 1000 + 2);
    expect(out.length).toBeGreaterThan(1000);
    for (let i = 1; i < out.length; i++) expect(out[i].x).toBeGreaterThan(out[i - 1].x);
    expect(out).toContainEqual({ x: 77_777, y: ys[77_777] });
    expect(out).toContainEqual({ x: 12_345, y: ys[12_345] });
    expect(out[0]).toEqual({ x: 0, y: ys[0] });
    expect(out.at(-1)).toEqual({ x: n - 1, y: ys[n - 1] });
  });

  it('streams: appending gives the same picture as downsampling the whole series, and skips non-finite values', () => {
    const sampler = new MinMaxDownsampler(64);
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const y = Math.cos(i / 37) * (1 + i / 1000);
      sampler.push(i, y);
      xs.push(i);
      ys.push(y);
    }
    sampler.push(5000, Number.NaN);
    expect(sampler.size).toBe(5000);
    expect(sampler.points()).toEqual(downsampleMinMax(xs, ys, 64));
    expect(sampler.points().length).toBeLessThanOrEqual(130);
  });
});

describe('chart helpers', () => {
  it('EMA smoothing is debiased, leaves nulls, and 0 means none', () => {
    expect(emaSmooth([2, 2, 2], 0.9)).toEqual([2, 2, 2].map((v) => expect.closeTo(v, 10)));
    expect(emaSmooth([1, null, 3], 0)).toEqual([1, null, 3]);
    const smooth = emaSmooth([0, 10], 0.5);
    expect(smooth[1]).toBeCloseTo((0.5 * 0.5 * 0 + 0.5 * 10) / (1 - 0.25), 10);
    expect(emaSmooth([1, null, 1], 0.5)[1]).toBeNull();
  });

  it('ticks are round and labelled with enough decimals to differ', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(3.0851, 3.0889, 4).every((t) => t >= 3.0851 && t <= 3.0889)).toBe(true);
    const ticks = niceTicks(3.0851, 3.0889, 4);
    const labels = ticks.map(tickFormatter(ticks));
    expect(new Set(labels).size).toBe(labels.length);
    expect(logTicks(1, 1000)).toEqual([1, 10, 100, 1000]);
    expect([0, 250000].map(tickFormatter([0, 250000]))).toEqual(['0', '250k']);
    expect([0, 20000, 40000, 120000].map(tickFormatter([0, 20000, 40000, 120000]))).toEqual(['0', '20k', '40k', '120k']);
    expect([1e6, 1.5e6, 2e6].map(tickFormatter([1e6, 1.5e6, 2e6]))).toEqual(['1M', '1.5M', '2M']);
    expect(tickFormatter([0, 5e12])(5e12)).toBe('5.0e12');
    const lr = [3e-4, 2.98e-4, 2.96e-4];
    expect(lr.map(tickFormatter(lr))).toEqual(['3.00e-4', '2.98e-4', '2.96e-4']);
    expect([12345, 2.5e9, 0.0005, 3.14159].map(formatTick)).toEqual(['12.3k', '2.5G', '5.0e-4', '3.142']);
  });

  it('gives each run a stable colour', () => {
    expect(runColor(3)).toBe(runColor(3));
    expect(runColor(1)).not.toBe(runColor(2));
    expect(runColor(11)).toBe(runColor(1));
  });
});

describe('SVG export', () => {
  const rows = (scale: number) => Array.from({ length: 200 }, (_, step) => ({ step, tokens: (step + 1) * 512, wallMs: step * 40, trainLoss: scale * (3 + 1 / (step + 1)), valLoss: step % 50 === 49 ? scale * 3 : null, lr: 1e-3, gradNorm: 1 }));
  const runs = [1, 2, 3, 4].map((id) => ({ id, name: id === 4 ? 'alibi <& "quoted">' : `run ${id}`, config: { pos: ['none', 'rope', 'learned', 'alibi'][id - 1], nLayer: 2 } as never }));
  const metrics = new Map(runs.map((r) => [r.id, rows(1 + r.id / 10)]));

  it('writes a 4-run overlay as a valid SVG with 4 paths, axis labels, ticks, a legend and escaped names', () => {
    const spec = compareChart(runs, metrics, { metric: 'trainLoss', x: 'tokens', smoothing: 0.6, logY: true, groupBy: null });
    const svg = chartToSvg(spec);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(balancedTags(svg)).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(4);
    expect(svg).toContain('>tokens</text>');
    expect(svg).toContain('>train loss (log)</text>');
    expect(svg).toContain('#4 alibi &lt;&amp; &quot;quoted&quot;&gt;');
    expect(svg).not.toContain('<& "quoted">');
    expect(svg.match(/class="legend-item"/g)).toHaveLength(4);
    expect((svg.match(/<text x="[\d.]+" y="[\d.]+">/g) ?? []).length).toBeGreaterThan(4);
    // Each path draws every point of its run (200 rows → 1 move + 199 lines).
    const firstPath = /<path d="([^"]+)"/.exec(svg)![1];
    expect(firstPath.match(/L/g)).toHaveLength(199);
  });

  it('breaks a path at gaps and draws markers and category ticks', () => {
    const spec: ChartSpec = { title: 'T', xLabel: 'x', yLabel: 'y', series: [{ label: 's', color: '#000', x: [0, 1, 2, 3], y: [1, null, 2, 3] }], markers: [{ x: 1, label: 'trained at 1' }], xCategories: ['a', 'b', 'c', 'd'] };
    const svg = chartToSvg(spec);
    expect(/<path d="M[\d. ]+M[\d. ]+L[\d. ]+"/.test(svg)).toBe(true);
    expect(svg).toContain('trained at 1');
    expect(svg).toContain('>c</text>');
    expect(balancedTags(svg)).toBe(true);
  });

  it('writes heatmaps as one rect per cell, and the data as CSV and JSON', () => {
    const svg = heatmapToSvg({ title: 'attn', rowLabel: 'query', colLabel: 'key', values: [[1, 0], [0.5, 0.5]], scale: 'sequential', rowNames: ['<', 'b'] });
    expect(svg.match(/<rect [^>]*fill="rgb\(/g)).toHaveLength(4);
    expect(svg).toContain('&lt;');
    expect(balancedTags(svg)).toBe(true);
    expect(heatmapToCsv({ title: 't', rowLabel: 'r', colLabel: 'c', values: [[1, 2]], scale: 'diverging' })).toBe(',0,1\n0,1,2\n');
    const spec: ChartSpec = { title: 'Loss, by "step"', xLabel: 'step', yLabel: 'loss', series: [{ label: 'a,b', color: '#000', x: [1, 2], y: [3, null] }] };
    expect(chartToCsv(spec)).toBe('series,step,loss\n"a,b",1,3\n"a,b",2,\n');
    expect(JSON.parse(chartToJson(spec)).series[0]).toEqual({ label: 'a,b', color: '#000', x: [1, 2], y: [3, null] });
    expect(fileSlug('Loss, by "step"')).toBe('loss-by-step');
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });
});

describe('metric chart series', () => {
  it('paints every series, val markers included, in its legend colour from the chart\'s creation', () => {
    const colors = ['#111111', '#222222', '#333333'];
    const [train, ema, val] = metricDatasets('loss', colors);
    expect([train!.label, ema!.label, val!.label]).toEqual(['train', 'train (EMA 0.9)', 'val']);
    colors.forEach((color, i) => {
      const set = [train, ema, val][i]!;
      expect([set.borderColor, set.pointBackgroundColor, set.pointBorderColor]).toEqual([color, color, color]);
    });
    expect(val!.pointRadius).toBeGreaterThan(0);
  });
});
