/**
 * Short labels that tell runs apart at a glance: the run's number and the settings in which it differs from the
 * other runs shown with it ("#5 alibi · lr 0.003"), not a long name cut off in the same place for every run.
 * The full name stays available on hover.
 */
import type { RunInfo } from '../../shared/api';
import { configDiff } from './compare';

/** Settings in the label, at most: more would make it as long as the name. */
const MAX_FIELDS = 3;

/** How often a run logs, samples or saves, and how many cores: named only when nothing else tells runs apart. */
const BOOKKEEPING = new Set(['evalEvery', 'evalBatches', 'sampleEvery', 'sampleLength', 'checkpointEvery', 'threads']);

/** How a differing value reads in a label: schemes by name, norms as "post-norm", the rest as "lr 0.003". */
const SHORT: Record<string, (value: string) => string> = {
  pos: (v) => v,
  norm: (v) => (v === 'none' ? 'no norm' : `${v}-norm`),
  normType: (v) => (v === 'rms' ? 'RMSNorm' : 'LayerNorm'),
  data: (v) => v.replace(/^builtin:/, '').replace(/^.*[\\/]/, ''),
  lr: (v) => `lr ${v}`,
  minLr: (v) => `min lr ${v}`,
  nLayer: (v) => `${v}L`,
  nHead: (v) => `${v}H`,
  nEmbd: (v) => `${v}d`,
  blockSize: (v) => `block ${v}`,
  batchSize: (v) => `batch ${v}`,
  dropoutEmbd: (v) => `drop ${v}`,
  warmupSteps: (v) => `warmup ${v}`,
};

function shortValue(field: string, value: string): string {
  const short = SHORT[field];
  if (short) return short(value);
  const name = field.startsWith('posOptions.') ? field.slice('posOptions.'.length) : field;
  return `${name} ${value}`;
}

/** Cuts `text` to `max` characters with an ellipsis. */
export function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * A label per run (by id): "#id" and up to three settings that differ between `runs`, in the compare table's order.
 * The three dropouts read as one when they are equal. When nothing differs (or one run alone) the name, shortened.
 */
export function runLabels(runs: readonly Pick<RunInfo, 'id' | 'name' | 'config'>[], maxName = 28): Map<number, string> {
  const rows = configDiff(runs.map((r) => r.config as Record<string, unknown>)).filter((row) => {
    // A scheme's knob tells runs apart only among the runs of that scheme (the others have none: "–").
    if (row.field.startsWith('posOptions.')) return new Set(row.values.filter((v) => v !== '–')).size > 1;
    // One dropout box sets all three: show "drop 0.1" once, not three times.
    if (row.field !== 'dropoutAttn' && row.field !== 'dropoutResid') return true;
    return runs.some((r) => r.config.dropoutEmbd !== r.config.dropoutAttn || r.config.dropoutEmbd !== r.config.dropoutResid);
  });
  const experiment = rows.filter((row) => !BOOKKEEPING.has(row.field));
  const shown = (experiment.length ? experiment : rows).slice(0, MAX_FIELDS);
  return new Map(
    runs.map((run, i) => {
      const parts = shown.filter((row) => row.values[i] !== '–').map((row) => shortValue(row.field, row.values[i]));
      return [run.id, parts.length ? `#${run.id} ${parts.join(' · ')}` : `#${run.id} ${shorten(run.name, maxName)}`];
    }),
  );
}
