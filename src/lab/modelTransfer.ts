/**
 * export-model / import-model: a stored run's weights as a directory other tools load, and such a directory back
 * into the store as a run that can be sampled, evaluated and fine-tuned (resumed).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { resolveConfig, type RunConfig } from '../engine/config';
import { createTokenizer, storedVocab } from '../engine/data/tokenizer';
import { exportModelFiles, importModelFiles, type ModelLayout } from '../engine/interop/gpt2';
import { encodeCheckpoint, startingState } from '../engine/train/checkpoint';
import type { RunStore } from '../store';
import { loadRunWeights } from './runModel';

export class ModelTransferError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelTransferError';
  }
}

export interface ExportModelResult {
  runId: number;
  dir: string;
  layout: ModelLayout;
  /** Why the run was written in GPT Lab's own names rather than GPT-2's (empty for gpt2). */
  notGpt2Because: string[];
  files: string[];
  step: number;
}

/** Refuses anything but a missing or empty directory that is not the store itself. */
function checkTarget(dir: string, dbPath: string | undefined): void {
  if (dbPath && resolve(dir) === resolve(dbPath)) throw new ModelTransferError(`--out ${dir} is the database file; choose a new directory`);
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new ModelTransferError(`--out ${dir} exists and is not a directory; nothing was written`);
  const entries = readdirSync(dir);
  if (entries.length) throw new ModelTransferError(`--out ${dir} is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); choose a new or empty directory, nothing was overwritten`);
}

export function exportRunModel(store: RunStore, runId: number, dir: string, dbPath?: string): ExportModelResult {
  checkTarget(dir, dbPath);
  const { run, config, tokenizer, weights, step } = loadRunWeights(store, runId);
  const files = exportModelFiles({ config, vocabSize: tokenizer.size, weights, tokenizer: tokenizer.kind, vocab: tokenizer.vocab, step, runName: run.name });
  // Written into a sibling first and renamed into place: a crash leaves no half-written export under the name.
  const staging = join(dirname(resolve(dir)), `.${basename(dir)}.partial-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    for (const [name, content] of Object.entries(files.files)) writeFileSync(join(staging, name), content);
    if (existsSync(dir)) rmSync(dir, { recursive: true }); // empty, checked above
    renameSync(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  return { runId, dir, layout: files.layout, notGpt2Because: files.notGpt2Because, files: Object.keys(files.files), step };
}

export interface ImportModelOptions {
  /** Data to evaluate and fine-tune on instead of what the export names. */
  data?: string;
  /** Steps a fine-tune (resume) trains to, counted from the imported weights. */
  steps?: number;
  name?: string;
}

export interface ImportModelResult {
  runId: number;
  layout: ModelLayout;
  config: RunConfig;
}

function readModelFile(dir: string, name: string): Buffer {
  const path = join(dir, name);
  if (!existsSync(path)) throw new ModelTransferError(`${dir} has no ${name}; an export holds model.safetensors and config.json`);
  return readFileSync(path);
}

/**
 * The imported weights become step 0 of a stopped run with fresh optimizer state: sampling and evaluation use them
 * as they are, and `resume` fine-tunes them on the run's data for its steps.
 */
export function importRunModel(store: RunStore, dir: string, options: ImportModelOptions = {}): ImportModelResult {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ModelTransferError(`${dir} is not a directory`);
  const imported = importModelFiles(readModelFile(dir, 'config.json').toString('utf8'), new Uint8Array(readModelFile(dir, 'model.safetensors')));
  const config = resolveConfig({ ...imported.config, ...(options.data ? { data: options.data } : {}), ...(options.steps ? { steps: options.steps } : {}) });
  const tokenizer = createTokenizer(imported.tokenizer, { vocab: imported.vocab });
  const checkpoint = encodeCheckpoint(startingState(imported.weights, config.seed));
  const params = Object.values(imported.weights).reduce((sum, w) => sum + w.length, 0);
  const trainedSteps = imported.step ? `, trained ${imported.step} steps` : '';
  const runId = store.createRun({
    name: options.name ?? `imported ${basename(resolve(dir))} (${imported.runName ?? imported.layout}${trainedSteps})`,
    config,
    dataSource: config.data,
    vocab: storedVocab(tokenizer),
    params,
    status: 'stopped',
  });
  store.saveCheckpoint(runId, 0, checkpoint);
  return { runId, layout: imported.layout, config };
}
