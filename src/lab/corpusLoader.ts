/** Turns a config's data source into a Corpus: builtin corpora are generated, files are read and checked. */
import type { RunConfig } from '../engine/config';
import { buildCorpus, resolveBuiltin, type Corpus } from '../engine/data/corpus';
import { readDataFile } from './dataFile';

/** Builtin corpora use one fixed generator seed, so runs with different model seeds see the same data. */
export const BUILTIN_DATA_SEED = 20240601;

/** `text`: the file's contents when the caller read it already (the service reads without blocking its event loop). */
export function loadCorpus(config: Pick<RunConfig, 'data' | 'blockSize' | 'valFraction'>, vocab?: readonly string[], text?: string): Corpus {
  const isBuiltin = resolveBuiltin(config.data) !== undefined;
  return buildCorpus({
    source: config.data,
    text: isBuiltin ? undefined : (text ?? readDataFile(config.data)),
    blockSize: config.blockSize,
    valFraction: config.valFraction,
    vocab,
    seed: BUILTIN_DATA_SEED,
  });
}
