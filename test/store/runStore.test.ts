import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunStore, StoreError, type MetricRow } from '../../src/store';
import { useTempDir } from './helpers';

function metric(step: number, trainLoss: number | null = 1 / (step + 1)): MetricRow {
  return { step, tokens: step * 64, wallMs: step * 10, trainLoss, valLoss: null, lr: 3e-4, gradNorm: null };
}

function expectStoreError(fn: () => unknown, code: string, message: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(StoreError);
  expect((caught as StoreError).code).toBe(code);
  expect((caught as StoreError).message).toMatch(message);
}

const newRun = { name: 'baseline', config: { nLayer: 2, nEmbd: 32 }, dataSource: 'tiny-shakespeare' };

describe('RunStore runs', () => {
  let store: RunStore;
  beforeEach(() => {
    store = RunStore.open(':memory:');
  });
  afterEach(() => store.close());

  it('creates a run with defaults and reads it back', () => {
    const before = Date.now();
    const id = store.createRun(newRun);
    const run = store.getRun(id)!;
    expect(run).toMatchObject({
      id,
      name: 'baseline',
      status: 'queued',
      config: { nLayer: 2, nEmbd: 32 },
      backend: null,
      dataSource: 'tiny-shakespeare',
      dataHash: null,
      vocab: null,
      params: null,
      sweepKey: null,
      startedAt: null,
      finishedAt: null,
      lastStep: 0,
      finalTrainLoss: null,
      finalValLoss: null,
      tokensPerSecond: null,
      error: null,
    });
    expect(run.createdAt).toBeGreaterThanOrEqual(before);
    expect(run.createdAt).toBeLessThanOrEqual(Date.now());
  });

  it('stores every optional field on create', () => {
    const id = store.createRun({
      ...newRun,
      dataHash: 'abc123',
      vocab: ['a', 'b', '\n'],
      params: 12_345,
      backend: { name: 'wasm', threads: 4 },
      sweepKey: 'lr-sweep',
      status: 'running',
    });
    expect(store.getRun(id)).toMatchObject({
      dataHash: 'abc123',
      vocab: ['a', 'b', '\n'],
      params: 12_345,
      backend: { name: 'wasm', threads: 4 },
      sweepKey: 'lr-sweep',
      status: 'running',
    });
  });

  it('returns undefined for a missing run', () => {
    expect(store.getRun(999)).toBeUndefined();
  });

  it('lists runs newest first', () => {
    const ids = [1, 2, 3].map((n) => store.createRun({ ...newRun, name: `run ${n}` }));
    expect(store.listRuns().map((run) => run.id)).toEqual(ids.reverse());
  });

  it('finds runs by sweep key in creation order', () => {
    const a = store.createRun({ ...newRun, sweepKey: 's1' });
    store.createRun({ ...newRun, sweepKey: 's2' });
    const c = store.createRun({ ...newRun, sweepKey: 's1' });
    expect(store.findRunsBySweepKey('s1').map((run) => run.id)).toEqual([a, c]);
    expect(store.findRunsBySweepKey('none')).toEqual([]);
  });

  it('renames a run', () => {
    const id = store.createRun(newRun);
    store.renameRun(id, 'better name');
    expect(store.getRun(id)?.name).toBe('better name');
  });

  it('keeps a run’s tags and notes, empty until set', () => {
    const id = store.createRun(newRun);
    expect(store.getRun(id)).toMatchObject({ tags: [], notes: '' });
    store.annotateRun(id, ['baseline', 'lr sweep'], 'first try\nloss flat after 300');
    expect(store.getRun(id)).toMatchObject({ tags: ['baseline', 'lr sweep'], notes: 'first try\nloss flat after 300' });
    store.annotateRun(id, [], '');
    expect(store.getRun(id)).toMatchObject({ tags: [], notes: '' });
    expectStoreError(() => store.annotateRun(4242, [], ''), 'UNKNOWN_RUN', 'no run with id 4242');
  });

  it('updates only the patched fields, and null clears one', () => {
    const id = store.createRun({ ...newRun, dataHash: 'h1' });
    store.updateRun(id, { status: 'running', startedAt: 1000, backend: { name: 'node' }, error: 'oops' });
    store.updateRun(id, { error: null, finalTrainLoss: 1.25, vocab: ['x'], params: 7, lastStep: 40 });
    expect(store.getRun(id)).toMatchObject({
      status: 'running',
      startedAt: 1000,
      backend: { name: 'node' },
      error: null,
      finalTrainLoss: 1.25,
      vocab: ['x'],
      params: 7,
      lastStep: 40,
      dataHash: 'h1',
      name: 'baseline',
    });
  });

  it('rejects an unknown status or field', () => {
    const id = store.createRun(newRun);
    expectStoreError(() => store.updateRun(id, { status: 'exploded' as never }), 'INVALID_ARGUMENT', /'exploded' is not a run status/);
    expectStoreError(() => store.updateRun(id, { name: 'x' } as never), 'INVALID_ARGUMENT', /'name' is not an updatable run field/);
    expect(store.getRun(id)?.status).toBe('queued');
  });

  it('names the id when a run does not exist', () => {
    expectStoreError(() => store.updateRun(4242, { status: 'failed' }), 'UNKNOWN_RUN', 'no run with id 4242');
    expectStoreError(() => store.updateRun(4242, {}), 'UNKNOWN_RUN', 'no run with id 4242');
    expectStoreError(() => store.renameRun(4242, 'x'), 'UNKNOWN_RUN', 'no run with id 4242');
    expectStoreError(() => store.deleteRun(4242), 'UNKNOWN_RUN', 'no run with id 4242');
    expectStoreError(() => store.appendMetrics(4242, [metric(1)]), 'UNKNOWN_RUN', 'no run with id 4242');
    expectStoreError(() => store.addSample(4242, 1, 'text'), 'UNKNOWN_RUN', 'no run with id 4242');
    expectStoreError(() => store.saveCheckpoint(4242, 1, new Uint8Array(1)), 'UNKNOWN_RUN', 'no run with id 4242');
    expectStoreError(() => store.addEval(4242, 'loss', {}), 'UNKNOWN_RUN', 'no run with id 4242');
  });

  it('rejects a field that exists but is not updatable, and ignores undefined ones', () => {
    const id = store.createRun(newRun);
    expectStoreError(() => store.updateRun(id, { tags: ['x'] } as never), 'INVALID_ARGUMENT', /'tags' is not an updatable run field/);
    expectStoreError(() => store.updateRun(id, { createdAt: 1 } as never), 'INVALID_ARGUMENT', /'createdAt' is not an updatable run field/);
    store.updateRun(id, { name: undefined, error: 'kept' } as never);
    expect(store.getRun(id)).toMatchObject({ name: 'baseline', error: 'kept', tags: [] });
  });

  it('sets the owner and the creation time on create, and an explicit undefined status still means queued', () => {
    const id = store.createRun({ ...newRun, status: undefined, owner: { pid: 4321, tag: 'host@1' } });
    expect(store.getRun(id)).toMatchObject({ status: 'queued', ownerPid: 4321, ownerTag: 'host@1' });
  });

  it('hands out its defaults as copies: changing one record’s tags leaves the next read alone', () => {
    const id = store.createRun(newRun);
    store.getRun(id)!.tags.push('mutated');
    expect(store.getRun(id)!.tags).toEqual([]);
  });

  it('lists a row it cannot read back, marked damaged with what is wrong, each field falling back on its own', () => {
    const good = store.createRun({ ...newRun, name: 'good', vocab: ['a'] });
    const bad = store.createRun({ ...newRun, name: 'bad', vocab: ['a'] });
    store.annotateRun(bad, ['t'], '');
    const raw = (store as unknown as { db: Database.Database }).db;
    raw.prepare("UPDATE runs SET status = 'exploded', config_json = '[1, 2]', vocab_json = '{\"a\": 1}', tags_json = '[\"t\",' WHERE id = ?").run(bad);
    const runs = store.listRuns();
    expect(runs.map((r) => r.name)).toEqual(['bad', 'good']);
    expect(runs[0]).toMatchObject({ status: 'failed', config: {}, vocab: null, tags: [], backend: null });
    expect(runs[0]!.damaged).toMatch(/^status "exploded" is not a run status; config_json \[1,2\] is not an object; vocab_json \{"a":1\} is not a list of tokens; tags_json is not valid JSON \(/);
    expect(runs[1]).toMatchObject({ status: 'queued', config: newRun.config, vocab: ['a'], damaged: null });
  });

  it('marks running and paused runs interrupted, and only those', () => {
    const statuses = ['queued', 'running', 'paused', 'completed', 'failed', 'running'] as const;
    const ids = statuses.map((status) => store.createRun({ ...newRun, status }));
    expect(store.markInterrupted()).toBe(3);
    expect(ids.map((id) => store.getRun(id)?.status)).toEqual([
      'queued', 'interrupted', 'interrupted', 'completed', 'failed', 'interrupted',
    ]);
    expect(store.markInterrupted()).toBe(0);
  });

  it('markInterrupted leaves a run alone while its owning process is alive', () => {
    const alive = store.createRun({ ...newRun, status: 'running' });
    const dead = store.createRun({ ...newRun, status: 'running' });
    store.updateRun(alive, { ownerPid: process.pid });
    store.updateRun(dead, { ownerPid: 2 ** 22 + 12345 });
    expect(store.markInterrupted()).toBe(1);
    expect([store.getRun(alive)?.status, store.getRun(dead)?.status]).toEqual(['running', 'interrupted']);
    expect(store.markInterrupted((pid) => pid !== process.pid)).toBe(1);
    expect(store.getRun(alive)?.status).toBe('interrupted');
  });
});

describe('RunStore metrics, samples, evals', () => {
  let store: RunStore;
  let runId: number;
  beforeEach(() => {
    store = RunStore.open(':memory:');
    runId = store.createRun(newRun);
  });
  afterEach(() => store.close());

  it('keeps one row per step, the later write winning', () => {
    store.appendMetrics(runId, [metric(1), metric(2), metric(2, 0.5)]);
    // A resumed run repeats steps since its checkpoint.
    store.appendMetrics(runId, [metric(2, 0.25), metric(3)]);
    const rows = store.metrics(runId);
    expect(rows.map((row) => row.step)).toEqual([1, 2, 3]);
    expect(rows[1]).toEqual({ ...metric(2, 0.25) });
  });

  it('moves last_step forward to the highest step seen', () => {
    store.appendMetrics(runId, [metric(5), metric(3)]);
    expect(store.getRun(runId)?.lastStep).toBe(5);
    store.appendMetrics(runId, [metric(4)]);
    expect(store.getRun(runId)?.lastStep).toBe(5);
    store.appendMetrics(runId, [metric(9)]);
    expect(store.getRun(runId)?.lastStep).toBe(9);
  });

  it('returns only steps after sinceStep, in step order', () => {
    store.appendMetrics(runId, [metric(30), metric(10), metric(20), metric(0)]);
    expect(store.metrics(runId).map((row) => row.step)).toEqual([0, 10, 20, 30]);
    expect(store.metrics(runId, 10).map((row) => row.step)).toEqual([20, 30]);
    expect(store.metrics(runId, 30)).toEqual([]);
  });

  it('writes a batch all or nothing', () => {
    const bad = { ...metric(3), tokens: null as unknown as number };
    expect(() => store.appendMetrics(runId, [metric(1), metric(2), bad])).toThrow(/NOT NULL/);
    expect(store.metrics(runId)).toEqual([]);
    expect(store.getRun(runId)?.lastStep).toBe(0);
  });

  it('keeps metrics of different runs apart', () => {
    const other = store.createRun(newRun);
    store.appendMetrics(runId, [metric(1)]);
    store.appendMetrics(other, [metric(1), metric(2)]);
    expect(store.metrics(runId)).toHaveLength(1);
    expect(store.metrics(other)).toHaveLength(2);
  });

  it('stores samples in step order', () => {
    store.addSample(runId, 200, 'later text', 'ROMEO:');
    store.addSample(runId, 100, 'early text');
    const rows = store.samples(runId);
    expect(rows.map(({ step, prompt, text }) => ({ step, prompt, text }))).toEqual([
      { step: 100, prompt: null, text: 'early text' },
      { step: 200, prompt: 'ROMEO:', text: 'later text' },
    ]);
    expect(typeof rows[0]!.createdAt).toBe('number');
  });

  it('stores evals and filters them by kind', () => {
    const a = store.addEval(runId, 'extrapolation', { lengths: [64, 128], losses: [1.1, 1.9] });
    const b = store.addEval(runId, 'attention', { layer: 0 });
    const c = store.addEval(runId, 'extrapolation', { lengths: [256], losses: [2.5] });
    expect(store.evals(runId).map((row) => row.id)).toEqual([a, b, c]);
    const extrapolation = store.evals(runId, 'extrapolation');
    expect(extrapolation.map((row) => row.payload)).toEqual([
      { lengths: [64, 128], losses: [1.1, 1.9] },
      { lengths: [256], losses: [2.5] },
    ]);
    expect(extrapolation[0]).toMatchObject({ id: a, kind: 'extrapolation' });
    expect(store.evals(runId, 'missing')).toEqual([]);
  });
});

describe('RunStore on disk', () => {
  const tempDir = useTempDir();
  let path: string;
  let store: RunStore;
  beforeEach(() => {
    path = join(tempDir(), 'runs.db');
    store = RunStore.open(path);
  });
  afterEach(() => store.close());

  // A second connection sees what is committed, the way another process would.
  function count(table: string, runId: number): number {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare(`SELECT count(*) FROM ${table} WHERE run_id = ?`).pluck().get(runId) as number;
    } finally {
      db.close();
    }
  }

  it('appends 10k rows in one call quickly and all of them land', () => {
    const runId = store.createRun(newRun);
    const rows = Array.from({ length: 10_000 }, (_, step) => metric(step));
    const start = performance.now();
    store.appendMetrics(runId, rows);
    expect(performance.now() - start).toBeLessThan(1000);
    expect(count('metrics', runId)).toBe(10_000);
    expect(store.getRun(runId)?.lastStep).toBe(9_999);
  });

  it('keeps only the newest `keep` checkpoints', () => {
    const runId = store.createRun(newRun);
    for (const step of [100, 200, 300]) store.saveCheckpoint(runId, step, new Uint8Array([step / 100, 7]));
    expect(count('checkpoints', runId)).toBe(2);
    const latest = store.latestCheckpoint(runId)!;
    expect(latest.step).toBe(300);
    expect([...latest.data]).toEqual([3, 7]);

    store.saveCheckpoint(runId, 400, new Uint8Array([4]), 3);
    expect(count('checkpoints', runId)).toBe(3);
    store.saveCheckpoint(runId, 500, new Uint8Array([5]), 1);
    expect(count('checkpoints', runId)).toBe(1);
    expect(store.latestCheckpoint(runId)?.step).toBe(500);
  });

  it('round-trips checkpoint bytes, including a view into a larger buffer', () => {
    const runId = store.createRun(newRun);
    const weights = new Float32Array([0.5, -1.25, 3]);
    store.saveCheckpoint(runId, 1, new Uint8Array(weights.buffer, 4, 8));
    const data = store.latestCheckpoint(runId)!.data;
    expect([...new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))]).toEqual([-1.25, 3]);
  });

  it('rejects a keep below 1', () => {
    const runId = store.createRun(newRun);
    expectStoreError(() => store.saveCheckpoint(runId, 1, new Uint8Array(1), 0), 'INVALID_ARGUMENT', /keep must be a positive integer, got 0/);
    expect(store.latestCheckpoint(runId)).toBeUndefined();
  });

  it('deletes a run with everything it owns, leaving other runs alone', () => {
    const doomed = store.createRun(newRun);
    const kept = store.createRun(newRun);
    for (const runId of [doomed, kept]) {
      store.appendMetrics(runId, [metric(1), metric(2)]);
      store.addSample(runId, 1, 'hello');
      store.saveCheckpoint(runId, 2, new Uint8Array([1, 2, 3]));
      store.addEval(runId, 'loss', { value: 1 });
    }

    store.deleteRun(doomed);
    expect(store.getRun(doomed)).toBeUndefined();
    for (const table of ['metrics', 'samples', 'checkpoints', 'evals']) {
      expect(count(table, doomed), table).toBe(0);
      expect(count(table, kept), table).toBeGreaterThan(0);
    }
    expect(store.latestCheckpoint(doomed)).toBeUndefined();
  });
});
