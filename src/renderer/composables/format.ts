/** Formatting for people: durations, rates, losses, sizes and times. */

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function formatRate(tokensPerSecond: number | null | undefined): string {
  if (tokensPerSecond == null || !Number.isFinite(tokensPerSecond)) return '–';
  return tokensPerSecond >= 10_000 ? `${(tokensPerSecond / 1000).toFixed(1)}k` : String(Math.round(tokensPerSecond));
}

export function formatLoss(loss: number | null | undefined): string {
  return loss == null || !Number.isFinite(loss) ? '–' : loss.toFixed(4);
}

export function formatCount(n: number | null | undefined): string {
  if (n == null) return '–';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

export function formatTime(ms: number | null | undefined): string {
  if (ms == null) return '–';
  return new Date(ms).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** The file-name part of a data source, the builtin's name, or an uploaded text's short hash. */
export function dataLabel(source: string): string {
  if (source.startsWith('builtin:')) return source.slice('builtin:'.length);
  if (source.startsWith('text:')) return `uploaded text ${source.slice('text:'.length, 'text:'.length + 8)}`;
  return source.replace(/^.*[\\/]/, '');
}
