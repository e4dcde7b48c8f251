/**
 * A positional scheme's preview for given dimensions, from the scheme's own `preview` hook (pure tables, no tfjs, no
 * weights): what the New run form draws beside the scheme picker and the Probes view shows when no trained run is
 * chosen. Learned tables and T5's learned scalars need a run (probe 'pe-table' / 'bias'). This file knows no scheme by
 * name: it bounds the request, checks the hook kept its size contract, and turns flat arrays into rows.
 */
import { requireScheme, resolveSchemeOptions } from '../engine/model/positional/registry';
import type { PositionalScheme, PreviewShape, SchemePreviewParts } from '../engine/model/positional/types';
import { LabError, MAX_PREVIEW_NUMBERS, previewNumbers, type CallRequest, type SchemePreview } from '../shared/api';

const HOOK_EXPLANATIONS: Record<PositionalScheme['hook'], string> = {
  none: 'Nothing is added: only the causal mask tells positions apart.',
  input: 'A (position × dimension) table is added to the token embeddings before the first block.',
  rotate: "Each head's queries and keys are rotated by angles proportional to their position, so q·k sees only the offset.",
  bias: 'A (query × key) bias per head is added to the attention logits after the 1/√d scaling.',
  score: 'Relative-position terms computed from q and k are added inside every attention score.',
};

function rows(data: ArrayLike<number>, height: number, width: number, offset = 0): number[][] {
  return Array.from({ length: height }, (_, r) => Array.from({ length: width }, (_, c) => data[offset + r * width + c]));
}

/** A hook that returns the wrong size is a bug in the scheme, named so its author finds it (not a request error). */
function checkSize(scheme: string, part: string, actual: number, expected: number, atMost = false): void {
  if (atMost ? actual > expected : actual !== expected)
    throw new Error(`scheme ${scheme}'s preview returned ${actual} numbers for ${part}; its contract (SchemePreviewParts in positional/types.ts) says ${atMost ? 'at most ' : ''}${expected}`);
}

function checkParts(scheme: string, { length: T, nEmbd, nHead }: PreviewShape, parts: SchemePreviewParts): void {
  if (parts.table) checkSize(scheme, 'table', parts.table.length, T * nEmbd);
  if (parts.bias) checkSize(scheme, 'bias', parts.bias.length, nHead * T * T);
  if (parts.buckets) checkSize(scheme, 'buckets', parts.buckets.length, T * T);
  if (parts.decay) {
    const { distance, bound, onesScore } = parts.decay;
    checkSize(scheme, 'decay.distance', distance.length, 8 * T + 1, true);
    checkSize(scheme, 'decay.bound', bound.length, distance.length);
    checkSize(scheme, 'decay.onesScore', onesScore.length, distance.length);
  }
}

/** The preview of a scheme object; `schemePreview` looks the scheme up by name first. */
export function previewOf(scheme: PositionalScheme, shape: PreviewShape, options: Record<string, number>): SchemePreview {
  // The schema refuses these too; checked again here because the service is also called directly (tests, Electron main).
  const numbers = previewNumbers(shape);
  if (numbers > MAX_PREVIEW_NUMBERS)
    throw new LabError('invalid-request', `a preview of length ${shape.length}, width ${shape.nEmbd} and ${shape.nHead} heads would return ${numbers.toLocaleString('en-US')} numbers; at most ${MAX_PREVIEW_NUMBERS.toLocaleString('en-US')}`);
  const parts = scheme.preview?.(shape, options) ?? {};
  checkParts(scheme.name, shape, parts);
  const T = shape.length;
  return {
    scheme: scheme.name,
    hook: scheme.hook,
    explanation: HOOK_EXPLANATIONS[scheme.hook],
    table: parts.table ? rows(parts.table, T, shape.nEmbd) : null,
    bias: parts.bias ? Array.from({ length: shape.nHead }, (_, h) => rows(parts.bias!, T, T, h * T * T)) : null,
    buckets: parts.buckets ? rows(parts.buckets, T, T) : null,
    decay: parts.decay ?? null,
  };
}

export function schemePreview({ pos, length, nEmbd, nHead, posOptions }: CallRequest<'schemePreview'>): SchemePreview {
  let scheme: PositionalScheme;
  try {
    scheme = requireScheme(pos);
  } catch (error) {
    throw new LabError('invalid-request', error instanceof Error ? error.message : String(error));
  }
  return previewOf(scheme, { length, nEmbd, nHead }, resolveSchemeOptions(pos, posOptions ?? {}));
}
