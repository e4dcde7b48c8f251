/**
 * A worker's training of one cell, without Redis: it refuses what it must not trust with a message naming the problem,
 * trains exactly what a local run trains (same losses on wasm), resumes from a carried checkpoint without repeating
 * a step, and hands a stopped cell back after reporting its checkpoint.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackend } from '../../src/engine/backend';
import { trainNewRun } from '../../src/lab/runner';
import { RunStore, type MetricRow } from '../../src/store';
import type { CellReport, CellResult } from '../../src/worker/protocol';
import { JobRejected, parseCellJob, trainCell } from '../../src/worker/trainCell';
import { useWasmBackend } from '../helpers/backend';
import { jobOf, tinyCell } from '../helpers/cells';

useWasmBackend();

let dir: string;
let store: RunStore;
let localMetrics: MetricRow[];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpt-lab-cell-'));
  store = RunStore.open(join(dir, 'runs.db'));
  const { runId } = await trainNewRun(store, tinyCell().prepared);
  localMetrics = store.metrics(runId);
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function train(raw: unknown, stopAfterStep?: number): { reports: CellReport[]; done: Promise<CellResult | 'handed back'> } {
  const reports: CellReport[] = [];
  const training = trainCell(raw, {
    worker: 'test-worker',
    backend: activeBackend()!,
    report: async (report) => {
      reports.push(report);
      if (stopAfterStep !== undefined && report.type === 'metrics' && report.rows.some((r) => r.step >= stopAfterStep)) training.stop();
    },
  });
  return { reports, done: training.done };
}

const stepsOf = (rows: { step: number }[]): number[] => rows.map((r) => r.step);
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('parseCellJob refuses', () => {
  const good = jobOf(tinyCell().prepared);
  const cases: [string, unknown, RegExp][] = [
    ['a non-object', 'rm -rf /', /malformed job: payload: .*object/],
    ['a missing config', { ...good, config: undefined }, /malformed job: config/],
    ['an extra field (no code rides along)', { ...good, onLoad: 'process.exit()' }, /malformed job: .*onLoad/],
    ['another GPT Lab version', { ...good, version: '0.0.1' }, /job is for GPT Lab 0\.0\.1 but this worker runs \d+\.\d+\.\d+/],
    ['an unknown scheme', { ...good, config: { ...good.config, pos: 'wormhole' } }, /invalid job: pos: .*wormhole/],
    ['a file source without its text', { ...good, data: { ...good.data, source: '/tmp/corpus.txt' } }, /carries no text for \/tmp\/corpus\.txt/],
    ['data that differs from the lab\'s', { ...good, data: { ...good.data, hash: '0000' } }, /differs from the lab's .*expected 0000/],
  ];
  for (const [what, raw, message] of cases)
    it(what, () => {
      expect(() => parseCellJob(raw)).toThrow(JobRejected);
      expect(() => parseCellJob(raw)).toThrow(message);
    });
});

describe('trainCell', () => {
  it('reports in order and returns what a local run of the same cell stores', async () => {
    const { reports, done } = train(jobOf(tinyCell().prepared));
    const result = (await done) as CellResult;
    expect(reports[0]).toMatchObject({ type: 'started', worker: 'test-worker', resumedFrom: null });
    const reported = reports.flatMap((r) => (r.type === 'metrics' ? r.rows : []));
    expect(stepsOf(reported)).toEqual(range(0, 30));
    expect(reports.flatMap((r) => (r.type === 'checkpoint' ? [r.checkpoint.step] : []))).toEqual([9, 19, 29]);
    expect(result.status).toBe('completed');
    expect(result.checkpoint?.step).toBe(29);
    expect(result.metrics.map((m) => [m.step, m.trainLoss, m.valLoss])).toEqual(localMetrics.map((m) => [m.step, m.trainLoss, m.valLoss]));
  });

  it('resumes from the carried checkpoint: steps after it only, the same losses as without the break', async () => {
    const first = train(jobOf(tinyCell().prepared));
    await first.done;
    const at9 = first.reports.find((r) => r.type === 'checkpoint' && r.checkpoint.step === 9);
    if (at9?.type !== 'checkpoint') throw new Error('no checkpoint at step 9');
    const { reports, done } = train({ ...jobOf(tinyCell().prepared), resume: at9.checkpoint });
    const result = (await done) as CellResult;
    expect(reports[0]).toMatchObject({ type: 'started', resumedFrom: 9 });
    expect(stepsOf(result.metrics)).toEqual(range(10, 30));
    expect(result.metrics.map((m) => m.trainLoss)).toEqual(localMetrics.slice(10).map((m) => m.trainLoss));
  });

  it("trains a text file's cell from the text inside the job, with the lab's vocabulary and losses", async () => {
    const file = join(dir, 'corpus.txt');
    writeFileSync(file, 'the dog chased another dog. the cat saw the dog. '.repeat(40));
    const prepared = tinyCell({ data: file, steps: 5, evalEvery: 5 }).prepared;
    const job = jobOf(prepared);
    expect(job.data).toMatchObject({ source: file, hash: prepared.corpus.hash, text: prepared.corpus.text });
    rmSync(file);
    const result = (await train(job).done) as CellResult;
    const { runId } = await trainNewRun(store, { ...prepared, name: 'file cell' });
    expect(result.metrics.map((m) => m.trainLoss)).toEqual(store.metrics(runId).map((m) => m.trainLoss));
  });

  it('hands a stopped cell back after reporting the checkpoint of its last step', async () => {
    const { reports, done } = train(jobOf(tinyCell().prepared), 12);
    expect(await done).toBe('handed back');
    const last = reports.at(-1);
    expect(last?.type).toBe('checkpoint');
    const lastStep = Math.max(...reports.flatMap((r) => (r.type === 'metrics' ? stepsOf(r.rows) : [])));
    expect(last?.type === 'checkpoint' && last.checkpoint.step).toBe(lastStep);
    expect(lastStep).toBeLessThan(29);
  });
});
