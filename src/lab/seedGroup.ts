/**
 * One experiment over seeds: the same settings trained on seeds s, s+1, …, s+k−1. The runs share a sweep key
 * (`seeds:<hash of the config without its seed>`, src/lab/sweeps.ts), so the store lists them together and a re-run of the same
 * settings lands in the same group; their final validation losses are summarised with the recipes' statistics.
 */
import { resolveConfig, type RunConfig, type RunConfigInput } from '../engine/config';
import type { PreparedRun } from './prepare';
import { spread, type Spread } from './stats';
import { SEED_AXES, sweepKeyOf } from './sweeps';

export { MAX_SEEDS } from '../shared/limits';

/** The group key: a sweep key over the seed axis (every setting except the seed, and where it trains). */
export function seedGroupKey(config: RunConfig): string {
  return sweepKeyOf(config, 'seeds', SEED_AXES);
}

/**
 * The k runs of a group, from one prepared (validated) run: its seed first, then the next ones, each named by its
 * seed and keyed by the group. Throws ConfigError if a later seed leaves the valid range.
 */
export function seedRuns(prepared: PreparedRun, k: number): PreparedRun[] {
  const sweepKey = seedGroupKey(prepared.config);
  return Array.from({ length: k }, (_, i) => {
    const config = resolveConfig({ ...prepared.config, seed: prepared.config.seed + i });
    return { ...prepared, config, name: `${prepared.name} · seed ${config.seed}`, sweepKey };
  });
}

/** A sweep's seed axis: every cell on seeds s … s+k−1, named "· seed N" as `train --seeds` names its runs. */
export function overSeeds<C extends { name: string; overrides: RunConfigInput }>(cells: readonly C[], firstSeed: number, k: number): C[] {
  return cells.flatMap((cell) =>
    Array.from({ length: k }, (_, i) => ({ ...cell, name: `${cell.name} · seed ${firstSeed + i}`, overrides: { ...cell.overrides, seed: firstSeed + i } })),
  );
}

export interface SeedOutcome {
  seed: number;
  runId: number;
  status: string;
  /** Null when the run diverged or stopped before any evaluation. */
  finalValLoss: number | null;
}

export interface SeedSummary {
  group: string;
  perSeed: SeedOutcome[];
  /** Over the seeds with a final val loss (`n` says how many); null when fewer than two have one. */
  finalValLoss: Spread | null;
}

export function summariseSeeds(group: string, perSeed: readonly SeedOutcome[]): SeedSummary {
  const losses = perSeed.map((r) => r.finalValLoss).filter((v): v is number => v !== null && Number.isFinite(v));
  return { group, perSeed: [...perSeed], finalValLoss: losses.length >= 2 ? spread(losses) : null };
}
