/**
 * `gpt-lab train` goes through the lab's facade (src/service), as the app does: the command reaches the use-cases
 * and the store only through it (read from the import graph), a failed run still exits 1 with its error, and Ctrl-C
 * stops its run through the service's stopRun, keeping a checkpoint, as it did when the command trained on the runner.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli';
import { staticGraph } from '../helpers/importGraph';

/** Command modules that train through the service. */
const THROUGH_SERVICE = ['src/cli/trainCommand.ts'];
/** What such a command may reach only through the service: the use-cases that train and store runs, and the store. */
const BEHIND_THE_SERVICE = (module: string): boolean =>
  ['src/lab/runner.ts', 'src/lab/prepare.ts', 'src/lab/sweeps.ts', 'src/lab/seedGroup.ts'].includes(module) ||
  // Where the database lives by default is the CLI's business (--db, $GPT_LAB_DB); the store itself is not.
  (module.startsWith('src/store/') && module !== 'src/store/defaultPath.ts');
const FACADE = (module: string): boolean => module.startsWith('src/service/') || module.startsWith('src/hosts/');

describe('commands that go through the service', () => {
  it.each(THROUGH_SERVICE)('%s reaches the runner and the store only through src/service', async (command) => {
    const { modules } = await staticGraph(command, FACADE);
    // The graph is real: the command does reach the facade.
    expect([...modules.keys()]).toContain('src/service/labService.ts');
    const around = [...modules].filter(([module]) => BEHIND_THE_SERVICE(module)).map(([, chain]) => chain.join(' → '));
    expect(around).toEqual([]);
  }, 60_000);

  it('behind the facade, the training host does reach the runner and the store (the check above names real modules)', async () => {
    const { modules } = await staticGraph('src/cli/trainCommand.ts');
    expect(['src/lab/runner.ts', 'src/lab/prepare.ts', 'src/store/runStore.ts'].filter((m) => !modules.has(m))).toEqual([]);
  }, 60_000);

  it('the CLI loads the queue client (bullmq, ioredis) only for the commands that use a queue', async () => {
    const { packages } = await staticGraph('src/cli/main.ts');
    expect(['bullmq', 'ioredis'].filter((p) => packages.has(p)).map((p) => packages.get(p)!.join(' → '))).toEqual([]);
    expect(packages.has('better-sqlite3')).toBe(true);
  }, 60_000);
});

describe('how `gpt-lab train` ends through the service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-cli-stop-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const tiny = ['--data', 'builtin:copy', '--layers', '1', '--heads', '2', '--embd', '16', '--block', '16', '--batch', '4'];

  it('a run that fails once it trains: exit 1, its own error on stderr, nothing on stdout, the run stored as failed', async () => {
    const db = join(dir, 'failed.db');
    const cli = startCli(['train', ...tiny, '--threads', '2', '--steps', '3', '--json', '--db', db], { GPT_LAB_GRADIENT_WORKER: join(dir, 'no-such-worker.js') });
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(/^gpt-lab: gradient helper thread 1 could not start: Cannot find module .*no-such-worker\.js/m);
    expect(cli.stdout()).toBe('');
    const raw = new Database(db, { readonly: true });
    const runs = raw.prepare('SELECT status, error FROM runs').all();
    raw.close();
    expect(runs).toEqual([{ status: 'failed', error: expect.stringMatching(/^gradient helper thread 1 could not start/) }]);
  }, 120_000);

  it('Ctrl-C stops the run at the end of a step with a checkpoint, prints it as stopped and exits 0', async () => {
    const db = join(dir, 'runs.db');
    const cli = startCli(['train', ...tiny, '--threads', '1', '--steps', '100000', '--eval-every', '5', '--checkpoint-every', '0', '--db', db]);
    try {
      await cli.waitForStderr(/step 10\/100000/);
      cli.child.kill('SIGINT');
      expect(await Promise.race([cli.exited, new Promise((resolve) => setTimeout(() => resolve('still training 30 s after SIGINT'), 30_000))]), cli.stderr()).toBe(0);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
    const raw = new Database(db, { readonly: true });
    const run = raw.prepare('SELECT status, last_step AS lastStep, (SELECT max(step) FROM checkpoints WHERE run_id = runs.id) AS checkpoint FROM runs').get() as { status: string; lastStep: number; checkpoint: number };
    raw.close();
    expect(run.status).toBe('stopped');
    expect(run.lastStep).toBeGreaterThanOrEqual(9);
    expect(run.checkpoint).toBe(run.lastStep);
    expect(cli.stdout()).toMatch(new RegExp(`^run 1 stopped after ${run.lastStep + 1} steps: val loss \\d+\\.\\d{4}, \\d+ tok/s on \\S+( · [^\n]+)?\n$`));
  }, 120_000);
});
