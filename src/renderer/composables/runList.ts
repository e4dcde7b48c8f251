/** Filtering and sorting the run list (pure). */
import type { RunInfo } from '../../shared/api';

export type RunSortKey = 'id' | 'name' | 'status' | 'step' | 'valLoss' | 'created';

/** Every word must appear in the run's id, name, status, scheme, norm, data, sweep, tags or notes. */
export function filterRuns(runs: readonly RunInfo[], query: string): RunInfo[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return [...runs];
  return runs.filter((run) => {
    const text = `#${run.id} ${run.name} ${run.status} ${run.config.pos} ${run.config.norm}-norm ${run.config.data} ${run.sweepKey ?? ''} ${run.tags.join(' ')} ${run.notes}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
}

/** Sorted copy; runs without a value (no val loss yet) go last either way. */
export function sortRuns(runs: readonly RunInfo[], key: RunSortKey, descending: boolean): RunInfo[] {
  const value = (run: RunInfo): number | string | null => {
    switch (key) {
      case 'id':
        return run.id;
      case 'name':
        return run.name.toLowerCase();
      case 'status':
        return run.status;
      case 'step':
        return run.lastStep;
      case 'valLoss':
        return run.finalValLoss;
      case 'created':
        return run.createdAt;
    }
  };
  return [...runs].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === null || vb === null) return va === vb ? a.id - b.id : va === null ? 1 : -1;
    const order = va < vb ? -1 : va > vb ? 1 : a.id - b.id;
    return descending ? -order : order;
  });
}

/** "baseline, lr sweep,, baseline" → ["baseline", "lr sweep"]: comma-separated, trimmed, each once. */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(',').map((t) => t.trim()).filter(Boolean))];
}
