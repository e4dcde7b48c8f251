/** A run's data as a file: CSV of the metric curve, or JSON of the run, its config, metrics and samples. */
import type { MetricRow, RunRecord, SampleRow } from '../store';

export type ExportFormat = 'csv' | 'json';

export interface ExportedFile {
  filename: string;
  mimeType: string;
  content: string;
}

export function metricsCsv(rows: readonly MetricRow[]): string {
  const cell = (v: number | null): string => (v === null ? '' : String(v));
  const lines = ['step,tokens,wall_ms,train_loss,val_loss,lr,grad_norm'];
  for (const r of rows) lines.push([r.step, r.tokens, r.wallMs, r.trainLoss, r.valLoss, r.lr, r.gradNorm].map(cell).join(','));
  return `${lines.join('\n')}\n`;
}

/** A file name that is safe on every platform and still says which run it is. */
export function exportFilename(run: Pick<RunRecord, 'id' | 'name'>, format: ExportFormat): string {
  const slug = run.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return `gpt-lab-run-${run.id}${slug ? `-${slug}` : ''}.${format}`;
}

export function exportRunFile(run: RunRecord, metrics: readonly MetricRow[], samples: readonly SampleRow[], format: ExportFormat): ExportedFile {
  const filename = exportFilename(run, format);
  if (format === 'csv') return { filename, mimeType: 'text/csv', content: metricsCsv(metrics) };
  const { vocab: _vocab, ...record } = run;
  return { filename, mimeType: 'application/json', content: `${JSON.stringify({ run: record, metrics, samples }, null, 2)}\n` };
}
