/** The data behind a chart as CSV (long format: one row per point) or JSON (the spec itself). */
import type { ChartSpec, HeatmapSpec } from './spec';

function csvCell(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Long format, one row per point; a smoothed chart writes the raw and the smoothed value side by side, named so. */
export function chartToCsv(spec: ChartSpec): string {
  const smoothed = spec.series.some((s) => s.raw);
  const header = smoothed ? ['series', spec.xLabel, `${spec.yLabel} (raw)`, `${spec.yLabel} (EMA ${spec.smoothing ?? ''})`.replace(' )', ')')] : ['series', spec.xLabel, spec.yLabel];
  const lines = [header.map(csvCell).join(',')];
  for (const s of spec.series)
    for (let i = 0; i < s.x.length; i++) {
      const values = smoothed ? [s.raw?.[i] ?? s.y[i] ?? null, s.y[i] ?? null] : [s.y[i] ?? null];
      lines.push([s.label, s.x[i], ...values].map(csvCell).join(','));
    }
  return `${lines.join('\n')}\n`;
}

export function chartToJson(spec: ChartSpec): string {
  return `${JSON.stringify(
    { title: spec.title, xLabel: spec.xLabel, yLabel: spec.yLabel, xLog: !!spec.xLog, yLog: !!spec.yLog, markers: spec.markers ?? [], smoothing: spec.smoothing ?? null, series: spec.series.map((s) => ({ label: s.label, ...(s.fullName ? { name: s.fullName } : {}), color: s.color, x: s.x, y: s.y, ...(s.raw ? { raw: s.raw } : {}) })) },
    null,
    1,
  )}\n`;
}

export function heatmapToCsv(spec: HeatmapSpec): string {
  const header = ['', ...(spec.colNames ?? spec.values[0]?.map((_, c) => String(c)) ?? [])].map(csvCell).join(',');
  const rows = spec.values.map((row, r) => [spec.rowNames?.[r] ?? String(r), ...row].map(csvCell).join(','));
  return `${[header, ...rows].join('\n')}\n`;
}

export function heatmapToJson(spec: HeatmapSpec): string {
  return `${JSON.stringify({ title: spec.title, rowLabel: spec.rowLabel, colLabel: spec.colLabel, rowNames: spec.rowNames, colNames: spec.colNames, values: spec.values })}\n`;
}

/** A file name from a chart title: lower case, dashes, no characters any file system refuses. */
export function fileSlug(title: string): string {
  return (
    title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'chart'
  );
}
