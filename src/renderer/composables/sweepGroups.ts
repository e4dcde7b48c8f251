/**
 * Which runs the Sweeps view shows together. A sweep key (`sweep:<hash>`, src/lab/sweeps.ts) names what a grid holds
 * fixed, so the runs of one grid, queued from this view or from `gpt-lab sweep`, share it. The runs are grouped by
 * those same settings rather than by the key itself, which also groups cells stored before the key had that meaning
 * (each `gpt-lab sweep` cell had a key of its own then); sweeps queued from this view before it kept their
 * `sweep-…-of<N>` key.
 */
import type { RunInfo } from '../../shared/api';

/** The grid's axes, and where a run trains: everything else is what a sweep's runs share. */
const NOT_SHARED = new Set(['pos', 'norm', 'dropoutEmbd', 'dropoutAttn', 'dropoutResid', 'posOptions', 'backend', 'threads']);

export function sweepGroupKey(run: Pick<RunInfo, 'sweepKey' | 'config'>): string | null {
  if (run.sweepKey?.startsWith('sweep-')) return run.sweepKey;
  if (!run.sweepKey?.startsWith('sweep:')) return null;
  const shared = Object.entries(run.config).filter(([field]) => !NOT_SHARED.has(field)).sort(([a], [b]) => a.localeCompare(b));
  return `grid:${JSON.stringify(shared)}`;
}
