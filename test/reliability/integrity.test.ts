/**
 * Faults of issue 22, round two: commands that destroyed or silently lost data, runs trained twice or deleted while a
 * live process trained them, the owner-less window at start, an error path that hid its cause, corruption resumed
 * or trained into, duplicated and stale rows after a resume, one damaged row breaking listings, and Ctrl-C ignored
 * by sweeps and recipes. Rows: docs/RELIABILITY.md's integrity-table.
 */
import Database from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/engine/backend';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/engine/train/checkpoint';
import { resumeRun, trainNewRun } from '../../src/lab/runner';
import { prepareRun } from '../../src/lab/prepare';
import { LabService } from '../../src/service/labService';
import { RunStore, currentOwner } from '../../src/store';
import { processStartTime } from '../../src/store/owner';
import { Outcomes, syncDocTable } from './docTable';
import { readDb, tiny, until } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-integrity-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
let dbCount = 0;
const freshDb = (): string => join(dir, `runs-${dbCount++}.db`);
const outcomes = new Outcomes();

const NANO = ['--data', 'builtin:copy', '--layers', '1', '--heads', '2', '--embd', '16', '--block', '16', '--batch', '8', '--sample-every', '0'];
const cli = (args: string[]) => spawnSync(process.execPath, ['bin/gpt-lab.mjs', ...args], { encoding: 'utf8', timeout: 120_000 });
function background(args: string[]): { child: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, ['bin/gpt-lab.mjs', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  return { child, exited, stderr: () => stderr };
}
const runRow = (db: string, id = 1) =>
  readDb(db, (d) => d.prepare('SELECT status, owner_pid AS ownerPid, last_step AS lastStep, error FROM runs WHERE id = ?').get(id) as { status: string; ownerPid: number | null; lastStep: number; error: string | null } | undefined);
const tryRow = (db: string, id = 1) => {
  try {
    return runRow(db, id);
  } catch {
    return undefined;
  }
};

/** A database with one completed run and its metrics, made without training. */
function seededDb(): string {
  const path = freshDb();
  const store = RunStore.open(path);
  const id = store.createRun({ name: 'precious', config: tiny(3), dataSource: 'builtin:copy', status: 'completed' });
  store.appendMetrics(id, [0, 1, 2].map((step) => ({ step, tokens: step * 128, wallMs: step, trainLoss: 2 - step / 10, valLoss: null, lr: 1e-3, gradNorm: 1 })));
  store.close();
  return path;
}

describe('faults that used to lose data or train a run twice', () => {
  it('export --out <the database>, --db "" and --db :memory: are refused (exit 2) and destroy nothing', () => {
    const db = seededDb();
    const before = readFileSync(db);
    const exported = cli(['export', '1', '--out', db, '--db', db]);
    expect(exported.status, exported.stderr).toBe(2);
    expect(exported.stderr).toMatch(/--out: .* is the database .*would destroy the runs/);
    expect(readFileSync(db).equals(before)).toBe(true);
    const listed = cli(['runs', '--json', '--db', db]);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ runId: 1, name: 'precious', status: 'completed' }]);
    const results = ['', ':memory:'].map((path) => cli(['train', ...NANO, '--steps', '2', '--db', path]));
    for (const r of results) {
      expect(r.status, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/--db: expected the path of a database file/);
    }
    outcomes.add('CLI (item 2)', 'export 1 --out <the database>; train --db ""; train --db :memory:', 'each exit 2 with "--out: … is the database …; writing the export there would destroy the runs" / "--db: expected the path of a database file, got "" (a temporary database would lose every run on exit)"; the database is byte-identical and still lists its run, nothing trained. Before: the export overwrote the database and the two trainings reported "run 1 completed" into a database that vanished');
  });

  it('a run a live CLI trains cannot be resumed or deleted elsewhere; once its owner is dead (or its pid reused) it can', async () => {
    const db = freshDb();
    const trainer = background(['train', ...NANO, '--steps', '100000', '--checkpoint-every', '20', '--db', db]);
    const checkpoints = () => {
      try {
        return readDb(db, (d) => (d.prepare('SELECT count(*) AS n FROM checkpoints').get() as { n: number }).n);
      } catch {
        return 0;
      }
    };
    await until(() => checkpoints() > 0, 'the first checkpoint', 120_000, 100).catch(async (error) => {
      throw new Error(`${(error as Error).message}: ${trainer.stderr()}`);
    });
    const resumed = cli(['resume', '1', '--db', db]);
    expect(resumed.status, resumed.stderr).toBe(2);
    expect(resumed.stderr).toContain(`run 1 is running in process ${trainer.child.pid}; stop it there first`);
    const service = new LabService({ dbPath: db, echoHostStderr: false });
    try {
      expect((await service.listRuns())[0].status).toBe('running');
      await expect(service.deleteRun({ runId: 1 })).rejects.toThrow(`run 1 is running in process ${trainer.child.pid} (a CLI or another GPT Lab); stop it there before deleting it`);
    } finally {
      await service.close();
    }
    trainer.child.kill('SIGKILL');
    await trainer.exited;
    // The dead owner's run is now claimable: listed as interrupted, then claimed by a new trainer.
    const store = RunStore.open(db);
    try {
      expect(store.markInterrupted()).toBe(1);
      store.claimRun(1, currentOwner());
      expect(store.getRun(1)).toMatchObject({ status: 'running', ownerPid: process.pid });
      // A pid that is alive again but belongs to a process started later is not the owner.
      const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
      children.push(stranger);
      store.updateRun(1, { ownerPid: stranger.pid!, ownerTag: `${hostname()}/1` });
      expect(processStartTime(stranger.pid!)).not.toBe('1');
      expect(store.markInterrupted()).toBe(1);
    } finally {
      store.close();
    }
    outcomes.add('CLI + web (item 3)', 'gpt-lab resume and the web deleteRun on a run a live CLI trains; then kill -9 of that CLI; then a live pid with another start time', `resume: exit 2 "run 1 is running in process <pid>; stop it there first"; deleteRun: conflict "… (a CLI or another GPT Lab); stop it there before deleting it"; the web lab left the run running. After the kill the run was interrupted and could be claimed; a reused pid (start time differs) does not count as the owner. Before: a second trainer started on the same run, and the web deleted it under the CLI`);
  }, 240_000);

  it('a run is never running without an owner, even while its helper threads start', async () => {
    const db = freshDb();
    const trainer = background(['train', ...NANO, '--threads', '2', '--steps', '30', '--db', db]);
    // The first sight of the row: with --threads 2 the helpers are still loading their backends.
    // `train` goes through the service: the row is queued (no owner, and markInterrupted leaves queued rows alone)
    // until the run starts, and the write that makes it running carries the trainer's pid.
    const first = await until(() => tryRow(db), 'the run row', 120_000, 5);
    const store = RunStore.open(db);
    const marked = store.markInterrupted();
    store.close();
    expect(['queued', 'running']).toContain(first.status);
    if (first.status === 'running') expect(first.ownerPid).toBe(trainer.child.pid);
    expect(marked).toBe(0);
    const running = await until(() => { const row = tryRow(db); return row && row.status !== 'queued' ? row : undefined; }, 'the run to start', 120_000, 5);
    expect(running).toMatchObject({ status: 'running', ownerPid: trainer.child.pid });
    expect(await trainer.exited, trainer.stderr()).toBe(0);
    expect(runRow(db)).toMatchObject({ status: 'completed', lastStep: 29 });
    outcomes.add('CLI (item 4)', 'gpt-lab runs (markInterrupted) at the first moment the run row of `train --threads 2` exists', 'the row is first queued with no owner (markInterrupted leaves queued rows alone), and the write that makes it running carries the trainer\'s pid; nothing was marked interrupted and the run completed its 30 steps. Before: owner_pid stayed NULL until the helper threads started (~3 s with --threads 4) and a concurrent `runs` marked the training run interrupted');
  }, 180_000);

  it('the error path marks the run failed with its cause even when saving its metrics fails again', async () => {
    await initBackend('wasm');
    const store = RunStore.open(freshDb());
    try {
      let writes = 0;
      const append = store.appendMetrics.bind(store);
      store.appendMetrics = (runId, rows) => {
        if (++writes > 1) throw new Database.SqliteError('database or disk is full', 'SQLITE_FULL');
        append(runId, rows);
      };
      const prepared = prepareRun({ config: tiny(40, { data: 'builtin:copy', evalEvery: 5 }) });
      await expect(trainNewRun(store, prepared)).rejects.toThrow('database or disk is full');
      const run = store.getRun(1)!;
      expect(run.status).toBe('failed');
      expect(run.error).toBe('database or disk is full (its last metrics could not be saved: database or disk is full)');
      outcomes.add('runner (item 5)', 'the disk fills mid-run: every metrics write after the first throws SQLITE_FULL, so the flush on the error path throws too', `run → failed with "${run.error}" (finishedAt set); the error reaches the caller (CLI exit 1). Before: the second flush threw out of the catch, the run stayed "running" with no error`);
    } finally {
      store.close();
    }
  }, 120_000);

  it('corruption is refused by name: a damaged or NaN checkpoint on resume, a damaged page on open', async () => {
    await initBackend('wasm');
    const db = freshDb();
    const store = RunStore.open(db);
    const prepared = prepareRun({ config: tiny(200, { data: 'builtin:copy', checkpointEvery: 10 }) });
    let stop: () => void = () => undefined;
    const result = await trainNewRun(store, prepared, { onStart: (_, t) => (stop = () => t.stop()), onStep: (_, m) => m.step === 12 && stop() });
    expect(result.status).toBe('stopped');
    const checkpoint = store.latestCheckpoint(1)!;
    store.close();
    const setCheckpoint = (data: Uint8Array) => {
      const raw = new Database(db);
      raw.prepare('UPDATE checkpoints SET data = ? WHERE run_id = 1 AND step = ?').run(Buffer.from(data), checkpoint.step);
      raw.close();
    };
    const flipped = new Uint8Array(checkpoint.data);
    flipped[flipped.length - 5] ^= 0x40;
    setCheckpoint(flipped);
    const damaged = cli(['resume', '1', '--db', db]);
    const state = decodeCheckpoint(checkpoint.data);
    state.weights['h.0.attn.w_qkv'][7] = Number.NaN;
    setCheckpoint(encodeCheckpoint(state));
    const poisoned = cli(['resume', '1', '--db', db]);
    for (const r of [damaged, poisoned]) expect(r.status, r.stderr).toBe(2);
    expect(damaged.stderr).toMatch(/run 1 cannot be resumed: its checkpoint at step \d+ is unusable \(checkpoint is damaged: its checksum does not match its contents\)/);
    expect(poisoned.stderr).toMatch(/its checkpoint at step \d+ is unusable \(weight h\.0\.attn\.w_qkv holds NaN at index 7\)/);
    expect(runRow(db)).toMatchObject({ status: 'stopped' });

    // A page of the database scribbled over: refused at open, naming the file, before anything is written.
    const broken = join(dir, 'broken.db');
    copyFileSync(db, broken);
    const raw = new Database(broken);
    raw.pragma('journal_mode = DELETE');
    raw.close();
    const bytes = readFileSync(broken);
    const pageSize = bytes.readUInt16BE(16);
    for (const page of [3, 4, 5, 6]) bytes.fill(0x5a, pageSize * (page - 1), pageSize * (page - 1) + 12);
    writeFileSync(broken, bytes);
    const trained = cli(['train', ...NANO, '--steps', '2', '--db', broken]);
    const listed = cli(['runs', '--db', broken]);
    for (const r of [trained, listed]) {
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain(`gpt-lab: ${broken} is damaged (SQLite quick_check: `);
    }
    expect(readFileSync(broken).equals(bytes)).toBe(true);
    outcomes.add('CLI (item 7)', 'resume of a checkpoint with one flipped byte, and of one re-encoded with a NaN weight; train and runs on a database with damaged b-tree pages', `resume exit 2: "${damaged.stderr.trim().replace(/^gpt-lab: /, '')}" / "…(weight h.0.attn.w_qkv holds NaN at index 7)"; the run stays stopped. train/runs exit 2: "<file> is damaged (SQLite quick_check: …); restore a backup, or copy what is readable out with \`sqlite3 <file> .recover\`", the file unchanged. Before: the NaN checkpoint resumed to "diverged" with exit 0, and training into the damaged file exited 0`);
  }, 240_000);
});

describe('resume leaves each step and sample once, and nothing past where it ended', () => {
  it('after the state a kill -9 leaves (rows past the last checkpoint), a resume replaces them, whether it finishes or stops at once', async () => {
    await initBackend('wasm');
    const db = freshDb();
    const store = RunStore.open(db);
    try {
      const prepared = prepareRun({ config: tiny(30, { data: 'builtin:copy', checkpointEvery: 10, sampleEvery: 10, sampleLength: 8 }) });
      await trainNewRun(store, prepared);
      // What a kill -9 just after step 29 leaves: the newest checkpoint lost, rows and the step-29 sample stored.
      const killed = () => {
        const raw = new Database(db);
        raw.exec("DELETE FROM checkpoints WHERE step = 29; UPDATE runs SET status = 'interrupted'");
        raw.close();
      };
      killed();
      expect(store.latestCheckpoint(1)!.step).toBe(19);
      const finished = await resumeRun(store, 1);
      const samples = store.samples(1).map((s) => s.step);
      expect(finished.status).toBe('completed');
      expect(samples).toEqual([9, 19, 29]);

      killed();
      let stop: () => void = () => undefined;
      const stopped = await resumeRun(store, 1, { onStart: (_, t) => (stop = () => t.stop()), onStep: (_, m) => m.step === 21 && stop() });
      const run = store.getRun(1)!;
      const steps = store.metrics(1).map((m) => m.step);
      expect(stopped.status).toBe('stopped');
      expect(run.lastStep).toBe(21);
      expect(steps).toEqual(Array.from({ length: 22 }, (_, i) => i));
      expect(store.samples(1).map((s) => s.step)).toEqual([9, 19]);
      outcomes.add('runner (item 9)', 'resume after the state a kill -9 leaves (checkpoint at 19, rows and the step-29 sample stored); once to the end, once stopped at step 21', `finished: samples at steps ${samples.join(', ')} (each once); stopped early: metrics 0–${run.lastStep} contiguous with last_step ${run.lastStep}, no row or sample of the killed attempt past it. Before: the step-29 sample was stored twice, and rows 22–29 of the killed attempt stayed next to the shorter run. The real kill -9 is crash.test.ts (it now samples too and checks each sample once)`);
    } finally {
      store.close();
    }
  }, 180_000);
});

describe('one damaged row does not break listings', () => {
  it('gpt-lab runs and the web listRuns/listRecipes show it as damaged and list the rest', async () => {
    const db = seededDb();
    const store = RunStore.open(db);
    const second = store.createRun({ name: 'second', config: tiny(3), dataSource: 'builtin:copy', status: 'completed' });
    store.addEval(second, 'recipe', { any: 'thing' });
    store.close();
    const raw = new Database(db);
    raw.prepare("UPDATE runs SET config_json = '{\"nLayer\": 1,' WHERE id = 1").run();
    raw.prepare("UPDATE evals SET payload_json = 'not json'").run();
    raw.close();
    const listed = cli(['runs', '--db', db]);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^2\s+completed.*second$/m);
    expect(listed.stdout).toMatch(/^1\s+completed.*precious \[damaged: config_json is not valid JSON/m);
    const service = new LabService({ dbPath: db, echoHostStderr: false });
    try {
      const runs = await service.listRuns();
      expect(runs.map((r) => [r.id, r.damaged ?? null])).toEqual([
        [2, null],
        [1, expect.stringMatching(/^config_json is not valid JSON/)],
      ]);
      expect((await service.listRecipes()).length).toBeGreaterThan(0);
    } finally {
      await service.close();
    }
    outcomes.add('store (item 10)', 'a run whose config_json is not valid JSON, and an eval whose payload is not', 'gpt-lab runs exit 0 listing both runs, the bad one as "precious [damaged: config_json is not valid JSON (…)]"; web listRuns answers both with damaged set on one; listRecipes answers. Before: runs exited 1 and listRuns/listRecipes answered 500');
  }, 120_000);
});

describe('Ctrl-C in a sweep or a recipe stops it cleanly', () => {
  for (const [label, args] of [
    ['sweep', ['sweep', ...NANO, '--pos', 'rope,alibi', '--steps', '100000', '--eval-every', '50']],
    // With one cell there is no next cell to stop before: the stop is noticed after the run.
    ['sweep of one cell', ['sweep', ...NANO, '--pos', 'rope', '--steps', '100000', '--eval-every', '50']],
    ['recipe', ['recipe', 'run', 'extrapolation', '--quick']],
  ] as [string, string[]][]) {
    it(`${label}: SIGINT while the first run trains → exit 130, that run stopped with a checkpoint, no further run`, async () => {
      const db = freshDb();
      const command = background([...args, '--db', db]);
      await until(() => {
        const row = tryRow(db);
        return row?.status === 'running' && row.lastStep > 0;
      }, 'the first run to train', 120_000, 50).catch((error) => {
        throw new Error(`${(error as Error).message}: ${command.stderr()}`);
      });
      command.child.kill('SIGINT');
      expect(await command.exited, command.stderr()).toBe(130);
      const runs = readDb(db, (d) => d.prepare('SELECT id, status, (SELECT count(*) FROM checkpoints c WHERE c.run_id = runs.id) AS checkpoints FROM runs').all() as { id: number; status: string; checkpoints: number }[]);
      expect(runs).toEqual([{ id: 1, status: 'stopped', checkpoints: expect.any(Number) }]);
      expect(runs[0].checkpoints).toBeGreaterThan(0);
      expect(command.stderr()).toMatch(/stopped.*\(SIGINT\); finished runs are kept, the stopped one keeps its checkpoint/);
      outcomes.add(`CLI ${label} (item 12)`, `SIGINT to \`gpt-lab ${args.slice(0, label === 'recipe' ? 4 : 1).join(' ')}\`${label === 'sweep of one cell' ? ' (one cell)' : ''} while its first run trains`, `exit 130; the run is stopped with its checkpoint, no other run was created; stderr: "${command.stderr().trim().split('\n').at(-1)!.replace(/^gpt-lab: /, '')}". Before: killed at once, exit 130, the run left "running"`);
    }, 180_000);
  }
});

describe('docs', () => {
  it('docs/RELIABILITY.md lists every fault', () => {
    syncDocTable('integrity-table', ['where', 'what was tried', 'what happened'], outcomes.rows);
  });
});
