/** Probe results as chart and heatmap specs. */
import type { EquivarianceRowData } from '../../shared/api';
import type { ChartSpec, HeatmapSpec } from '../charts/spec';

/** Characters as the model sees them, with spaces made visible. */
export function tokenLabels(text: string): string[] {
  return [...text].map((c) => (c === ' ' ? '␣' : c === '\n' ? '⏎' : c));
}

export function attentionHeatmaps(layers: readonly (readonly (readonly (readonly number[])[])[])[], text: string): HeatmapSpec[][] {
  const names = tokenLabels(text);
  return layers.map((heads, l) =>
    heads.map((values, h) => ({ title: `layer ${l + 1} · head ${h + 1}`, rowLabel: 'query', colLabel: 'key', values, rowNames: names, colNames: names, scale: 'sequential' as const })),
  );
}

/**
 * max |output(dog₁) − output(dog₂)| per scheme, without and with the causal mask, as bars side by side (schemes
 * are categories: a line between them would mean nothing). Zero (tied) is drawn at the floor of the log scale the
 * differences need, so the legend says it.
 */
export function equivarianceChart(rows: readonly EquivarianceRowData[]): ChartSpec {
  const schemes = [...new Set(rows.map((r) => r.scheme))];
  const FLOOR = 1e-7;
  const series = [false, true].map((causal) => ({
    label: causal ? 'causal mask' : 'no mask (0 plotted at 1e-7)',
    color: causal ? '#e15759' : '#4e79a7',
    x: schemes.map((_, i) => i),
    y: schemes.map((s) => {
      const row = rows.find((r) => r.scheme === s && r.causal === causal);
      return row ? Math.max(FLOOR, row.difference) : null;
    }),
    bars: true,
  }));
  return { title: 'Equivariance: the two "dog" outputs differ by', xLabel: 'positional scheme', yLabel: 'max |difference|', yLog: true, xCategories: schemes, series };
}
