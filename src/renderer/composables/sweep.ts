/** The sweep form's pure parts: parsing the dropout list and counting the grid. */
import { MAX_SWEEP_RUNS } from '../../shared/api';

/** "0, 0.1 0.2" → [0, 0.1, 0.2]; a message naming the bad entry otherwise. */
export function parseDropouts(text: string): { values: number[]; problem: string | null } {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (!parts.length) return { values: [], problem: 'enter at least one dropout value' };
  const values: number[] = [];
  for (const part of parts) {
    const value = Number(part);
    if (!Number.isFinite(value) || value < 0 || value > 0.95) return { values: [], problem: `dropout must be numbers in [0, 0.95], got ${JSON.stringify(part)}` };
    if (!values.includes(value)) values.push(value);
  }
  return { values, problem: null };
}

export function sweepSize(schemes: number, norms: number, dropouts: number): { runs: number; problem: string | null } {
  const runs = schemes * norms * dropouts;
  if (!schemes) return { runs, problem: 'pick at least one positional scheme' };
  if (!norms) return { runs, problem: 'pick at least one norm placement' };
  if (runs > MAX_SWEEP_RUNS) return { runs, problem: `${runs} runs; at most ${MAX_SWEEP_RUNS} per sweep` };
  return { runs, problem: null };
}

/**
 * How many cells a sweep was queued with, for sweeps this view queued before sweep keys named a grid's settings (their
 * key ends in -of<N>); null for other keys.
 */
export function plannedCells(sweepKey: string): number | null {
  const match = /-of(\d+)$/.exec(sweepKey);
  return match ? Number(match[1]) : null;
}

/**
 * A sweep's progress in words: done of queued, and the cells deleted since, so a deletion never reads as "done".
 * `recordedSize`: the largest sweep size its runs recorded (a wider grid over the same settings shares the group).
 */
export function sweepProgress(sweepKey: string, present: number, done: number, recordedSize: number | null = null): string {
  const planned = Math.max(present, recordedSize ?? plannedCells(sweepKey) ?? present);
  const deleted = planned - present;
  return `${done} / ${present} done${deleted ? ` · ${deleted} of ${planned} deleted` : ''}`;
}
