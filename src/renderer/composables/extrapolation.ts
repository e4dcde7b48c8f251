/** Charts of length evaluations (loss or ppl vs length, loss per position, cost) and task accuracy, as pure specs. */
import type { EvalLengthResultData, RunInfo, TaskLengthResultData } from '../../shared/api';
import { runColor, type ChartSpec, type SeriesSpec } from '../charts/spec';
import { seedGroups } from './compare';
import { runLabels } from './runLabels';
import { seedBand } from './seedBands';

type Named = Pick<RunInfo, 'id' | 'name' | 'config'>;
/** The run's short label among the charted runs (what differs between them); its full name on hover. */
const nameOf = (runs: readonly Named[], runId: number): string => runLabels(runs).get(runId) ?? `#${runId}`;
const fullNameOf = (runs: readonly Named[], runId: number): string => `#${runId} ${runs.find((r) => r.id === runId)?.name ?? ''}`.trim();
/** A rope run evaluated with a context-extension method is its own curve: " · yarn" after the run's label or name. */
const scaling = (e: EvalLengthResultData): string => (e.ropeScaling ? ` · ${e.ropeScaling}` : '');

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

/** A seed group's name: `train --seeds` names each run "… · seed N". */
const withoutSeed = (name: string): string => name.replace(/ · seed \d+$/, '');

/**
 * Runs that differ only in their seed (Compare's seed groups) and were evaluated alike (`variant`: the rope scaling)
 * become one mean line with a ± 1 std band over their curves, "n seeds" in the legend, each seed kept as a thin curve
 * under its own label; exports write both, labelled. A point enters the mean only where every seed has a value.
 */
function withSeedBands<E extends { runId: number }>(runs: readonly Named[], items: readonly E[], variant: (item: E) => string, seriesOf: (item: E, label?: string) => SeriesSpec): SeriesSpec[] {
  const charted = runs.filter((run) => items.some((item) => item.runId === run.id));
  const groups = seedGroups(charted);
  // A group is labelled by what differs between the groups: with one seed for all, the seed never does.
  const groupLabels = runLabels(groups.map((g) => ({ ...g[0]!, name: withoutSeed(g[0]!.name), config: { ...g[0]!.config, seed: 0 } })));
  const groupOf = (runId: number): Named[] => groups.find((g) => g.some((run) => run.id === runId)) ?? [];
  const done = new Set<E>();
  return items.flatMap((item) => {
    if (done.has(item)) return [];
    const group = groupOf(item.runId);
    const members = items.filter((other) => group.some((run) => run.id === other.runId) && variant(other) === variant(item));
    if (members.length < 2) return [seriesOf(item)];
    members.forEach((member) => done.add(member));
    const seeds = members.map((member) => seriesOf(member));
    const band = seedBand(seeds.map((s) => ({ step: s.x, x: s.x, y: s.y })));
    const label = `${groupLabels.get(group[0]!.id)}${variant(item)}`;
    const mean: SeriesSpec = {
      ...seriesOf(item, label),
      label: `${label}: mean ± std, ${band.n} seeds`,
      fullName: `${members.map((m) => `#${m.runId}`).join(' ')} ${withoutSeed(group[0]!.name)}${variant(item)}: mean ± std over ${band.n} seeds`,
      x: band.x,
      y: band.mean,
      width: 2.5,
      band: { low: band.mean.map((m, i) => m - band.std[i]!), high: band.mean.map((m, i) => m + band.std[i]!) },
    };
    return [mean, ...seeds.map((s) => ({ ...s, width: 1 }))];
  });
}

export function lengthChart(runs: readonly Named[], evals: readonly EvalLengthResultData[], measure: 'loss' | 'ppl', seedBands = false): ChartSpec {
  const seriesOf = (e: EvalLengthResultData, label = nameOf(runs, e.runId)): SeriesSpec => ({
    label: `${label}${scaling(e)}`,
    fullName: `${fullNameOf(runs, e.runId)}${scaling(e)} (${e.scheme})`,
    dashed: e.ropeScaling !== undefined,
    color: runColor(e.runId),
    x: e.results.map((r) => r.length),
    y: e.results.map((r) => (r.applicable ? r[measure] : null)),
    points: true,
  });
  return {
    title: `${measure === 'loss' ? 'Loss' : 'Perplexity'} vs evaluation length`,
    xLabel: 'evaluation length (tokens)',
    yLabel: measure === 'loss' ? 'loss' : 'perplexity',
    xLog: true,
    yLog: measure === 'ppl',
    markers: [...blockMarkers(evals), ...notApplicableMarkers(runs, evals)],
    series: seedBands ? withSeedBands(runs, evals, scaling, (e, label) => seriesOf(e, label)) : evals.map((e) => seriesOf(e)),
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
    const name = { label: `${nameOf(runs, e.runId)}${scaling(e)} at ${longest.length}`, fullName: `${fullNameOf(runs, e.runId)}${scaling(e)} at length ${longest.length}` };
    return [{ ...name, color: runColor(e.runId), dashed: e.ropeScaling !== undefined, ...binPositions(longest.perPositionLoss, width), width: 1.5 }];
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
      label: `${nameOf(runs, e.runId)}${scaling(e)}`,
      fullName: `${fullNameOf(runs, e.runId)}${scaling(e)}`,
      dashed: e.ropeScaling !== undefined,
      color: runColor(e.runId),
      x: e.results.map((r) => r.length),
      y: e.results.map((r) => (r.applicable && r.peakBytes > 0 ? r.peakBytes / 2 ** 20 : null)),
      points: true,
    })),
  };
}

export function taskChart(runs: readonly Named[], results: readonly TaskLengthResultData[], seedBands = false): ChartSpec {
  const seriesOf = (r: TaskLengthResultData, label = nameOf(runs, r.runId)): SeriesSpec => ({
    label,
    fullName: `${fullNameOf(runs, r.runId)} (${r.task})`,
    color: runColor(r.runId),
    x: r.results.map((s) => s.size),
    y: r.results.map((s) => (s.applicable ? s.accuracy : null)),
    points: true,
  });
  return {
    title: 'Task accuracy vs example size',
    xLabel: 'example size',
    yLabel: 'exact-match accuracy',
    markers: [...new Set(results.map((r) => r.trainingMaxSize))].map((x) => ({ x, label: `largest in training (${x})` })),
    series: seedBands ? withSeedBands(runs, results, () => '', (r, label) => seriesOf(r, label)) : results.map((r) => seriesOf(r)),
  };
}

/** Lengths a run could not be evaluated at, in words (learned positions past the block, for instance). */
export function notApplicable(runs: readonly Named[], evals: readonly EvalLengthResultData[]): string[] {
  return evals.flatMap((e) => {
    const skipped = e.results.filter((r) => !r.applicable);
    if (!skipped.length) return [];
    return [`${fullNameOf(runs, e.runId)}${scaling(e)}: not applicable at ${skipped.map((r) => r.length).join(', ')}${skipped[0].reason ? ` (${skipped[0].reason})` : ''}`];
  });
}
