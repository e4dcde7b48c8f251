/**
 * The lab runner against a real SQLite file: a run's row, metrics, samples and checkpoints; nothing written
 * for bad input; a stopped run resumed to the end with every metric step present exactly once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type RunConfig } from '../../src/engine/config';
import { DataError } from '../../src/engine/data/errors';
import { decodeCheckpoint } from '../../src/engine/train/checkpoint';
import type { Trainer } from '../../src/engine/train/trainer';
import { resumeRun, trainNewRun } from '../../src/lab/runner';
import { prepareRun } from '../../src/lab/prepare';
import { RunStore, type MetricRow } from '../../src/store';
import { useWasmBackend } from '../helpers/backend';

useWasmBackend();

const TINY: Partial<RunConfig> = {
  data: 'builtin:copy',
  nLayer: 1,
  nHead: 2,
  nEmbd: 16,
  blockSize: 8,
  batchSize: 4,
  steps: 30,
  lr: 1e-2,
  minLr: 1e-3,
  evalEvery: 10,
  evalBatches: 2,
  checkpointEvery: 10,
  sampleEvery: 15,
  sampleLength: 10,
};

let dir: string;
let store: RunStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpt-lab-runner-'));
  store = RunStore.open(join(dir, 'runs.db'));
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function steps(rows: MetricRow[]): number[] {
  return rows.map((r) => r.step);
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('prepareRun', () => {
  it('throws before anything is written: bad config, missing file, unknown builtin', () => {
    const probe = RunStore.open(join(dir, 'untouched.db'));
    try {
      expect(() => prepareRun({ config: { ...TINY, nLayer: 0, dropoutAttn: 2 } })).toThrow(ConfigError);
      expect(() => prepareRun({ config: { ...TINY, data: join(dir, 'missing.txt') } })).toThrow(DataError);
      expect(() => prepareRun({ config: { ...TINY, data: join(dir, 'missing.txt') } })).toThrow(/not found/);
      expect(() => prepareRun({ config: { ...TINY, data: 'builtin:nope' } })).toThrow(/unknown builtin/);
      // A file too short for the block size.
      const short = join(dir, 'short.txt');
      writeFileSync(short, 'abcdef');
      expect(() => prepareRun({ config: { ...TINY, data: short } })).toThrow(DataError);
      expect(probe.listRuns()).toEqual([]);
    } finally {
      probe.close();
    }
  });

  it('resolves the config and names the run after its settings', () => {
    const prepared = prepareRun({ config: { ...TINY, pos: 't5' } });
    expect(prepared.config.posOptions).toEqual({ buckets: 32, maxDistance: 128 });
    expect(prepared.corpus.source).toBe('builtin:copy');
    expect(prepared.name).toBe('t5 · pre-norm · 1L2H16d · builtin:copy');
    expect(prepareRun({ config: TINY, name: 'mine' }).name).toBe('mine');
  });
});

describe('trainNewRun and resumeRun', () => {
  let straightId: number;
  let straightMetrics: MetricRow[];

  it('trains a run into the store: row, every metric once, val losses, samples, checkpoints', async () => {
    const seen: number[] = [];
    const result = await trainNewRun(store, prepareRun({ config: TINY, name: 'straight' }), { onStep: (_id, m) => void seen.push(m.step) });
    straightId = result.runId;
    expect(result.status).toBe('completed');
    expect(result.steps).toBe(30);
    expect(result.backend.name).toBe('wasm');
    expect(result.params).toBeGreaterThan(0);
    expect(seen).toEqual(range(30));

    const run = store.getRun(result.runId)!;
    expect(run.name).toBe('straight');
    expect(run.status).toBe('completed');
    expect(run.lastStep).toBe(29);
    expect(run.dataSource).toBe('builtin:copy');
    expect(run.params).toBe(result.params);
    expect(run.vocab).not.toBeNull();
    expect(run.dataHash).toMatch(/^[0-9a-f]{16}$/);
    expect(run.startedAt).not.toBeNull();
    expect(run.finishedAt).not.toBeNull();
    expect(run.error).toBeNull();
    expect((run.config as RunConfig).steps).toBe(30);
    expect((run.config as RunConfig).posOptions).toEqual({});

    straightMetrics = store.metrics(result.runId);
    expect(steps(straightMetrics)).toEqual(range(30));
    expect(straightMetrics.filter((m) => m.valLoss !== null).map((m) => m.step)).toEqual([9, 19, 29]);
    expect(straightMetrics.map((m) => m.tokens)).toEqual(range(30).map((s) => (s + 1) * 32));
    for (const m of straightMetrics) {
      expect(Number.isFinite(m.trainLoss)).toBe(true);
      expect(m.lr).toBeGreaterThan(0);
    }
    expect(run.finalValLoss).toBe(straightMetrics[29].valLoss);
    expect(run.finalTrainLoss).toBe(straightMetrics[29].trainLoss);
    expect(result.finalValLoss).toBe(run.finalValLoss);
    // It learned something: the last val loss is below the loss of a uniform guess.
    expect(run.finalValLoss!).toBeLessThan(Math.log(run.vocab!.length));

    const checkpoint = store.latestCheckpoint(result.runId)!;
    expect(checkpoint.step).toBe(29);
    const decoded = decodeCheckpoint(checkpoint.data);
    expect(decoded.step).toBe(30);
    expect(decoded.tokens).toBe(30 * 32);

    const samples = store.samples(result.runId);
    // Every 15 steps and at the end, and a first one early, at the first val point (step 9).
    expect(samples.map((s) => s.step)).toEqual([9, 14, 29]);
    for (const s of samples) {
      expect([...s.text]).toHaveLength(10);
      for (const ch of s.text) expect(run.vocab).toContain(ch);
    }
  });

  it('resumes a stopped run to the end with no duplicate or missing metric steps, matching a straight run', async () => {
    let trainer: Trainer | undefined;
    const stopped = await trainNewRun(store, prepareRun({ config: TINY, name: 'stop-and-resume' }), {
      onStart: (_id, t) => {
        trainer = t;
      },
      onStep: (_id, m) => {
        if (m.step === 12) trainer!.stop();
      },
    });
    expect(stopped.status).toBe('stopped');
    expect(stopped.steps).toBe(13);
    const id = stopped.runId;
    expect(store.getRun(id)!.status).toBe('stopped');
    expect(steps(store.metrics(id))).toEqual(range(13));
    expect(store.latestCheckpoint(id)!.step).toBe(12);

    const resumedSteps: number[] = [];
    const resumed = await resumeRun(store, id, { onStep: (_id, m) => void resumedSteps.push(m.step) });
    expect(resumed.status).toBe('completed');
    expect(resumed.steps).toBe(30);
    expect(resumedSteps).toEqual(range(30).slice(13));

    const metrics = store.metrics(id);
    expect(steps(metrics)).toEqual(range(30));
    // Every 10 steps, and step 12, where the run was stopped: Stop evaluates once more and the store keeps that row.
    expect(metrics.filter((m) => m.valLoss !== null).map((m) => m.step)).toEqual([9, 12, 19, 29]);
    // Wall time carries over the checkpoint: it never runs backwards across the resume.
    for (let i = 1; i < metrics.length; i++) expect(metrics[i].wallMs).toBeGreaterThanOrEqual(metrics[i - 1].wallMs);
    const run = store.getRun(id)!;
    expect(run.status).toBe('completed');
    expect(run.lastStep).toBe(29);
    expect(run.finalValLoss).toBe(metrics[29].valLoss);
    // Same seed, same data: the resumed run retraces the straight one exactly.
    expect(straightId).toBeDefined();
    expect(metrics.map((m) => m.trainLoss)).toEqual(straightMetrics.map((m) => m.trainLoss));
    // Same val losses, and one more: the stopped step's own.
    expect(metrics.map((m) => (m.step === 12 ? null : m.valLoss))).toEqual(straightMetrics.map((m) => m.valLoss));
    expect(metrics.map((m) => m.tokens)).toEqual(straightMetrics.map((m) => m.tokens));

    await expect(resumeRun(store, id)).rejects.toThrow(/already completed/);
  });

  it('refuses to resume a run that does not exist or has no checkpoint', async () => {
    await expect(resumeRun(store, 9999)).rejects.toThrow(/does not exist/);
    const bare = store.createRun({ name: 'bare', config: { ...TINY }, dataSource: 'builtin:copy', status: 'interrupted' });
    await expect(resumeRun(store, bare)).rejects.toThrow(/no checkpoint/);
  });
});
