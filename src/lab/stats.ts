/**
 * The statistics recipe verdicts use, written out plainly: the mean and sample standard deviation of a few seeds,
 * the 95 % Student-t interval of a mean, and Welch's 95 % interval of a difference of two means (unequal variances).
 * A verdict compares an interval with the claim's threshold, so a difference inside the seed noise comes out
 * "inconclusive" instead of deciding the claim either way.
 */

export type Verdict = 'held' | 'did not hold' | 'inconclusive';

/** t_{0.975} for 1…30 degrees of freedom (the two-sided 95 % quantile). */
const T_975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/**
 * t_{0.975} at ⌊df⌋ degrees of freedom: rounding Welch's fractional df down widens the interval a little, never
 * narrows it; past 30 the table's last entry (2.042, against the normal's 1.960) is likewise on the safe side.
 */
export function tQuantile975(df: number): number {
  if (!(df >= 1)) throw new Error(`a t interval needs at least 1 degree of freedom, got ${df}`);
  return T_975[Math.min(Math.floor(df), T_975.length) - 1]!;
}

export interface Spread {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator). */
  std: number;
  /** 95 % interval of the mean: mean ± t_{0.975, n−1} · std/√n. */
  low: number;
  high: number;
}

function checkSample(values: readonly number[], what: string): void {
  if (values.length < 2) throw new Error(`${what} needs at least 2 values (one per seed), got ${values.length}`);
  const bad = values.find((v) => !Number.isFinite(v));
  if (bad !== undefined) throw new Error(`${what} must be finite numbers, got ${bad}`);
}

function variance(values: readonly number[], mean: number): number {
  return values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (values.length - 1);
}

const meanOf = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

export function spread(values: readonly number[]): Spread {
  checkSample(values, 'a spread');
  const n = values.length;
  const mean = meanOf(values);
  const std = Math.sqrt(variance(values, mean));
  const half = tQuantile975(n - 1) * (std / Math.sqrt(n));
  return { n, mean, std, low: mean - half, high: mean + half };
}

export interface Difference {
  /** mean(a) − mean(b). */
  difference: number;
  /** Welch–Satterthwaite degrees of freedom; Infinity when both samples have no spread at all. */
  df: number;
  /** 95 % interval of the difference: difference ± t_{0.975, df} · √(s_a²/n_a + s_b²/n_b). */
  low: number;
  high: number;
}

export function welchDifference(a: readonly number[], b: readonly number[]): Difference {
  checkSample(a, 'the first sample');
  checkSample(b, 'the second sample');
  const [ma, mb] = [meanOf(a), meanOf(b)];
  const qa = variance(a, ma) / a.length;
  const qb = variance(b, mb) / b.length;
  const difference = ma - mb;
  const se2 = qa + qb;
  if (se2 === 0) return { difference, df: Infinity, low: difference, high: difference };
  const df = se2 ** 2 / (qa ** 2 / (a.length - 1) + qb ** 2 / (b.length - 1));
  const half = tQuantile975(df) * Math.sqrt(se2);
  return { difference, df, low: difference - half, high: difference + half };
}

/**
 * A claim "the quantity is below `threshold`", judged on its 95 % interval: held when the whole interval is below,
 * did not hold when the whole interval is above, inconclusive when the threshold lies inside it.
 */
export function judgeBelow(interval: { low: number; high: number }, threshold: number): Verdict {
  if (interval.high < threshold) return 'held';
  if (interval.low > threshold) return 'did not hold';
  return 'inconclusive';
}

/** A claim "the quantity is above `threshold`": judgeBelow mirrored. */
export function judgeAbove(interval: { low: number; high: number }, threshold: number): Verdict {
  return judgeBelow({ low: -interval.high, high: -interval.low }, -threshold);
}

/** The verdict on the opposite claim: held and did not hold swap, inconclusive stays. */
export function negate(verdict: Verdict): Verdict {
  return verdict === 'held' ? 'did not hold' : verdict === 'did not hold' ? 'held' : 'inconclusive';
}

/** Several sub-claims that must all hold: any that did not hold decides; otherwise any doubt makes it inconclusive. */
export function allOf(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.includes('did not hold')) return 'did not hold';
  return verdicts.every((v) => v === 'held') ? 'held' : 'inconclusive';
}

/** "2.685 ± 0.004" (mean ± std): how the spread is printed in summaries. */
export function formatSpread(s: Spread, digits = 3): string {
  return `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}`;
}

/** "−0.305 [−0.321, −0.289]": a difference and its 95 % interval. */
export function formatDifference(d: Difference, digits = 3): string {
  return `${d.difference.toFixed(digits)} [${d.low.toFixed(digits)}, ${d.high.toFixed(digits)}]`;
}
