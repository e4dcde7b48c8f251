/**
 * Seeds as one experiment in Compare: the curves of runs that differ only in their seed, reduced to the mean and
 * its ± 1 std band (sample std over the seeds, from the recipes' statistics). A pure function over curves.
 */
import { spread } from '../../lab/stats';

export interface Curve {
  /** The training step of each point: seeds are matched step by step. */
  step: readonly number[];
  x: readonly number[];
  y: readonly (number | null)[];
}

export interface SeedBand {
  /** At each shared step, the seeds' mean x (the same for steps and tokens; wall time differs per seed). */
  x: number[];
  mean: number[];
  std: number[];
  /** Seeds behind every point: a step is kept only where all of them have a finite value. */
  n: number;
}

/** Mean and sample std over the seeds at every step each curve has a finite value at, in the first curve's order. */
export function seedBand(curves: readonly Curve[]): SeedBand {
  if (curves.length < 2) throw new Error(`a seed band needs at least 2 runs, got ${curves.length}`);
  const atStep = curves.map((c) => new Map(c.step.map((step, i) => [step, { x: c.x[i]!, y: c.y[i] }] as const)));
  const band: SeedBand = { x: [], mean: [], std: [], n: curves.length };
  for (const step of curves[0]!.step) {
    const points = atStep.map((m) => m.get(step));
    if (!points.every((p) => p !== undefined && typeof p.y === 'number' && Number.isFinite(p.y))) continue;
    const s = spread(points.map((p) => p!.y as number));
    band.x.push(points.reduce((sum, p) => sum + p!.x, 0) / points.length);
    band.mean.push(s.mean);
    band.std.push(s.std);
  }
  return band;
}
