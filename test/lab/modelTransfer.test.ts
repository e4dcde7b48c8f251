/**
 * export-model / import-model through the store: a round trip gives identical logits, the imported run samples,
 * evaluates and fine-tunes (resumes), and an export never overwrites a non-empty directory or the database.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunConfig } from '../../src/engine/config';
import { evalLengthForRun } from '../../src/lab/analysis';
import { exportRunModel, importRunModel } from '../../src/lab/modelTransfer';
import { resumeRun, trainNewRun } from '../../src/lab/runner';
import { prepareRun } from '../../src/lab/prepare';
import { loadRunModel } from '../../src/lab/runModel';
import { sampleRun } from '../../src/lab/sampling';
import { RunStore } from '../../src/store';
import { useWasmBackend } from '../helpers/backend';

useWasmBackend();

const TINY: Partial<RunConfig> = {
  data: 'builtin:copy', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8, batchSize: 4, steps: 3, lr: 1e-2, minLr: 1e-3,
  evalEvery: 3, evalBatches: 1, checkpointEvery: 0, sampleEvery: 0,
};

let dir: string;
let dbPath: string;
let store: RunStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpt-lab-transfer-'));
  dbPath = join(dir, 'runs.db');
  store = RunStore.open(dbPath);
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function logitsOf(runId: number, ids: number[]): Promise<Float32Array> {
  const { model } = await loadRunModel(store, runId);
  const logits = tf.tidy(() => model.forward(tf.tensor2d(ids, [1, ids.length], 'int32')).dataSync() as Float32Array);
  model.dispose();
  return logits;
}

describe.each([
  ['gpt2', { pos: 'learned' }],
  ['gpt-lab', { pos: 'rope', norm: 'post' }],
] as const)('a %s export', (layout, settings) => {
  let runId: number;
  let out: string;
  beforeAll(async () => {
    runId = (await trainNewRun(store, prepareRun({ config: { ...TINY, ...settings } }))).runId;
    out = join(dir, `export-${layout}`);
  });

  it('is written in that layout and imports to identical logits', async () => {
    const result = exportRunModel(store, runId, out, dbPath);
    expect(result.layout).toBe(layout);
    expect(readdirSync(out).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    const imported = importRunModel(store, out);
    expect(imported.layout).toBe(layout);
    const ids = [1, 4, 2, 0, 3, 3, 1];
    expect(await logitsOf(imported.runId, ids)).toEqual(await logitsOf(runId, ids));
    const again = { prompt: 'ab', tokens: 6, temperature: 1, topK: 0, seed: 5 };
    expect((await sampleRun(store, { runId: imported.runId, ...again })).text).toBe((await sampleRun(store, { runId, ...again })).text);
  });
});

describe('an imported run', () => {
  it('evaluates, and fine-tunes from the imported weights for the steps asked', async () => {
    const runId = (await trainNewRun(store, prepareRun({ config: TINY }))).runId;
    const out = join(dir, 'finetune');
    exportRunModel(store, runId, out);
    const imported = importRunModel(store, out, { steps: 2 });
    expect(store.getRun(imported.runId)!.status).toBe('stopped');
    const evaluated = await evalLengthForRun(store, imported.runId, [8]);
    expect(evaluated.results[0].loss).toBeGreaterThan(0);
    const tuned = await resumeRun(store, imported.runId);
    expect(tuned.status).toBe('completed');
    expect(tuned.steps).toBe(2);
    expect(store.metrics(imported.runId).map((m) => m.step)).toEqual([0, 1]);
  });
});

describe('export-model refuses', () => {
  it('a non-empty directory, a file, or the database, and leaves them as they were', async () => {
    const runId = (await trainNewRun(store, prepareRun({ config: TINY }))).runId;
    const full = join(dir, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'notes.txt'), 'mine');
    expect(() => exportRunModel(store, runId, full, dbPath)).toThrow(/is not empty \(notes\.txt\); choose a new or empty directory, nothing was overwritten/);
    expect(readdirSync(full)).toEqual(['notes.txt']);
    expect(() => exportRunModel(store, runId, dbPath, dbPath)).toThrow(/is the database file/);
    expect(() => exportRunModel(store, runId, join(full, 'notes.txt'), dbPath)).toThrow(/exists and is not a directory/);
    // An empty directory is fine, and no staging folder is left beside it.
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    exportRunModel(store, runId, empty, dbPath);
    expect(readdirSync(empty)).toHaveLength(3);
    expect(readdirSync(dir).filter((n) => n.includes('.partial-'))).toEqual([]);
  });

  it('and import-model names a directory without the files', () => {
    const bare = join(dir, 'bare');
    mkdirSync(bare);
    expect(() => importRunModel(store, bare)).toThrow(/has no config\.json/);
    expect(() => importRunModel(store, join(dir, 'nowhere'))).toThrow(/is not a directory/);
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
  });
});
