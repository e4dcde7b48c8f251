/** Turns a config's data source into a Corpus: builtin corpora are generated or read from resources, files are read and checked. */
import type { RunConfig } from '../engine/config';
import { buildCorpus, resolveBuiltin, type Corpus } from '../engine/data/corpus';
import { BUILTIN_TEXTS, resolveBuiltinText, type BuiltinTextName } from '../engine/data/textCorpora';
import { readDataFile } from './dataFile';
import { resourcePath } from './resources';

/** Builtin corpora use one fixed generator seed, so runs with different model seeds see the same data. */
export const BUILTIN_DATA_SEED = 20240601;

const PREVIEW_CHARS = 300;

function readBuiltinText(name: BuiltinTextName): string {
  return readDataFile(resourcePath(`corpora/${BUILTIN_TEXTS[name].file}`));
}

/** The opening of a shipped text, for the data picker. */
export function builtinTextPreview(name: BuiltinTextName): string {
  return readBuiltinText(name).slice(0, PREVIEW_CHARS);
}

/** The text of a data source that is read rather than generated; undefined for a generated builtin. */
function readSourceText(source: string): string | undefined {
  const shipped = resolveBuiltinText(source);
  if (shipped) return readBuiltinText(shipped);
  return resolveBuiltin(source) !== undefined ? undefined : readDataFile(source);
}

export function loadCorpus(config: Pick<RunConfig, 'data' | 'blockSize' | 'valFraction'> & Partial<Pick<RunConfig, 'tokenizer'>>, vocab?: readonly string[]): Corpus {
  return buildCorpus({
    source: config.data,
    tokenizer: config.tokenizer,
    text: readSourceText(config.data),
    blockSize: config.blockSize,
    valFraction: config.valFraction,
    vocab,
    seed: BUILTIN_DATA_SEED,
  });
}
