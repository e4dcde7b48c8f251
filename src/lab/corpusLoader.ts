/**
 * Turns a config's data source into a Corpus: builtin corpora are generated, uploaded texts (`text:<sha256>`) come
 * from the store, files are read and checked.
 */
import type { RunConfig } from '../engine/config';
import { buildCorpus, resolveBuiltin, type Corpus } from '../engine/data/corpus';
import { readDataFile } from './dataFile';
import { isTextSource, readStoredText, type TextLookup } from './uploadedTexts';

/** Builtin corpora use one fixed generator seed, so runs with different model seeds see the same data. */
export const BUILTIN_DATA_SEED = 20240601;

/** A path to a text file, not `builtin:NAME` or an uploaded `text:<sha256>`. */
export function isFileSource(source: string): boolean {
  return !source.startsWith('builtin:') && !isTextSource(source);
}

/**
 * `texts`: where `text:` sources are stored; without it they are refused as unknown. `fileText`: a data file's
 * contents when the caller read it already (the service reads without blocking its event loop).
 */
export function loadCorpus(config: Pick<RunConfig, 'data' | 'blockSize' | 'valFraction'>, vocab?: readonly string[], texts?: TextLookup, fileText?: string): Corpus {
  return buildCorpus({
    source: config.data,
    text: sourceText(config.data, texts, fileText),
    blockSize: config.blockSize,
    valFraction: config.valFraction,
    vocab,
    seed: BUILTIN_DATA_SEED,
  });
}

/** The text of a non-builtin source; undefined for a builtin one, which buildCorpus generates. */
function sourceText(source: string, texts: TextLookup | undefined, fileText: string | undefined): string | undefined {
  if (isTextSource(source)) return readStoredText(texts, source);
  return resolveBuiltin(source) === undefined ? (fileText ?? readDataFile(source)) : undefined;
}
