/** Sweep keys: the identity of a grid cell, so a re-run sweep or recipe can find the run it already finished. */
import type { RunConfig } from '../engine/config';
import { hashText } from '../engine/data/corpus';

/** JSON with sorted keys, so equal configs always serialise (and hash) the same. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(value);
}

export function sweepKeyOf(config: RunConfig, namespace = 'sweep'): string {
  // Where a cell trains is not what it is: the same cell run on another backend or thread count (threads 'auto'
  // follows the machine's cores) is the same result, to float error.
  const { backend: _where, threads: _threads, attnLogScaling, ...rest } = config;
  // Cells from before log-n scaling existed had none: leaving 'none' out keeps their keys, so they are found again.
  const cell = (attnLogScaling ?? 'none') === 'none' ? rest : { ...rest, attnLogScaling };
  return `${namespace}:${hashText(stableJson(cell))}`;
}
