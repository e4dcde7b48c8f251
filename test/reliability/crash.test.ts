/**
 * kill -9 of a training process mid-run (issue 9): the database stays valid, the run shows as interrupted, at most
 * one flush interval of metrics is lost, and resume continues from the last checkpoint with the same optimizer
 * state and data position: no gap, no duplicate step, and the re-done steps reproduce the lost ones exactly.
 */
import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { METRIC_FLUSH_ROWS } from '../../src/lab/runner';

const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[]) => spawnSync(process.execPath, ['bin/gpt-lab.mjs', ...args], { encoding: 'utf8', timeout: 120_000 });

function read<T>(db: string, query: (d: Database.Database) => T): T {
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return query(d);
  } finally {
    d.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('crash safety', () => {
  it('kill -9 mid-run: valid database, interrupted status, resume continues exactly', async () => {
    const db = join(dir, 'runs.db');
    const steps = 400;
    // Checkpoints every 100 steps, metric batches every 50 rows: between a checkpoint and the next there is a window of
    // 50 steps where the database holds rows past the last checkpoint, whatever the speed of the machine.
    const train = ['train', '--data', 'builtin:toy-english', '--layers', '1', '--heads', '2', '--embd', '16', '--block', '16', '--batch', '8', '--steps', String(steps), '--eval-every', '40', '--checkpoint-every', '100', '--sample-every', '25', '--dropout', '0.1', '--db', db];
    const child = spawn(process.execPath, ['bin/gpt-lab.mjs', ...train], { stdio: 'ignore' });
    let running = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => ((running = false), resolve())));

    // Kill once a checkpoint exists and training has moved on past it (rows after it are in the database), and past
    // the sample 25 steps after it, which the resume re-does: it must replace that sample, not store it twice.
    let killedAfter = 0;
    for (let waited = 0; waited < 90_000 && running; waited += 10) {
      await sleep(10);
      const state = (() => {
        try {
          return read(db, (d) => ({
            checkpoint: (d.prepare('SELECT max(step) AS s FROM checkpoints').get() as { s: number | null }).s,
            metrics: (d.prepare('SELECT count(*) AS n FROM metrics').get() as { n: number }).n,
          }));
        } catch {
          return null;
        }
      })();
      if (state?.checkpoint != null && state.checkpoint >= 99 && state.metrics > state.checkpoint + 30) {
        killedAfter = state.metrics;
        break;
      }
    }
    expect(killedAfter, running ? 'training never reached a checkpoint' : 'training finished before a window to kill it in was seen').toBeGreaterThan(0);
    child.kill('SIGKILL');
    await exited;

    expect(read(db, (d) => d.pragma('integrity_check', { simple: true }))).toBe('ok');
    const beforeResume = read(db, (d) => d.prepare('SELECT step, train_loss AS loss FROM metrics ORDER BY step').all() as { step: number; loss: number }[]);
    // At most one flush interval lost: the rows seen just before the kill are all still there, give or take a batch.
    expect(beforeResume.length).toBeGreaterThanOrEqual(killedAfter - METRIC_FLUSH_ROWS);

    const listed = cli(['runs', '--db', db, '--json']);
    expect(listed.status, listed.stderr).toBe(0);
    const [run] = JSON.parse(listed.stdout) as { runId: number; status: string }[];
    expect(run.status).toBe('interrupted');

    const resumed = cli(['resume', String(run.runId), '--db', db, '--json']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ runId: run.runId, status: 'completed', steps });

    const after = read(db, (d) => d.prepare('SELECT step, train_loss AS loss FROM metrics ORDER BY step').all() as { step: number; loss: number }[]);
    expect(after.map((m) => m.step)).toEqual(Array.from({ length: steps }, (_, i) => i));
    // Steps trained before the kill and again after the resume agree exactly: same weights, optimizer and batches.
    for (const old of beforeResume) expect(after[old.step].loss, `step ${old.step}`).toBe(old.loss);
    const samples = read(db, (d) => d.prepare('SELECT step FROM samples ORDER BY step').pluck().all() as number[]);
    expect(samples).toEqual(Array.from({ length: steps / 25 }, (_, i) => 25 * i + 24));
  }, 180_000);
});
