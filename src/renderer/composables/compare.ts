/**
 * Comparing runs, as pure functions: which config fields differ, grouping by a hyperparameter, and the overlay
 * chart (metric, x axis, EMA smoothing, log-y) built from each run's metric rows.
 */
import type { MetricRowData, RunInfo } from '../../shared/api';
import { emaSmooth, RUN_PALETTE, runColor, type ChartSpec, type SeriesSpec } from '../charts/spec';
import { runLabels } from './runLabels';

type Scalar = string | number | boolean | null;

/** Config fields in the order the table shows them, with names people read. */
export const CONFIG_LABELS: Record<string, string> = {
  pos: 'positional scheme',
  norm: 'norm placement',
  normType: 'norm type',
  dropoutEmbd: 'dropout (embedding)',
  dropoutAttn: 'dropout (attention)',
  dropoutResid: 'dropout (residual)',
  nLayer: 'layers',
  nHead: 'heads',
  nEmbd: 'width',
  blockSize: 'block size',
  batchSize: 'batch size',
  steps: 'steps',
  lr: 'learning rate',
  minLr: 'min learning rate',
  warmupSteps: 'warmup steps',
  weightDecay: 'weight decay',
  beta1: 'beta1',
  beta2: 'beta2',
  gradClip: 'grad clip',
  data: 'data',
  seed: 'seed',
  threads: 'threads',
  evalEvery: 'eval every',
  evalBatches: 'eval batches',
  sampleEvery: 'sample every',
  sampleLength: 'sample length',
  checkpointEvery: 'checkpoint every',
  valFraction: 'validation fraction',
  causal: 'causal mask',
  attnScale: '1/√d scaling',
  tokenEmbedding: 'token embedding',
};

/** A config as flat field → value, scheme knobs as `posOptions.<key>`. */
export function flattenConfig(config: Record<string, unknown>): Record<string, Scalar> {
  const flat: Record<string, Scalar> = {};
  // Runs stored before data-parallel training ran on one thread; they should not differ from new 1-thread runs.
  for (const [key, value] of Object.entries({ threads: 1, ...config })) {
    if (key === 'posOptions' && value && typeof value === 'object') {
      for (const [knob, v] of Object.entries(value as Record<string, unknown>)) flat[`posOptions.${knob}`] = v as Scalar;
    } else if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) {
      flat[key] = value as Scalar;
    }
  }
  return flat;
}

export function fieldLabel(field: string): string {
  if (field.startsWith('posOptions.')) return `scheme knob ${field.slice('posOptions.'.length)}`;
  return CONFIG_LABELS[field] ?? field;
}

export function formatValue(value: Scalar | undefined): string {
  if (value === undefined) return '–';
  if (value === null) return 'auto';
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return String(value);
}

export interface DiffRow {
  field: string;
  label: string;
  /** One per run, in the order the runs were given. */
  values: string[];
}

/**
 * The config fields whose values are not the same in every run (a field only some runs have counts as different),
 * in the table's order: known fields first, then scheme knobs, then anything else alphabetically.
 */
export function configDiff(configs: readonly Record<string, unknown>[]): DiffRow[] {
  if (configs.length < 2) return [];
  const flats = configs.map(flattenConfig);
  const fields = new Set(flats.flatMap((f) => Object.keys(f)));
  const known = Object.keys(CONFIG_LABELS);
  const rank = (f: string): number => (known.includes(f) ? known.indexOf(f) : f.startsWith('posOptions.') ? known.length : known.length + 1);
  return [...fields]
    .filter((field) => new Set(flats.map((f) => formatValue(f[field]))).size > 1)
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map((field) => ({ field, label: fieldLabel(field), values: flats.map((f) => formatValue(f[field])) }));
}

/** The fields worth grouping by: those that differ between the runs. */
export function groupableFields(configs: readonly Record<string, unknown>[]): string[] {
  return configDiff(configs).map((row) => row.field);
}

export type CompareMetric = 'trainLoss' | 'valLoss';
export type CompareX = 'step' | 'tokens' | 'wallMs';

export interface CompareOptions {
  metric: CompareMetric;
  x: CompareX;
  /** EMA weight on the past, 0 (none) … 0.99. */
  smoothing: number;
  logY: boolean;
  /** A config field: runs with the same value share a colour and the legend says the value. */
  groupBy: string | null;
}

const X_LABELS: Record<CompareX, string> = { step: 'step', tokens: 'tokens', wallMs: 'wall time (s)' };
const METRIC_LABELS: Record<CompareMetric, string> = { trainLoss: 'train loss', valLoss: 'val loss' };

/** The overlay chart: one series per run, its colour stable per run (or per group value). */
export function compareChart(runs: readonly Pick<RunInfo, 'id' | 'name' | 'config'>[], metrics: ReadonlyMap<number, readonly MetricRowData[]>, opts: CompareOptions): ChartSpec {
  const labels = runLabels(runs);
  const groupValues = opts.groupBy ? [...new Set(runs.map((r) => formatValue(flattenConfig(r.config)[opts.groupBy!])))] : [];
  const series: SeriesSpec[] = runs.map((run) => {
    const rows = (metrics.get(run.id) ?? []).filter((r) => r[opts.metric] !== null);
    // Steps as the store and the run exports count them (0 = the first step), so every file agrees.
    const x = rows.map((r) => (opts.x === 'step' ? r.step : opts.x === 'tokens' ? r.tokens : r.wallMs / 1000));
    const raw = rows.map((r) => r[opts.metric]);
    const group = opts.groupBy ? formatValue(flattenConfig(run.config)[opts.groupBy]) : null;
    return {
      label: group === null ? labels.get(run.id)! : `${fieldLabel(opts.groupBy!)} = ${group} · #${run.id}`,
      fullName: `#${run.id} ${run.name}`,
      color: group === null ? runColor(run.id) : RUN_PALETTE[groupValues.indexOf(group) % RUN_PALETTE.length],
      x,
      y: emaSmooth(raw, opts.smoothing),
      ...(opts.smoothing > 0 ? { raw } : {}),
      points: opts.metric === 'valLoss',
    };
  });
  const smoothing = opts.smoothing > 0 ? `, EMA ${opts.smoothing}` : '';
  return {
    title: `${METRIC_LABELS[opts.metric]} by ${X_LABELS[opts.x].replace(' (s)', '')}${smoothing}`,
    xLabel: X_LABELS[opts.x],
    yLabel: METRIC_LABELS[opts.metric],
    yLog: opts.logY,
    ...(opts.smoothing > 0 ? { smoothing: opts.smoothing } : {}),
    series,
  };
}
