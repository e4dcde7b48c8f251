/**
 * Each recipe's verdict as a pure function of the numbers it measured, one value per seed (≥ 2, the recipes use 3),
 * so it can be tested on fabricated metrics without training anything. A comparison is judged on the 95 % interval
 * of its difference (stats.ts): "held" only when the whole interval clears the claim's margin, "did not hold" only
 * when the whole interval misses it, "inconclusive" when the margin lies inside the seed noise.
 */
import type { EquivarianceRow } from '../engine/eval/probes';
import { allOf, formatDifference, formatSpread, judgeAbove, judgeBelow, negate, spread, welchDifference, type Difference, type Spread, type Verdict } from './stats';

export interface Judgement {
  verdict: Verdict;
  /** One sentence with the figures behind the verdict. */
  summary: string;
  figures: Record<string, number | string | null>;
}

/** Loss differences smaller than this (nats) are not called a difference, however well the seeds agree. */
export const LOSS_MARGIN = 0.01;

const round = (x: number, digits = 4): number | null => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

function spreadFigures(name: string, s: Spread): Judgement['figures'] {
  return { [`${name} mean`]: round(s.mean), [`${name} std`]: round(s.std) };
}

function differenceFigures(name: string, d: Difference): Judgement['figures'] {
  return { [`${name} difference`]: round(d.difference), [`${name} 95% low`]: round(d.low), [`${name} 95% high`]: round(d.high) };
}

/** "a is lower than b by more than margin", on the interval of mean(a) − mean(b). */
function lowerBy(a: readonly number[], b: readonly number[], margin: number): { verdict: Verdict; difference: Difference } {
  const difference = welchDifference(a, b);
  return { verdict: judgeBelow(difference, -margin), difference };
}

/**
 * "x ends worse than y" where a seed's value is null when its run diverged: diverging on every seed where y never
 * does is the clearest "worse"; y diverging where x does not contradicts it; any other mix of divergences is
 * inconclusive. Otherwise y must be lower than x by more than `margin(y)`.
 */
function worseThan(
  [xName, x]: [string, readonly (number | null)[]],
  [yName, y]: [string, readonly (number | null)[]],
  margin: (y: readonly number[]) => number,
): { verdict: Verdict; text: string; difference: Difference | null } {
  const xDiverged = x.filter((v) => v === null).length;
  const yDiverged = y.filter((v) => v === null).length;
  if (xDiverged === x.length && yDiverged === 0) return { verdict: 'held', text: `${xName} diverged on all ${x.length} seeds, ${yName} on none`, difference: null };
  if (xDiverged === 0 && yDiverged > 0) return { verdict: 'did not hold', text: `${yName} diverged on ${yDiverged} of ${y.length} seeds, ${xName} on none`, difference: null };
  if (xDiverged > 0 || yDiverged > 0) return { verdict: 'inconclusive', text: `diverged on ${xDiverged} (${xName}) and ${yDiverged} (${yName}) seeds`, difference: null };
  const [xs, ys] = [x as number[], y as number[]];
  const { verdict, difference } = lowerBy(ys, xs, margin(ys));
  return { verdict, text: `${yName} − ${xName} ${formatDifference(difference)}`, difference };
}

/** "3 seeds: 2.685 ± 0.004" style list of named spreads. */
function listSpreads(named: [string, Spread][]): string {
  return named.map(([name, s]) => `${name} ${formatSpread(s)}`).join(', ');
}

export interface LearnedVsSinusoidalMetrics {
  /** Mean training loss over the first half of each seed's run. */
  learned: number[];
  /** Sinusoids at amplitude 1, as in minGPT/Vaswani et al. (without their √d embedding scaling). */
  sinusoidal: number[];
  /** Sinusoids at amplitude 0.02·√2: per-dimension RMS 0.02, the token embeddings' std. */
  matched: number[];
}

export function judgeLearnedVsSinusoidal(m: LearnedVsSinusoidalMetrics): Judgement {
  const asShipped = lowerBy(m.learned, m.sinusoidal, LOSS_MARGIN);
  const matched = lowerBy(m.learned, m.matched, LOSS_MARGIN);
  const [learned, sinusoidal, matchedSpread] = [m.learned, m.sinusoidal, m.matched].map(spread);
  return {
    verdict: allOf([asShipped.verdict, matched.verdict]),
    summary:
      `first-half mean training loss over ${learned.n} seeds (mean ± std): ${listSpreads([['learned', learned], ['sinusoidal ×1', sinusoidal], ['sinusoidal at matched scale', matchedSpread]])}; ` +
      `learned − sinusoidal as in minGPT ${formatDifference(asShipped.difference)}: ${asShipped.verdict}; ` +
      `learned − sinusoidal at matched scale ${formatDifference(matched.difference)}: ${matched.verdict}`,
    figures: {
      ...spreadFigures('learned', learned),
      ...spreadFigures('sinusoidal', sinusoidal),
      ...spreadFigures('sinusoidal matched', matchedSpread),
      ...differenceFigures('learned − sinusoidal', asShipped.difference),
      ...differenceFigures('learned − sinusoidal matched', matched.difference),
      'as in minGPT': asShipped.verdict,
      'matched scale': matched.verdict,
    },
  };
}

export interface NoLayerNormMetrics {
  preEarly: number[];
  noneEarly: number[];
  /** The no-norm run's first training loss minus its final validation loss; null when it diverged. */
  noneDrop: (number | null)[];
}

/** How far the no-norm loss must fall for "it still trains". */
export const TRAINS_DROP = 0.5;

export function judgeNoLayerNorm(m: NoLayerNormMetrics): Judgement {
  const drops = m.noneDrop.filter((d): d is number => d !== null);
  const dropSpread = drops.length === m.noneDrop.length ? spread(drops) : null;
  const trains: Verdict = dropSpread ? judgeAbove(dropSpread, TRAINS_DROP) : 'did not hold';
  const slower = lowerBy(m.preEarly, m.noneEarly, LOSS_MARGIN);
  const [pre, none] = [m.preEarly, m.noneEarly].map(spread);
  return {
    verdict: allOf([trains, slower.verdict]),
    summary:
      `no-norm loss fell ${dropSpread ? formatSpread(dropSpread) : `(diverged on ${m.noneDrop.length - drops.length} seeds)`} nats: trains ${trains}; ` +
      `first-half mean loss ${listSpreads([['pre-norm', pre], ['no norm', none]])}, pre − none ${formatDifference(slower.difference)}: slower ${slower.verdict}`,
    figures: {
      ...(dropSpread ? spreadFigures('no-norm drop', dropSpread) : { 'no-norm drop mean': null }),
      ...spreadFigures('pre-norm early', pre),
      ...spreadFigures('no-norm early', none),
      ...differenceFigures('pre − none early', slower.difference),
      trains,
      slower: slower.verdict,
    },
  };
}

export interface RunOutcome {
  /** Final validation loss; null when the run diverged. */
  finalVal: number | null;
  maxGradNorm: number;
}

export interface PostNormWarmupMetrics {
  noWarmup: RunOutcome[];
  warmup: RunOutcome[];
  pre: RunOutcome[];
}

/** "Worse" for post-norm without warmup: final validation loss above the other's by more than 2 % of it. */
export const STABILITY_MARGIN = 0.02;

export function judgePostNormWarmup(m: PostNormWarmupMetrics): Judgement {
  const finals = (runs: RunOutcome[]) => runs.map((r) => r.finalVal);
  const relative = (y: readonly number[]) => (STABILITY_MARGIN * y.reduce((a, b) => a + b, 0)) / y.length;
  const vsWarmup = worseThan(['no warmup', finals(m.noWarmup)], ['warmup', finals(m.warmup)], relative);
  const vsPre = worseThan(['no warmup', finals(m.noWarmup)], ['pre-norm', finals(m.pre)], relative);
  const cells: [string, RunOutcome[]][] = [['post, no warmup', m.noWarmup], ['post, warmup', m.warmup], ['pre, no warmup', m.pre]];
  const describe = ([label, runs]: [string, RunOutcome[]]): string => {
    const done = runs.map((r) => r.finalVal).filter((v): v is number => v !== null);
    const diverged = runs.length - done.length;
    return `${label} ${done.length >= 2 ? formatSpread(spread(done)) : '–'}${diverged ? ` (${diverged} diverged)` : ''}`;
  };
  const figures: Judgement['figures'] = { 'vs warmup': vsWarmup.verdict, 'vs pre-norm': vsPre.verdict };
  for (const [label, runs] of cells) {
    const done = runs.map((r) => r.finalVal).filter((v): v is number => v !== null);
    Object.assign(figures, done.length >= 2 ? spreadFigures(`${label} finalVal`, spread(done)) : { [`${label} finalVal mean`]: null });
    figures[`${label} diverged`] = runs.length - done.length;
    figures[`${label} maxGradNorm`] = round(Math.max(...runs.map((r) => r.maxGradNorm)));
  }
  if (vsWarmup.difference) Object.assign(figures, differenceFigures('warmup − no warmup', vsWarmup.difference));
  if (vsPre.difference) Object.assign(figures, differenceFigures('pre − no warmup', vsPre.difference));
  return {
    verdict: allOf([vsWarmup.verdict, vsPre.verdict]),
    summary: `final val loss over ${m.noWarmup.length} seeds: ${cells.map(describe).join(', ')}; worse than warmup: ${vsWarmup.verdict} (${vsWarmup.text}); worse than pre-norm: ${vsPre.verdict} (${vsPre.text})`,
    figures,
  };
}

/** Schemes whose two "dog"s tie without the causal mask (with LayerNorm, as the probe builds them). */
export const TIED_WITHOUT_MASK = ['none', 'alibi', 'integer', 'integer-norm'] as const;

/** rowsBySeed[k]: the probe's rows on the k-th seed's fresh weights. Every row is checked against the claim. */
export function judgeDogEquivariance(rowsBySeed: readonly EquivarianceRow[][]): Judgement {
  const expected = (r: EquivarianceRow) => !r.causal && (TIED_WITHOUT_MASK as readonly string[]).includes(r.scheme);
  const name = (r: EquivarianceRow) => `${r.scheme} ${r.causal ? 'causal' : 'unmasked'}`;
  const wrong = [...new Set(rowsBySeed.flatMap((rows) => rows.filter((r) => r.tied !== expected(r)).map(name)))];
  const rows = rowsBySeed.flat();
  const relative = (r: EquivarianceRow) => (r.scale > 0 ? r.difference / r.scale : r.difference);
  const figures: Judgement['figures'] = {};
  for (const r of rows) figures[name(r)] = Math.max(Number(figures[name(r)] ?? 0), Number(relative(r).toExponential(3)));
  const tiedRel = Math.max(...rows.filter((r) => r.tied).map(relative));
  const apartRel = Math.min(...rows.filter((r) => !r.tied).map(relative));
  return {
    verdict: wrong.length === 0 && rowsBySeed.length > 0 ? 'held' : 'did not hold',
    summary:
      `${rows.length} rows over ${rowsBySeed.length} seeds, |difference| ÷ |logits|: tied rows at most ${tiedRel.toExponential(1)}, the others at least ${apartRel.toExponential(1)}; ` +
      (wrong.length ? `against the claim: ${wrong.join(', ')}` : `tied exactly where claimed (${TIED_WITHOUT_MASK.join(', ')} without the mask)`),
    figures,
  };
}

/** Largest loss at 8× ÷ loss at 1× that still counts as "keeps its loss". */
export const EXTRAPOLATION_RATIO = 1.15;

/** Per scheme, per seed: loss at 8× the block ÷ loss at 1×; null where the scheme has no positions that far. */
export function judgeExtrapolation(ratios: Record<string, (number | null)[]>, keeping: readonly string[], failing: readonly string[]): Judgement {
  const keeps = (scheme: string): Verdict => {
    const values = ratios[scheme] ?? [];
    const applicable = values.filter((v): v is number => v !== null);
    if (applicable.length === 0) return 'did not hold';
    if (applicable.length < values.length) return 'inconclusive';
    return judgeBelow(spread(applicable), EXTRAPOLATION_RATIO);
  };
  const perScheme = Object.fromEntries([...keeping.map((s) => [s, keeps(s)]), ...failing.map((s) => [s, negate(keeps(s))])]) as Record<string, Verdict>;
  const describe = (scheme: string): string => {
    const values = ratios[scheme] ?? [];
    if (values.every((v) => v === null)) return `${scheme} n/a`;
    const applicable = values.filter((v): v is number => v !== null);
    return `${scheme} ${applicable.length >= 2 ? formatSpread(spread(applicable), 2) : applicable.map((v) => v.toFixed(2)).join('/')}`;
  };
  const figures: Judgement['figures'] = {};
  for (const scheme of Object.keys(ratios)) {
    const applicable = (ratios[scheme] ?? []).filter((v): v is number => v !== null);
    Object.assign(figures, applicable.length >= 2 ? spreadFigures(`${scheme} loss8x/loss1x`, spread(applicable)) : { [`${scheme} loss8x/loss1x mean`]: null });
    if (scheme in perScheme) figures[`${scheme} as claimed`] = perScheme[scheme]!;
  }
  return {
    verdict: allOf(Object.values(perScheme)),
    summary: `loss at 8× ÷ loss at 1× (mean ± std): ${Object.keys(ratios).map(describe).join(', ')}; as claimed: ${Object.entries(perScheme).map(([s, v]) => `${s} ${v}`).join(', ')}`,
    figures,
  };
}

export interface NoAttentionScaleMetrics {
  /** First-half mean training loss per seed; null when the run diverged. */
  scaled: (number | null)[];
  unscaled: (number | null)[];
}

export function judgeNoAttentionScale(m: NoAttentionScaleMetrics): Judgement {
  const worse = worseThan(['unscaled', m.unscaled], ['scaled', m.scaled], () => LOSS_MARGIN);
  const figures: Judgement['figures'] = { 'unscaled worse': worse.verdict };
  for (const [label, values] of [['scaled', m.scaled], ['unscaled', m.unscaled]] as const) {
    const done = values.filter((v): v is number => v !== null);
    Object.assign(figures, done.length >= 2 ? spreadFigures(`${label} early`, spread(done)) : { [`${label} early mean`]: null });
    figures[`${label} diverged`] = values.length - done.length;
  }
  if (worse.difference) Object.assign(figures, differenceFigures('scaled − unscaled early', worse.difference));
  return { verdict: worse.verdict, summary: `first-half mean loss over ${m.scaled.length} seeds, unscaled worse than scaled: ${worse.verdict} (${worse.text})`, figures };
}

/** The memory slope that counts as "quadratic": within 0.4 of 2. */
export const QUADRATIC_SLOPE = { low: 1.6, high: 2.4 } as const;

/** Log-log slopes between the two longest lengths, one per seed (memory is exact, so its spread is 0). */
export function judgeAttentionCost(memorySlopes: number[], timeSlopes: number[]): Judgement {
  const memory = spread(memorySlopes);
  const time = spread(timeSlopes);
  const verdict = allOf([judgeAbove(memory, QUADRATIC_SLOPE.low), judgeBelow(memory, QUADRATIC_SLOPE.high)]);
  return {
    verdict,
    summary: `log-log slope between the two longest lengths over ${memory.n} seeds: memory ${formatSpread(memory, 2)} (judged: within ${QUADRATIC_SLOPE.low}–${QUADRATIC_SLOPE.high}), time ${formatSpread(time, 2)} (not judged)`,
    figures: { ...spreadFigures('memory slope', memory), ...spreadFigures('time slope', time) },
  };
}

/** "Keeps its loss": loss at the longer length within this fraction of the loss at the training length. */
export const ROPE_KEEP_MARGIN = 0.1;
/** "Repaired": after fine-tuning, loss at 2× within this fraction of the parent's loss at its training length. */
export const FINETUNE_REPAIR_MARGIN = 0.05;

const percent = (fraction: number): string => `${Math.round(fraction * 100)} %`;

/** Per-seed ratios against `limit`: held/did not hold on the 95 % interval of their mean (`above` mirrors it). */
function ratioVerdict(values: readonly number[], limit: number, side: 'below' | 'above'): Verdict {
  const s = spread(values);
  return side === 'below' ? judgeBelow(s, limit) : judgeAbove(s, limit);
}

export interface RopeScalingMetrics {
  /** Loss at 4× the training length ÷ loss at the training length, one per seed, for each evaluation-time method. */
  plain: number[];
  pi: number[];
  yarn: number[];
  ntk: number[];
}

export function judgeRopeScaling(m: RopeScalingMetrics): Judgement {
  const limit = 1 + ROPE_KEEP_MARGIN;
  const parts: [string, Verdict][] = [
    ['PI within', ratioVerdict(m.pi, limit, 'below')],
    ['YaRN within', ratioVerdict(m.yarn, limit, 'below')],
    ['plain beyond', ratioVerdict(m.plain, limit, 'above')],
  ];
  const named: [string, number[]][] = [['plain', m.plain], ['PI', m.pi], ['YaRN', m.yarn], ['NTK', m.ntk]];
  const figures: Judgement['figures'] = {};
  for (const [name, values] of named) Object.assign(figures, spreadFigures(`${name} loss4x/loss1x`, spread(values)));
  for (const [name, verdict] of parts) figures[`${name} ${percent(ROPE_KEEP_MARGIN)}`] = verdict;
  return {
    verdict: allOf(parts.map(([, v]) => v)),
    summary:
      `loss at 4× ÷ loss at 1× over ${m.plain.length} seeds (mean ± std): ${named.map(([name, values]) => `${name} ${formatSpread(spread(values))}`).join(', ')} ` +
      `(limit ${limit.toFixed(2)}; NTK not judged); ${parts.map(([name, v]) => `${name} ${percent(ROPE_KEEP_MARGIN)}: ${v}`).join('; ')}`,
    figures,
  };
}

export interface FinetuneRepairMetrics {
  /** Per seed, each ÷ the parent's loss at its training length: the parent at 2× before fine-tuning… */
  before: number[];
  /** …the Position-Interpolation fine-tune at 2× (null when it diverged)… */
  after: (number | null)[];
  /** …and a fine-tune without interpolation (reported, not judged). */
  plainAfter: (number | null)[];
}

export function judgeFinetuneRepair(m: FinetuneRepairMetrics): Judgement {
  const limit = 1 + FINETUNE_REPAIR_MARGIN;
  const finished = m.after.filter((v): v is number => v !== null);
  const broken = ratioVerdict(m.before, limit, 'above');
  // A fine-tune that diverged repaired nothing; some diverged and some not is too little to judge.
  const repaired: Verdict = finished.length === 0 ? 'did not hold' : finished.length < m.after.length ? 'inconclusive' : ratioVerdict(finished, limit, 'below');
  const plainFinished = m.plainAfter.filter((v): v is number => v !== null);
  const describe = (values: number[], all: number): string => (values.length >= 2 ? formatSpread(spread(values)) : 'n/a') + (values.length < all ? ` (${all - values.length} diverged)` : '');
  return {
    verdict: allOf([broken, repaired]),
    summary:
      `loss at 2× ÷ the parent's loss at 1× over ${m.before.length} seeds (mean ± std): before fine-tuning ${formatSpread(spread(m.before))}, ` +
      `after the PI fine-tune ${describe(finished, m.after.length)}, after a plain fine-tune ${describe(plainFinished, m.plainAfter.length)} (not judged); ` +
      `broken before (above ${limit.toFixed(2)}): ${broken}; repaired after (below ${limit.toFixed(2)}): ${repaired}`,
    figures: {
      ...spreadFigures('before loss2x/loss1x', spread(m.before)),
      ...(finished.length >= 2 ? spreadFigures('PI fine-tune loss2x/loss1x', spread(finished)) : { 'PI fine-tune loss2x/loss1x mean': null }),
      ...(plainFinished.length >= 2 ? spreadFigures('plain fine-tune loss2x/loss1x', spread(plainFinished)) : { 'plain fine-tune loss2x/loss1x mean': null }),
      'broken before': broken,
      'repaired after': repaired,
    },
  };
}

/** Exact-match accuracy (0–1) by which one configuration must beat another to count as better on a task. */
export const ACCURACY_MARGIN = 0.05;

/**
 * Accuracy at the largest trained size that some configuration must reach (mean over seeds) before a task can say
 * anything about generalising past it: models that never learnt the task are all at 0 past it, which is no evidence.
 */
export const LEARNT_ACCURACY = 0.5;

/** Per seed: exact-match accuracy at the largest trained size, and the mean at the sizes past it. */
export interface TaskAccuracy {
  atTrained: readonly number[];
  past: readonly number[];
}

/** Task → configuration label → its accuracies. */
export type TaskAccuracies = Record<string, Record<string, TaskAccuracy>>;

/**
 * "`winner` beats every one of `losers` on every task by more than ACCURACY_MARGIN, beyond seed noise": one Welch
 * interval per (task, loser) of the accuracy past the trained sizes, all of which must clear the margin. A task that
 * no configuration learnt (best mean accuracy at the trained size below LEARNT_ACCURACY) is inconclusive.
 */
function beatsOnEveryTask(accuracies: TaskAccuracies, winner: string, losers: readonly string[]): Judgement {
  const figures: Judgement['figures'] = {};
  const verdicts: Verdict[] = [];
  const sentences: string[] = [];
  for (const [task, byLabel] of Object.entries(accuracies)) {
    const labels = [winner, ...losers];
    const past = (label: string): readonly number[] => byLabel[label]!.past;
    for (const label of labels) Object.assign(figures, spreadFigures(`${task} ${label}`, spread(past(label))), spreadFigures(`${task} ${label} at trained size`, spread(byLabel[label]!.atTrained)));
    const best = Math.max(...labels.map((label) => spread(byLabel[label]!.atTrained).mean));
    if (!(best >= LEARNT_ACCURACY)) {
      figures[`${task} learnt`] = 'no';
      verdicts.push('inconclusive');
      sentences.push(`${task}: not learnt (best accuracy at the trained size ${best.toFixed(2)} < ${LEARNT_ACCURACY}), inconclusive; past it ${listSpreads(labels.map((label) => [label, spread(past(label))]))}`);
      continue;
    }
    const comparisons = losers.map((loser) => {
      const difference = welchDifference(past(winner), past(loser));
      const verdict = judgeAbove(difference, ACCURACY_MARGIN);
      Object.assign(figures, differenceFigures(`${task} ${winner} − ${loser}`, difference));
      figures[`${task} ${winner} beats ${loser}`] = verdict;
      verdicts.push(verdict);
      return `${winner} − ${loser} ${formatDifference(difference, 2)} (${verdict})`;
    });
    sentences.push(`${task}: ${listSpreads(labels.map((label) => [label, spread(past(label))]))}; ${comparisons.join(', ')}`);
  }
  return { verdict: allOf(verdicts), summary: `accuracy past the trained sizes, mean ± std over seeds — ${sentences.join('; ')}`, figures };
}

/** Ruoss et al. 2023: the same scheme with randomized positions ('randomized') against plain positions ('plain'). */
export function judgeRandomPositions(accuracies: TaskAccuracies): Judgement {
  return beatsOnEveryTask(accuracies, 'randomized', ['plain']);
}

/** Kazemnejad et al. 2023: NoPE ('none') against each absolute scheme given. */
export function judgeNopeVsAbsolute(accuracies: TaskAccuracies, absolute: readonly string[]): Judgement {
  return beatsOnEveryTask(accuracies, 'none', absolute);
}
