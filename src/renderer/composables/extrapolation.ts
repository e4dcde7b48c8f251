/** Charts of length evaluations (loss or ppl vs length, loss per position, cost) and task accuracy, as pure specs. */
import type { EvalLengthResultData, RunInfo, TaskLengthResultData } from '../../shared/api';
import { runColor, type ChartSpec } from '../charts/spec';
import { runLabels } from './runLabels';

type Named = Pick<RunInfo, 'id' | 'name' | 'config'>;
/** The run's short label among the charted runs (what differs between them); its full name on hover. */
const nameOf = (runs: readonly Named[], runId: number): string => runLabels(runs).get(runId) ?? `#${runId}`;
const fullNameOf = (runs: readonly Named[], runId: number): string => `#${runId} ${runs.find((r) => r.id === runId)?.name ?? ''}`.trim();

/** Where a run stops being applicable (learned positions past the block): marked on the chart, not only above it. */
function notApplicableMarkers(runs: readonly Named[], evals: readonly EvalLengthResultData[]): { x: number; label: string }[] {
  const byLength = new Map<number, string[]>();
  for (const e of evals) {
    const first = e.results.find((r) => !r.applicable);
    if (first) byLength.set(first.length, [...(byLength.get(first.length) ?? []), `#${e.runId}`]);
  }
  return [...byLength].map(([x, ids]) => ({ x, label: `n/a from here: ${ids.join(', ')}` }));
}

/** Training lengths as markers, one per distinct block size. */
function blockMarkers(evals: readonly EvalLengthResultData[]): { x: number; label: string }[] {
  return [...new Set(evals.map((e) => e.block))].map((block) => ({ x: block, label: `trained at ${block}` }));
}

export function lengthChart(runs: readonly Named[], evals: readonly EvalLengthResultData[], measure: 'loss' | 'ppl'): ChartSpec {
  return {
    title: `${measure === 'loss' ? 'Loss' : 'Perplexity'} vs evaluation length`,
    xLabel: 'evaluation length (tokens)',
    yLabel: measure === 'loss' ? 'loss' : 'perplexity',
    xLog: true,
    yLog: measure === 'ppl',
    markers: [...blockMarkers(evals), ...notApplicableMarkers(runs, evals)],
    series: evals.map((e) => ({
      label: nameOf(runs, e.runId),
      fullName: `${fullNameOf(runs, e.runId)} (${e.scheme})`,
      color: runColor(e.runId),
      x: e.results.map((r) => r.length),
      y: e.results.map((r) => (r.applicable ? r[measure] : null)),
      points: true,
    })),
  };
}

/** Most points a per-position curve gets: a few dozen windows per position are too few to read one position alone. */
const MAX_POSITION_POINTS = 32;

/** Mean loss over consecutive bins of `width` positions (1-based), x at each bin's centre; the last bin may be shorter. */
export function binPositions(loss: readonly number[], width: number): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  for (let start = 0; start < loss.length; start += width) {
    const bin = loss.slice(start, start + width);
    x.push(start + (bin.length + 1) / 2);
    y.push(bin.reduce((sum, v) => sum + v, 0) / bin.length);
  }
  return { x, y };
}

/**
 * Loss along the positions of the longest length every run could evaluate: the cliff past the training length.
 * Long lengths are averaged over bins of neighbouring positions so the trend is not lost in noise.
 */
export function perPositionChart(runs: readonly Named[], evals: readonly EvalLengthResultData[]): ChartSpec {
  const widths = new Set<number>();
  const series = evals.flatMap((e) => {
    const longest = [...e.results].reverse().find((r) => r.applicable && r.perPositionLoss.length);
    if (!longest) return [];
    const width = Math.ceil(longest.perPositionLoss.length / MAX_POSITION_POINTS);
    widths.add(width);
    return [{ label: `${nameOf(runs, e.runId)} at ${longest.length}`, fullName: `${fullNameOf(runs, e.runId)} at length ${longest.length}`, color: runColor(e.runId), ...binPositions(longest.perPositionLoss, width), width: 1.5 }];
  });
  const [only] = widths;
  // The title stays one short line; how positions are binned goes with the axis it describes.
  const binning = widths.size === 1 && only === 1 ? '' : widths.size === 1 ? ` (mean of each ${only})` : ' (mean over bins)';
  return { title: 'Loss per position, longest length', xLabel: `position${binning}`, yLabel: 'loss', markers: blockMarkers(evals), series };
}

/** What the evaluation adds to memory at its peak, against length: attention's O(T²) made visible. */
export const COST_CAPTION =
  'Most tensor memory one length\'s evaluation held at once, above what was allocated before it (weights and other runs not counted): activations and the batch × heads × T × T attention scores. Batches shrink as T grows, so the curve bends where the batch cap starts. RoPE and the schemes with score terms cannot use the fused attention kernel: more intermediates, a higher figure at the same length.';

export function costChart(runs: readonly Named[], evals: readonly EvalLengthResultData[]): ChartSpec {
  return {
    title: 'Evaluation memory vs length',
    xLabel: 'evaluation length (tokens)',
    yLabel: 'MB at peak, above the weights',
    xLog: true,
    yLog: true,
    series: evals.map((e) => ({
      label: nameOf(runs, e.runId),
      fullName: fullNameOf(runs, e.runId),
      color: runColor(e.runId),
      x: e.results.map((r) => r.length),
      y: e.results.map((r) => (r.applicable && r.peakBytes > 0 ? r.peakBytes / 2 ** 20 : null)),
      points: true,
    })),
  };
}

export function taskChart(runs: readonly Named[], results: readonly TaskLengthResultData[]): ChartSpec {
  return {
    title: 'Task accuracy vs example size',
    xLabel: 'example size',
    yLabel: 'exact-match accuracy',
    markers: [...new Set(results.map((r) => r.trainingMaxSize))].map((x) => ({ x, label: `largest in training (${x})` })),
    series: results.map((r) => ({
      label: nameOf(runs, r.runId),
      fullName: `${fullNameOf(runs, r.runId)} (${r.task})`,
      color: runColor(r.runId),
      x: r.results.map((s) => s.size),
      y: r.results.map((s) => (s.applicable ? s.accuracy : null)),
      points: true,
    })),
  };
}

/** Lengths a run could not be evaluated at, in words (learned positions past the block, for instance). */
export function notApplicable(runs: readonly Named[], evals: readonly EvalLengthResultData[]): string[] {
  return evals.flatMap((e) => {
    const skipped = e.results.filter((r) => !r.applicable);
    if (!skipped.length) return [];
    return [`${fullNameOf(runs, e.runId)}: not applicable at ${skipped.map((r) => r.length).join(', ')}${skipped[0].reason ? ` (${skipped[0].reason})` : ''}`];
  });
}
