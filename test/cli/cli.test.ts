/**
 * The real `gpt-lab` executable as a child process: bad input exits 2 with a message naming the option and what
 * is allowed, and writes nothing; a tiny train → runs → export round trip through a temp database.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHASES } from '../../src/engine/train/profile';
import { RunStore } from '../../src/store';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(ROOT, 'bin', 'gpt-lab.mjs');

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

let dir: string;

function run(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      // Never fall back to the user's real database, whatever a test forgets to pass.
      env: { ...process.env, GPT_LAB_DB: join(dir, 'default-should-not-exist.db'), NO_COLOR: '1', FORCE_COLOR: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ status, stdout, stderr }));
  });
}

let counter = 0;
const freshPath = (name: string): string => join(dir, `${counter++}-${name}`);

/** A valid database holding one run, whose bytes a failing command must not change. */
function existingDb(): { path: string; bytes: Buffer } {
  const path = freshPath('existing.db');
  const store = RunStore.open(path);
  store.createRun({ name: 'keep me', config: { steps: 1 }, dataSource: 'builtin:copy', status: 'completed' });
  store.close();
  return { path, bytes: readFileSync(path) };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpt-lab-cli-'));
});
afterAll(() => {
  expect(existsSync(join(dir, 'default-should-not-exist.db'))).toBe(false);
  rmSync(dir, { recursive: true, force: true });
});

/** Arguments after `train`, and what stderr must say (the option's name and what it allows). */
const BAD_TRAIN: [string[], RegExp[]][] = [
  [['--pos', 'bogus'], [/--pos/, /learned/, /rope/, /alibi/, /bogus/]],
  [['--norm', 'sideways'], [/--norm/, /pre, post, none/, /sideways/]],
  [['--layers', '0'], [/--layers/, /\[1, 48\]/, /got 0/]],
  [['--layers', 'abc'], [/--layers/, /expected a decimal integer/, /abc/]],
  [['--heads', '5', '--embd', '48'], [/--heads/, /divide/, /48/]],
  [['--dropout', '2'], [/--dropout-embd/, /--dropout-attn/, /--dropout-resid/, /\[0, 0\.95\]/]],
  [['--preset', 'huge'], [/--preset/, /nano, micro, mini/, /huge/]],
  [['--data', '/nonexistent/file.txt'], [/not found/, /\/nonexistent\/file\.txt/]],
  [['--data', 'builtin:nope'], [/unknown builtin/, /nope/, /toy-english/, /copy/]],
  [['--rope-base', '100', '--pos', 'alibi'], [/--rope-base/, /rope/, /alibi/]],
  [['--threads', 'all'], [/--threads: expected a decimal integer, got "all" \(or 'auto'/]],
  [['--threads', '17'], [/--threads/, /must be in \[1, 16\]/, /got 17/]],
  [['--frobnicate'], [/unknown option/, /--frobnicate/]],
];

describe.concurrent('bad input exits 2, says what is wrong and writes nothing', () => {
  for (const [args, messages] of BAD_TRAIN) {
    it(`train ${args.join(' ')}`, async ({ expect }) => {
      const db = freshPath('absent.db');
      const result = await run(['train', ...args, '--steps', '2', '--db', db]);
      expect(result.status, result.stderr).toBe(2);
      for (const pattern of messages) expect(result.stderr).toMatch(pattern);
      expect(result.stderr).not.toMatch(/\n\s+at .*:\d+:\d+/); // no stack trace
      expect(result.stdout).toBe('');
      expect(existsSync(db)).toBe(false);
      expect(existsSync(`${db}-wal`)).toBe(false);
    });
  }

  it('bad train input leaves an existing database byte-for-byte unchanged', async ({ expect }) => {
    const { path, bytes } = existingDb();
    for (const args of [['--layers', '0'], ['--pos', 'bogus'], ['--data', 'builtin:nope']]) {
      const result = await run(['train', ...args, '--db', path]);
      expect(result.status).toBe(2);
    }
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  const BAD_EXPORT: [string[], RegExp[]][] = [
    [['export', '999'], [/run 999 does not exist/]],
    [['export', 'abc'], [/RUN_ID/, /positive decimal integer/, /abc/]],
    [['export', '1', '--format', 'xml'], [/--format/, /xml/, /csv, json/]],
  ];
  const BAD_EVAL: [string[], RegExp[]][] = [
    [['eval-length', '1', '--rope-scaling', 'pi'], [/--rope-scaling needs a rope run/, /run 1 uses the learned scheme/]],
    [['eval-length', '1', '--rope-scaling', 'linear'], [/--rope-scaling/, /linear/, /none, pi, ntk, yarn/]],
  ];
  for (const [args, messages] of [...BAD_EXPORT, ...BAD_EVAL]) {
    it(`${args.join(' ')} on an existing database`, async ({ expect }) => {
      const { path, bytes } = existingDb();
      const result = await run([...args, '--db', path]);
      expect(result.status, result.stderr).toBe(2);
      for (const pattern of messages) expect(result.stderr).toMatch(pattern);
      expect(result.stdout).toBe('');
      expect(readFileSync(path).equals(bytes)).toBe(true);
    });
  }

  for (const [args, messages] of BAD_EXPORT) {
    it(`${args.join(' ')} does not create a database that did not exist`, async ({ expect }) => {
      const db = freshPath('absent.db');
      const result = await run([...args, '--db', db]);
      expect(result.status, result.stderr).toBe(2);
      // A well-formed RUN_ID reaches the database check first, which names the missing file.
      const expected = args[1] === '999' ? [/no GPT Lab database at/, /absent\.db/] : messages;
      for (const pattern of expected) expect(result.stderr).toMatch(pattern);
      expect(existsSync(db)).toBe(false);
    });
  }

  it('a --db that is a text file: exit 2, a clear message, the file unchanged', async ({ expect }) => {
    const path = freshPath('notes.txt');
    const text = 'my notes, not a database\nline two\n';
    writeFileSync(path, text);
    for (const args of [['runs'], ['export', '1'], ['train', '--layers', '1', '--heads', '2', '--embd', '16', '--block', '8', '--steps', '2']]) {
      const result = await run([...args, '--db', path]);
      expect(result.status, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(/not a GPT Lab database/);
      expect(result.stderr).toContain(path);
      expect(readFileSync(path, 'utf8')).toBe(text);
    }
    expect(existsSync(`${path}-wal`)).toBe(false);
  });
});

describe('train --profile', () => {
  it('puts every phase in the JSON result, their shares summing to the whole, steps and start-up non-zero', async () => {
    const db = freshPath('profile.db');
    const train = await run(['train', '--layers', '1', '--heads', '2', '--embd', '16', '--block', '16', '--batch', '4', '--steps', '6', '--threads', '1', '--sample-every', '3', '--db', db, '--json', '--profile']);
    expect(train.status, train.stderr).toBe(0);
    const { profile, threads } = JSON.parse(train.stdout) as { threads: number; profile: { wallMs: number; phases: { phase: string; ms: number; share: number }[] } };
    expect(threads).toBe(1);
    const byPhase = Object.fromEntries(profile.phases.map((p) => [p.phase, p]));
    expect(Object.keys(byPhase)).toEqual([...PHASES, 'untimed']);
    expect(profile.phases.reduce((sum, p) => sum + p.ms, 0)).toBeCloseTo(profile.wallMs, 6);
    expect(profile.phases.reduce((sum, p) => sum + p.share, 0)).toBeCloseTo(1, 9);
    for (const phase of ['boot', 'prepare', 'backend', 'compute', 'read', 'eval', 'sample', 'checkpoint', 'store'] as const) expect(byPhase[phase]!.ms, phase).toBeGreaterThan(0);
  });
});

describe('train → runs → export', () => {
  it('trains a tiny model, lists it and exports its metrics', async () => {
    const db = freshPath('runs.db');
    const train = await run([
      'train', '--data', 'builtin:toy-english', '--layers', '1', '--heads', '2', '--embd', '16', '--block', '16',
      '--batch', '8', '--steps', '40', '--eval-every', '20', '--db', db, '--json',
    ]);
    expect(train.status, train.stderr).toBe(0);
    const lines = train.stdout.split('\n');
    expect(lines).toHaveLength(2); // one line and its newline
    expect(lines[1]).toBe('');
    const result = JSON.parse(lines[0]) as Record<string, unknown>;
    // matmul: the BLAS the wasm rung's matmuls ran on (CI has one: test/engine/model/nativeGemm.test.ts).
    expect(Object.keys(result).sort()).toEqual(
      ['backend', 'threads', 'finalTrainLoss', 'finalValLoss', 'gpu', 'notes', 'params', 'runId', 'status', 'steps', 'tokensPerSecond', ...(result.matmul ? ['matmul'] : [])].sort(),
    );
    // threads 'auto' by default: every core, at most one per batch row; stored resolved with the run.
    expect(result.threads).toBe(Math.min(availableParallelism(), 8));
    expect(result.runId).toBe(1);
    expect(result.status).toBe('completed');
    expect(result.steps).toBe(40);
    expect(typeof result.backend).toBe('string');
    expect(typeof result.gpu).toBe('boolean');
    expect(result.tokensPerSecond).toBeGreaterThan(0);
    expect(Number.isFinite(result.finalTrainLoss)).toBe(true);

    const runs = await run(['runs', '--db', db, '--json']);
    expect(runs.status, runs.stderr).toBe(0);
    const list = JSON.parse(runs.stdout) as Record<string, unknown>[];
    expect(list).toHaveLength(1);
    const listed = list[0];
    expect(listed.runId).toBe(1);
    expect(listed.name).toBe('learned · pre-norm · 1L2H16d · builtin:toy-english');
    expect(listed.status).toBe('completed');
    expect(listed.finalValLoss).toBe(result.finalValLoss);
    const config = listed.config as Record<string, unknown>;
    expect(config).toMatchObject({ data: 'builtin:toy-english', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 8, steps: 40, evalEvery: 20, threads: result.threads });
    expect(listed.params).toBe(result.params);

    // The model learned: below the loss of a uniform guess over the vocabulary (its loss at initialisation).
    const vocab = listed.vocab as string[];
    expect(vocab.length).toBeGreaterThan(10);
    expect(result.finalValLoss).toBeLessThan(Math.log(vocab.length));

    const csv = await run(['export', '1', '--format', 'csv', '--db', db]);
    expect(csv.status, csv.stderr).toBe(0);
    const rows = csv.stdout.trimEnd().split('\n');
    expect(rows[0]).toBe('step,tokens,wall_ms,train_loss,val_loss,lr,grad_norm');
    expect(rows).toHaveLength(41);
    expect(rows.slice(1).map((r) => Number(r.split(',')[0]))).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(rows[1].split(',')[1]).toBe('128'); // 8 × 16 tokens per step
    const withVal = rows.slice(1).filter((r) => r.split(',')[4] !== '').map((r) => Number(r.split(',')[0]));
    expect(withVal).toEqual([19, 39]);
    expect(Number(rows[40].split(',')[4])).toBe(result.finalValLoss);

    const out = freshPath('metrics.json');
    const json = await run(['export', '1', '--format', 'json', '--out', out, '--db', db]);
    expect(json.status, json.stderr).toBe(0);
    expect(json.stdout).toBe('');
    const exported = JSON.parse(readFileSync(out, 'utf8')) as { runId: number; name: string; config: unknown; metrics: { step: number }[] };
    expect(exported.runId).toBe(1);
    expect(exported.name).toBe(listed.name);
    expect(exported.config).toEqual(config);
    expect(exported.metrics.map((m) => m.step)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });
});

describe('train without the BLAS it was told to use', () => {
  it('trains on tfjs\'s own kernels and says why, on stderr and in --json', async () => {
    const env = { GPT_LAB_BLAS_LIBRARY: '/nonexistent/libopenblas.so' };
    const args = ['train', '--data', 'builtin:toy-english', '--layers', '1', '--heads', '2', '--embd', '16', '--block', '16', '--batch', '8', '--steps', '2'];
    const note = "wasm's matmuls run on tfjs's own kernels, not the machine's BLAS: GPT_LAB_BLAS_LIBRARY=/nonexistent/libopenblas.so could not be opened";
    const human = await run([...args, '--db', freshPath('runs.db')], env);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/tok\/s on wasm\n$/);
    expect(human.stderr).toContain(`note: ${note}\n`);
    expect(human.stderr).not.toMatch(/note: (tfjs-node|webgpu|tfjs-node-gpu): /); // skipped rungs stay out of the way
    const json = await run([...args, '--db', freshPath('runs.db'), '--json'], env);
    const result = JSON.parse(json.stdout) as { matmul?: string; notes: string[] };
    expect(result.matmul).toBeUndefined();
    expect(result.notes).toContain(note);
  });
});

describe('train --seeds', () => {
  it('trains one run per seed as a group and reports each final val loss and their spread', async () => {
    const db = freshPath('seeds.db');
    const tiny = ['--data', 'builtin:copy', '--layers', '1', '--heads', '2', '--embd', '16', '--block', '8', '--batch', '4', '--steps', '6', '--eval-every', '3', '--sample-every', '0'];
    const train = await run(['train', ...tiny, '--seed', '5', '--seeds', '2', '--db', db, '--json']);
    expect(train.status, train.stderr).toBe(0);
    const out = JSON.parse(train.stdout) as { group: string; perSeed: { seed: number; runId: number; finalValLoss: number }[]; finalValLoss: { n: number; mean: number; std: number; low: number; high: number } };
    expect(out.perSeed.map((r) => [r.seed, r.runId])).toEqual([[5, 1], [6, 2]]);
    const [a, b] = out.perSeed.map((r) => r.finalValLoss);
    expect(a).not.toBe(b);
    expect(out.finalValLoss.n).toBe(2);
    expect(out.finalValLoss.mean).toBeCloseTo((a! + b!) / 2, 10);
    expect(out.finalValLoss.std).toBeCloseTo(Math.abs(a! - b!) / Math.SQRT2, 10);
    expect(out.finalValLoss.high - out.finalValLoss.mean).toBeCloseTo((12.706 * out.finalValLoss.std) / Math.SQRT2, 10);

    const store = RunStore.open(db);
    expect(store.findRunsBySweepKey(out.group).map((r) => [r.id, (r.config as { seed: number }).seed])).toEqual([[1, 5], [2, 6]]);
    store.close();

    const bad = await run(['train', ...tiny, '--seeds', '0', '--db', db]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--seeds: expected an integer from 1 to 16, got "0"/);
  });
});

describe('finetune', () => {
  it('trains a child at 2× the block from the stored run, linked to it and keeping its rope scaling; bad input exits 2', async () => {
    const db = freshPath('finetune.db');
    const tiny = ['--pos', 'rope', '--layers', '1', '--heads', '2', '--embd', '16', '--block', '8', '--batch', '4', '--steps', '6', '--sample-every', '0', '--threads', '1'];
    expect((await run(['train', ...tiny, '--db', db])).status).toBe(0);
    const tuned = await run(['finetune', '1', '--block', '2x', '--steps', '3', '--lr', '5e-4', '--rope-scaling', 'yarn', '--db', db, '--json']);
    expect(tuned.status, tuned.stderr).toBe(0);
    const out = JSON.parse(tuned.stdout) as { runId: number; status: string; steps: number; parentId: number; blockSize: number; posExtension: unknown };
    expect(out).toMatchObject({ runId: 2, status: 'completed', steps: 3, parentId: 1, blockSize: 16, posExtension: { method: 'yarn', scale: 2 } });
    const store = RunStore.open(db);
    const [parent, child] = [store.getRun(1)!, store.getRun(2)!];
    expect(child.parentId).toBe(1);
    expect(child.config).toEqual({ ...(parent.config as object), blockSize: 16, steps: 3, lr: 5e-4, minLr: 1e-4, posExtension: { method: 'yarn', scale: 2 } });
    expect(store.metrics(2).map((m) => [m.step, m.tokens])).toEqual([[0, 64], [1, 128], [2, 192]]);
    store.close();

    const bytes = readFileSync(db);
    for (const [args, message] of [
      [['finetune', '9', '--block', '2x', '--steps', '3'], /run 9 does not exist in this database/],
      [['finetune', '1', '--block', '8', '--steps', '3'], /the new block must be longer than run 1's block 8/],
      [['finetune', '1', '--block', '16'], /required option '--steps <n>' not specified/],
    ] as [string[], RegExp][]) {
      const bad = await run([...args, '--db', db]);
      expect(bad.status, args.join(' ')).toBe(2);
      expect(bad.stderr).toMatch(message);
      expect(bad.stdout).toBe('');
    }
    expect(readFileSync(db).equals(bytes)).toBe(true);
  });
});
