/**
 * Load (issue 9): 20 runs queued at once through the service, with the queue edited while it drains; 200 WebSocket
 * clients connecting and disconnecting while a run streams; a database with 1M metric rows, whose queries must use
 * the primary key or an index (asserted from EXPLAIN QUERY PLAN of the statements the store really ran) and whose
 * timings go to docs/RELIABILITY.md (not asserted). GPT_LAB_SOAK=1 queues 100 runs and churns 2000 connections.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { dispatch } from '../../src/hosts/dispatch';
import { LabService } from '../../src/service/labService';
import { startServer } from '../../src/server/server';
import type { LabEvent, QueueState } from '../../src/shared/api';
import { RunStore, type MetricRow } from '../../src/store';
import { ms, Outcomes, syncDocTable } from './docTable';
import { nextEvent, readDb, statusIs, tiny, until } from './helpers';

const SOAK = process.env.GPT_LAB_SOAK === '1';
const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-load-'));
const outcomes = new Outcomes();
const dbRows = new Outcomes();
let service: LabService;

beforeAll(async () => {
  service = new LabService({ dbPath: join(dir, 'runs.db'), backend: 'wasm', echoHostStderr: false });
  await service.backendInfo();
});

afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

const listenerCount = (s: LabService): number => (s as unknown as { listeners: Set<unknown> }).listeners.size;

describe('load', () => {
  const queued = SOAK ? 100 : 20;
  it(`${queued} runs queued at once train one by one, in order, while the queue is edited`, async () => {
    const events: LabEvent[] = [];
    const off = service.subscribe((e) => events.push(e));
    const started = performance.now();
    const ids = (await Promise.all(Array.from({ length: queued }, (_, i) => service.startRun({ config: tiny(3, { seed: i }), name: `load ${i}` })))).map((r) => r.runId);
    expect(new Set(ids).size).toBe(queued);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    // While it drains: take one off the queue and put it back at the end; delete another before it trains.
    const [moved, deleted] = [ids[9], ids[14]];
    expect(await service.stopRun({ runId: moved })).toEqual({ runId: moved, status: 'stopped' });
    await service.deleteRun({ runId: deleted });
    const afterDelete = events.length;
    expect(await service.resumeRun({ runId: moved })).toEqual({ runId: moved, status: 'queued' });
    const order = [...ids.filter((id) => id !== moved && id !== deleted), moved];
    await nextEvent(service, statusIs(moved, 'completed'), 180_000);
    const seconds = (performance.now() - started) / 1000;
    off();

    // Trained in queue order, one at a time: each starts after the one before it completed.
    const running = events.flatMap((e) => (e.channel === 'run:status' && e.payload.status === 'running' ? [e.payload.runId] : []));
    expect(running).toEqual(order);
    for (let i = 1; i < order.length; i++) {
      const done = events.findIndex(statusIs(order[i - 1], 'completed'));
      expect(events.findIndex(statusIs(order[i], 'running')), `run ${order[i]}`).toBeGreaterThan(done);
    }
    // Every queue event is consistent: the running run is not also waiting, no run waits twice, waiting is FIFO.
    const queues = events.map((e, index) => ({ e, index })).filter(({ e }) => e.channel === 'queue').map(({ e, index }) => ({ q: e.payload as QueueState, index }));
    expect(queues.length).toBeGreaterThan(queued);
    for (const { q, index } of queues) {
      expect(new Set(q.queued).size).toBe(q.queued.length);
      if (q.running !== null) expect(q.queued).not.toContain(q.running);
      if (index >= afterDelete) expect([q.running, ...q.queued]).not.toContain(deleted);
    }
    expect(queues.at(-1)!.q).toEqual({ running: null, queued: [] });
    expect(await service.queueState()).toEqual({ running: null, queued: [] });
    const runs = await service.listRuns();
    expect(runs.map((r) => r.id).sort((a, b) => a - b)).toEqual([...order].sort((a, b) => a - b));
    for (const run of runs) {
      expect(run.status, `run ${run.id}`).toBe('completed');
      expect(run.lastStep).toBe(2);
      expect(await service.metrics({ runId: run.id })).toHaveLength(3);
    }
    outcomes.add(
      'queue',
      'many tiny runs queued at once through the service; while they drain, one is stopped and re-queued and another deleted',
      `${queued} runs: all trained one at a time in queue order (the re-queued one last), the deleted one never; every queue event consistent (no run both running and waiting, none twice); all completed with 3 metric rows; ${seconds.toFixed(1)} s in all`,
    );
  });

  const churn = SOAK ? 2000 : 200;
  it(`${churn} WebSocket clients connecting and disconnecting while a run streams leave no socket or listener behind`, async () => {
    const baseline = listenerCount(service);
    const server = await startServer({ service });
    expect(listenerCount(service)).toBe(baseline + 1);
    const { runId } = await service.startRun({ config: tiny(1_000_000), name: 'streaming during churn' });
    await nextEvent(service, (e) => e.channel === 'run:metrics' && e.payload.runId === runId);
    const url = `ws://127.0.0.1:${server.port}/events?token=${server.token}`;
    let messages = 0;
    let peak = 0;
    const started = performance.now();
    const one = (i: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const socket = new WebSocket(url);
        socket.on('error', reject);
        socket.on('open', () => {
          peak = Math.max(peak, server.clientCount());
          // A third leave at once, a third after their first event, a third drop the TCP connection without a close.
          if (i % 3 === 0) socket.close();
        });
        socket.on('message', () => {
          messages++;
          if (i % 3 === 1) socket.close();
          if (i % 3 === 2) socket.terminate();
        });
        socket.on('close', () => resolve());
      });
    for (let i = 0; i < churn; i += 20) await Promise.all(Array.from({ length: Math.min(20, churn - i) }, (_, j) => one(i + j)));
    const seconds = (performance.now() - started) / 1000;
    await until(() => server.clientCount() === 0, 'the server to count no clients', 10_000);
    expect(listenerCount(service)).toBe(baseline + 1);
    expect(messages).toBeGreaterThan(0);

    // It still serves: a new client gets events.
    const late = new WebSocket(url);
    await new Promise<void>((resolve) => late.once('message', () => resolve()));
    late.close();
    await service.stopRun({ runId });
    await until(() => server.clientCount() === 0, 'the last client to go', 5_000);
    await server.close();
    expect(listenerCount(service)).toBe(baseline);
    outcomes.add(
      'WebSocket',
      'clients connecting and disconnecting (close at once, close after an event, drop the connection) while a run streams',
      `${churn} clients, 20 at a time, in ${seconds.toFixed(1)} s (peak ${peak} open); the server's client count went back to 0, the service still had exactly one listener for the server (none after it closed), and a new client still got events`,
    );
  });

  it('a database with 1M metric rows stays responsive: every query uses the primary key or an index', async () => {
    const runsCount = 20;
    const perRun = 50_000;
    const batch = 5_000;
    const path = join(dir, 'million.db');
    const store = RunStore.open(path);
    const ids: number[] = [];
    for (let r = 0; r < runsCount; r++) ids.push(store.createRun({ name: `big ${r}`, config: { steps: perRun }, dataSource: 'builtin:copy', status: 'completed', sweepKey: r < 4 ? 'compare-me' : undefined }));
    const insertStart = performance.now();
    for (const runId of ids) {
      for (let from = 0; from < perRun; from += batch) {
        const rows: MetricRow[] = Array.from({ length: batch }, (_, i) => {
          const step = from + i;
          return { step, tokens: step * 128, wallMs: step * 3, trainLoss: 4 / Math.sqrt(step + 1), valLoss: step % 100 === 99 ? 4.1 / Math.sqrt(step + 1) : null, lr: 1e-3, gradNorm: 1 };
        });
        store.appendMetrics(runId, rows);
      }
    }
    const insertMs = performance.now() - insertStart;
    const total = readDb(path, (d) => (d.prepare('SELECT count(*) AS n FROM metrics').get() as { n: number }).n);
    expect(total).toBe(runsCount * perRun);

    const timed = <T>(work: () => T): [T, number] => {
      const t0 = performance.now();
      const value = work();
      return [value, performance.now() - t0];
    };
    const target = ids[7];
    const [runs, listMs] = timed(() => store.listRuns());
    const [all, allMs] = timed(() => store.metrics(target));
    const [tail, tailMs] = timed(() => store.metrics(target, perRun - 101));
    const [compared, compareMs] = timed(() => store.findRunsBySweepKey('compare-me').map((run) => store.metrics(run.id)));
    expect(runs).toHaveLength(runsCount);
    expect(all).toHaveLength(perRun);
    expect(tail).toHaveLength(100);
    expect(compared.map((rows) => rows.length)).toEqual([perRun, perRun, perRun, perRun]);
    // Through the service and its validation, as the UI calls it.
    const lab = new LabService({ dbPath: path, echoHostStderr: false });
    const [listed, serviceListMs] = await (async () => {
      const t0 = performance.now();
      const result = await dispatch(lab, 'listRuns', undefined);
      return [result, performance.now() - t0] as const;
    })();
    expect(listed.ok && (listed.value as unknown[]).length).toBe(runsCount);
    const [, serviceTailMs] = await (async () => {
      const t0 = performance.now();
      const result = await dispatch(lab, 'metrics', { runId: target, sinceStep: perRun - 101 });
      return [result, performance.now() - t0] as const;
    })();
    await lab.close();
    const [, deleteMs] = timed(() => store.deleteRun(ids[19]));
    expect(store.getRun(ids[19])).toBeUndefined();

    // The plans of the statements the store actually prepared, by their SQL text.
    const statements = [...(store as unknown as { statements: Map<string, unknown> }).statements.keys()];
    const sqlOf = (pattern: RegExp): string => {
      const found = statements.find((sql) => pattern.test(sql));
      expect(found, `the store ran no statement matching ${pattern}`).toBeDefined();
      return found!;
    };
    const plain = new Database(path, { readonly: true });
    const plan = (sql: string, ...params: unknown[]): string =>
      (plain.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((row) => row.detail).join('; ');
    const listPlan = plan(sqlOf(/^SELECT .* FROM runs ORDER BY/));
    const metricsPlan = plan(sqlOf(/FROM metrics WHERE run_id = \? AND step > \?/), target, -1);
    const sweepPlan = plan(sqlOf(/FROM runs WHERE sweep_key = \?/), 'compare-me');
    // Deleting a run cascades to its rows through the foreign keys; each child table is searched by run_id.
    const cascadePlans = ['metrics', 'samples', 'checkpoints', 'evals'].map((table) => `${table}: ${plan(`DELETE FROM ${table} WHERE run_id = ?`, target)}`);
    plain.close();
    store.close();

    expect(metricsPlan).toMatch(/^SEARCH metrics USING PRIMARY KEY \(run_id=\? AND step>\?\)$/);
    expect(sweepPlan).toMatch(/SEARCH runs USING INDEX runs_sweep_key \(sweep_key=\?\)/);
    expect(listPlan).toMatch(/SCAN runs USING INDEX runs_created_at/);
    // (The sweep lookup sorts its few runs, at most 64, in a temporary b-tree; nothing else sorts.)
    for (const p of [listPlan, metricsPlan]) expect(p).not.toMatch(/TEMP B-TREE/);
    for (const p of cascadePlans) expect(p).toMatch(/: SEARCH \w+ USING (PRIMARY KEY|INDEX \w+|COVERING INDEX \w+) \(run_id=\?\)/);
    const size = `${(statSync(path).size / 1024 / 1024).toFixed(0)} MB`;

    dbRows.add('insert 1M metric rows (20 runs × 50 000 steps, 200 transactions of 5 000)', 'INSERT OR REPLACE … (primary key run_id, step)', `${ms(insertMs)} (${Math.round(total / (insertMs / 1000)).toLocaleString('en-US')} rows/s); file ${size}`);
    dbRows.add('listRuns (store)', listPlan, ms(listMs));
    dbRows.add('listRuns (through dispatch and LabService)', listPlan, ms(serviceListMs));
    dbRows.add('metrics(runId): a whole curve, 50 000 rows', metricsPlan, ms(allMs));
    dbRows.add('metrics(runId, sinceStep): the live poll, last 100 rows', metricsPlan, `${ms(tailMs)} (${ms(serviceTailMs)} through dispatch)`);
    dbRows.add('compare: the runs of a sweep, then each one\'s curve (4 × 50 000 rows)', `${sweepPlan}; then per run: ${metricsPlan}`, ms(compareMs));
    dbRows.add('deleteRun of a run with 50 000 rows (cascade)', cascadePlans.join('; '), ms(deleteMs));
    outcomes.add('database', '1M metric rows across 20 runs', `listRuns, a curve, the live poll, a sweep comparison and a delete all go through the primary key or an index (see the table below); the live poll took ${ms(tailMs)}`);
  });

  it('docs/RELIABILITY.md lists the load cases and the database timings', () => {
    syncDocTable('load-table', ['area', 'what was tried', 'what happened'], outcomes.rows);
    syncDocTable('db-load-table', ['query', 'plan (EXPLAIN QUERY PLAN)', 'time'], dbRows.rows);
  });
});
