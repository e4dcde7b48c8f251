/**
 * Which runs the Sweeps view shows together. The view keys a sweep's runs with one `sweep-…` key; `gpt-lab sweep`
 * (local or on workers) keys each run by its own config (`sweep:<hash>`, so a re-run skips finished cells), and
 * its runs group by the settings the grid leaves alone.
 */
import type { RunInfo } from '../../shared/api';

/** The grid's axes: everything else is what a sweep's runs share. */
const GRID_FIELDS = new Set(['pos', 'norm', 'dropoutEmbd', 'dropoutAttn', 'dropoutResid', 'posOptions']);

export function sweepGroupKey(run: Pick<RunInfo, 'sweepKey' | 'config'>): string | null {
  if (run.sweepKey?.startsWith('sweep-')) return run.sweepKey;
  if (!run.sweepKey?.startsWith('sweep:')) return null;
  const shared = Object.entries(run.config).filter(([field]) => !GRID_FIELDS.has(field)).sort(([a], [b]) => a.localeCompare(b));
  return `cli:${JSON.stringify(shared)}`;
}

export function isCommandLineSweep(groupKey: string): boolean {
  return groupKey.startsWith('cli:');
}
