/**
 * A positional scheme's tables for given dimensions, from its pure table functions (no tfjs, no weights): what the
 * New run form draws beside the scheme picker and the Probes view shows when no trained run is chosen. Learned
 * tables and T5's learned scalars need a run (probe 'pe-table' / 'bias'); here T5 shows its bucket ids.
 */
import { ropeDecay } from '../engine/eval/probes';
import { alibiBias } from '../engine/model/positional/alibi';
import { binaryTable } from '../engine/model/positional/binary';
import { debertaIndex } from '../engine/model/positional/deberta';
import { integerTable } from '../engine/model/positional/integer';
import { integerNormTable } from '../engine/model/positional/integerNorm';
import { requireScheme, resolveSchemeOptions } from '../engine/model/positional/registry';
import { shawIndex } from '../engine/model/positional/shaw';
import { sineTable } from '../engine/model/positional/sine';
import { sinusoidalTable } from '../engine/model/positional/sinusoidal';
import { t5BucketGrid } from '../engine/model/positional/t5';
import { distanceIndex } from '../engine/model/positional/transformerXL';
import { LabError, MAX_PREVIEW_NUMBERS, previewNumbers, type CallRequest, type SchemePreview } from '../shared/api';

type Options = Record<string, number>;

const INPUT_TABLES: Record<string, (T: number, C: number, o: Options) => Float32Array> = {
  sinusoidal: (T, C, o) => sinusoidalTable(T, C, o.scale),
  binary: (T, C, o) => binaryTable(T, C, o.scale),
  integer: (T, C, o) => integerTable(T, C, o.scale),
  'integer-norm': (T, C, o) => integerNormTable(T, C, o.scale),
  sine: (T, C, o) => sineTable(T, C, o.scale),
};

/** Index grids of the relative schemes: which bucket or slot each (query, key) pair reads. */
const INDEX_GRIDS: Record<string, (T: number, o: Options) => Int32Array> = {
  t5: (T, o) => t5BucketGrid(T, o.buckets, o.maxDistance),
  shaw: (T, o) => shawIndex(T, o.maxDistance),
  deberta: (T, o) => debertaIndex(T, o.maxDistance),
  'transformer-xl': (T) => distanceIndex(T),
};

const HOOK_EXPLANATIONS: Record<string, string> = {
  none: 'Nothing is added: only the causal mask tells positions apart.',
  input: 'A (position × dimension) table is added to the token embeddings before the first block.',
  rotate: "Each head's queries and keys are rotated by angles proportional to their position, so q·k sees only the offset.",
  bias: 'A (query × key) bias per head is added to the attention logits after the 1/√d scaling.',
  score: 'Relative-position terms computed from q and k are added inside every attention score.',
};

function rows(data: ArrayLike<number>, T: number, width: number): number[][] {
  return Array.from({ length: T }, (_, t) => Array.from({ length: width }, (_, c) => data[t * width + c]));
}

export function schemePreview({ pos, length, nEmbd, nHead, posOptions }: CallRequest<'schemePreview'>): SchemePreview {
  let scheme;
  try {
    scheme = requireScheme(pos);
  } catch (error) {
    throw new LabError('invalid-request', error instanceof Error ? error.message : String(error));
  }
  // The schema refuses these too; checked again here because the service is also called directly (tests, Electron main).
  if (previewNumbers({ length, nEmbd, nHead }) > MAX_PREVIEW_NUMBERS)
    throw new LabError('invalid-request', `a preview of length ${length}, width ${nEmbd} and ${nHead} heads would return ${previewNumbers({ length, nEmbd, nHead }).toLocaleString('en-US')} numbers; at most ${MAX_PREVIEW_NUMBERS.toLocaleString('en-US')}`);
  const options = resolveSchemeOptions(pos, posOptions ?? {});
  const T = length;
  const table = INPUT_TABLES[pos] ? rows(INPUT_TABLES[pos](T, nEmbd, options), T, nEmbd) : null;
  const bias = pos === 'alibi' ? Array.from({ length: nHead }, (_, h) => rows(alibiBias(T, nHead).subarray(h * T * T, (h + 1) * T * T), T, T)) : null;
  const buckets = INDEX_GRIDS[pos] ? rows(INDEX_GRIDS[pos](T, options), T, T) : null;
  const headDim = Math.max(2, Math.floor(nEmbd / nHead / 2) * 2);
  const decay = pos === 'rope' ? ropeDecay(headDim, options.base ?? 10000, Math.min(4096, 8 * T)) : null;
  return { scheme: scheme.name, hook: scheme.hook, explanation: HOOK_EXPLANATIONS[scheme.hook] ?? scheme.summary, table, bias, buckets, decay };
}
