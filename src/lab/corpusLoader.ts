/**
 * Turns a config's data source into a Corpus: builtin corpora are generated or read from resources, uploaded texts
 * (`text:<sha256>`) come from the store, files are read and checked.
 */
import type { RunConfig } from '../engine/config';
import { buildCorpus, resolveBuiltin, type Corpus } from '../engine/data/corpus';
import { BUILTIN_TEXTS, resolveBuiltinText, type BuiltinTextName } from '../engine/data/textCorpora';
import { readDataFile } from './dataFile';
import { resourcePath } from './resources';
import { isTextSource, readStoredText, type TextLookup } from './uploadedTexts';

/** Builtin corpora use one fixed generator seed, so runs with different model seeds see the same data. */
export const BUILTIN_DATA_SEED = 20240601;

const PREVIEW_CHARS = 300;

/** A path to a text file, not `builtin:NAME` or an uploaded `text:<sha256>`. */
export function isFileSource(source: string): boolean {
  return !source.startsWith('builtin:') && !isTextSource(source);
}

function readBuiltinText(name: BuiltinTextName): string {
  return readDataFile(resourcePath(`corpora/${BUILTIN_TEXTS[name].file}`));
}

/** The opening of a shipped text, for the data picker. */
export function builtinTextPreview(name: BuiltinTextName): string {
  return readBuiltinText(name).slice(0, PREVIEW_CHARS);
}

/**
 * `texts`: where `text:` sources are stored; without it they are refused as unknown. `fileText`: a data file's
 * contents when the caller read it already (the service reads without blocking its event loop).
 */
export function loadCorpus(
  config: Pick<RunConfig, 'data' | 'blockSize' | 'valFraction'> & Partial<Pick<RunConfig, 'tokenizer'>>,
  vocab?: readonly string[],
  texts?: TextLookup,
  fileText?: string,
): Corpus {
  return buildCorpus({
    source: config.data,
    tokenizer: config.tokenizer,
    text: sourceText(config.data, texts, fileText),
    blockSize: config.blockSize,
    valFraction: config.valFraction,
    vocab,
    seed: BUILTIN_DATA_SEED,
  });
}

/** The text of a source that is read rather than generated; undefined for a generated builtin. */
function sourceText(source: string, texts: TextLookup | undefined, fileText: string | undefined): string | undefined {
  if (isTextSource(source)) return readStoredText(texts, source);
  const shipped = resolveBuiltinText(source);
  if (shipped) return readBuiltinText(shipped);
  return resolveBuiltin(source) === undefined ? (fileText ?? readDataFile(source)) : undefined;
}
