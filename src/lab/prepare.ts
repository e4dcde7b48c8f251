/**
 * A run made ready to train: settings resolved and validated, memory checked, data loaded and tokenized, all before
 * a row is written. Kept apart from the trainer (runner.ts), so the service, which validates and queues runs but
 * never trains, does not load the training code (test/main/bundle.test.ts).
 */
import { totalmem } from 'node:os';
import { ConfigError, resolveConfig, type RunConfig, type RunConfigInput } from '../engine/config';
import type { Corpus } from '../engine/data/corpus';
import { storedVocab } from '../engine/data/tokenizer';
import { WASM_HEAP_BYTES, trainingMemoryProblem, type ModelShape } from '../engine/memory';
import { modelConfigOf, parameterLayout } from '../engine/model/gpt';
import { loadCorpus } from './corpusLoader';
import { isTextSource, textSourceId, type TextLookup } from './uploadedTexts';

export interface StartRunInput {
  config: RunConfigInput;
  name?: string;
  sweepKey?: string;
}

/** A run whose settings and data are known good: nothing can fail on user input past this point. */
export interface PreparedRun {
  config: RunConfig;
  corpus: Corpus;
  name: string;
  sweepKey?: string;
  /** The number of cells of the sweep this run is one of. */
  sweepSize?: number;
}

/**
 * What one process may use: a wasm heap holds 4 GiB at most, and a run should leave a quarter of the machine's
 * memory to everything else. (The native backends have no 4 GiB cap; the machine's memory still bounds them.)
 */
export function memoryLimitBytes(): number {
  return Math.min(WASM_HEAP_BYTES, Math.floor(totalmem() * 0.75));
}

/**
 * Throws a ConfigError with the figures when one training step of `config` does not fit memoryLimitBytes(). Counted
 * for the whole batch on one thread, whatever `threads` is: with threads 'auto' the count follows the machine, and a
 * run valid on 8 cores must stay valid on 1 (and halving the rows per thread was seen to pass runs that then ran a
 * helper's wasm heap out of memory).
 */
export function checkMemory(config: RunConfig, vocabSize: number): void {
  const problem = trainingMemoryProblem(modelShape(config, vocabSize), config.batchSize, config.blockSize, memoryLimitBytes());
  if (problem) throw new ConfigError([problem]);
}

export function modelShape(config: RunConfig, vocabSize: number): ModelShape {
  const params = parameterLayout(modelConfigOf(config, vocabSize)).reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
  return { params, nLayer: config.nLayer, nHead: config.nHead, nEmbd: config.nEmbd, vocabSize };
}

/** `dataName`: what to call the data when its source says little (an uploaded text's file name). */
export function defaultRunName(config: RunConfig, dataName = config.data.replace(/^.*[\\/]/, '')): string {
  return `${config.pos} · ${config.norm}-norm · ${config.nLayer}L${config.nHead}H${config.nEmbd}d · ${dataName}`;
}

/**
 * Validates config and data (`texts`: where `text:` sources live; `fileText`: a data file read already); throws
 * ConfigError or DataError before anything is written.
 */
export function prepareRun(input: StartRunInput, texts?: TextLookup, fileText?: string): PreparedRun {
  const config = resolveConfig(input.config);
  // Once with the smallest vocabulary, so a model too big for any data is refused before its data is read.
  checkMemory(config, 1);
  const corpus = loadCorpus(config, undefined, texts, fileText);
  checkMemory(config, corpus.tokenizer.size);
  const uploadedName = isTextSource(config.data) ? texts?.getText(textSourceId(config.data))?.name : undefined;
  return { config, corpus, name: input.name ?? defaultRunName(config, uploadedName), sweepKey: input.sweepKey };
}

/** The row fields every way of storing a prepared run shares: trained here, queued here, queued for workers. */
export function runRowOf({ config, corpus, name, sweepKey, sweepSize }: PreparedRun) {
  return { name, config, dataSource: corpus.source, dataHash: corpus.hash, vocab: storedVocab(corpus.tokenizer), sweepKey, sweepSize };
}
