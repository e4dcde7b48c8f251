/**
 * Comparing runs, as pure functions: which config fields differ, grouping by a hyperparameter, and the overlay
 * chart (metric, x axis, EMA smoothing, log-y) built from each run's metric rows.
 */
import type { MetricRowData, RunInfo } from '../../shared/api';
import { emaSmooth, RUN_PALETTE, runColor, type ChartSpec, type SeriesSpec } from '../charts/spec';
import { runLabels } from './runLabels';
import { seedBand, type Curve } from './seedBands';

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
  attnLogScaling: 'log-n attention scaling',
  randomPositions: 'randomized positions L',
  tokenEmbedding: 'token embedding',
};

/** A config as flat field → value, scheme knobs as `posOptions.<key>`. */
export function flattenConfig(config: Record<string, unknown>): Record<string, Scalar> {
  const flat: Record<string, Scalar> = {};
  // Runs stored before data-parallel training ran on one thread, and those stored before log-n scaling had none;
  // they should not differ from new runs that say so.
  for (const [key, value] of Object.entries({ threads: 1, attnLogScaling: 'none', ...config })) {
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

/** Runs whose settings are equal but for the seed, grouped in the order their first run comes; singletons included. */
export function seedGroups<R extends Pick<RunInfo, 'config'>>(runs: readonly R[]): R[][] {
  const groups = new Map<string, R[]>();
  for (const run of runs) {
    const flat = flattenConfig(run.config as Record<string, unknown>);
    const key = JSON.stringify(Object.keys(flat).filter((k) => k !== 'seed').sort().map((k) => [k, flat[k]]));
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  return [...groups.values()];
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
  /** Runs that differ only in seed are drawn as their mean with a ± std band, their own curves thin. */
  seedBands?: boolean;
}

const X_LABELS: Record<CompareX, string> = { step: 'step', tokens: 'tokens', wallMs: 'wall time (s)' };
const METRIC_LABELS: Record<CompareMetric, string> = { trainLoss: 'train loss', valLoss: 'val loss' };

type ComparedRun = Pick<RunInfo, 'id' | 'name' | 'config'>;

/** The overlay chart: one series per run, its colour stable per run (or per group value); seed groups as bands. */
export function compareChart(runs: readonly ComparedRun[], metrics: ReadonlyMap<number, readonly MetricRowData[]>, opts: CompareOptions): ChartSpec {
  const labels = runLabels(runs);
  const groupValues = opts.groupBy ? [...new Set(runs.map((r) => formatValue(flattenConfig(r.config)[opts.groupBy!])))] : [];
  const groupOf = (run: ComparedRun): string | null => (opts.groupBy ? formatValue(flattenConfig(run.config)[opts.groupBy]) : null);
  const curveOf = (run: ComparedRun): Curve & { raw: (number | null)[] } => {
    const rows = (metrics.get(run.id) ?? []).filter((r) => r[opts.metric] !== null);
    const raw = rows.map((r) => r[opts.metric]);
    return {
      step: rows.map((r) => r.step),
      // Steps as the store and the run exports count them (0 = the first step), so every file agrees.
      x: rows.map((r) => (opts.x === 'step' ? r.step : opts.x === 'tokens' ? r.tokens : r.wallMs / 1000)),
      y: emaSmooth(raw, opts.smoothing),
      raw,
    };
  };
  const points = opts.metric === 'valLoss';
  const runSeries = (run: ComparedRun, label = labels.get(run.id)!): SeriesSpec => {
    const { x, y, raw } = curveOf(run);
    const group = groupOf(run);
    return {
      label: group === null ? label : `${fieldLabel(opts.groupBy!)} = ${group} · #${run.id}`,
      fullName: `#${run.id} ${run.name}`,
      color: group === null ? runColor(run.id) : RUN_PALETTE[groupValues.indexOf(group) % RUN_PALETTE.length],
      x,
      y,
      ...(opts.smoothing > 0 ? { raw } : {}),
      points,
    };
  };
  const groups = opts.seedBands ? seedGroups(runs) : runs.map((run) => [run]);
  // A group is labelled by what differs between the groups: one seed for all, so the seed never does.
  const groupLabels = runLabels(groups.map((g) => ({ ...g[0]!, config: { ...g[0]!.config, seed: 0 } })));
  const series: SeriesSpec[] = groups.flatMap((group) => {
    if (group.length < 2) return group.map((run) => runSeries(run));
    const band = seedBand(group.map(curveOf));
    const first = runSeries(group[0]!, groupLabels.get(group[0]!.id));
    const mean: SeriesSpec = {
      label: `${first.label}: mean ± std, ${band.n} seeds`,
      fullName: `${group.map((r) => `#${r.id}`).join(' ')} ${group[0]!.name.replace(/ · seed \d+$/, '')}: mean ± std over ${band.n} seeds`,
      color: first.color,
      x: band.x,
      y: band.mean,
      points,
      width: 2.5,
      band: { low: band.mean.map((m, i) => m - band.std[i]!), high: band.mean.map((m, i) => m + band.std[i]!) },
    };
    return [mean, ...group.map((run) => ({ ...runSeries(run), width: 1 }))];
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
