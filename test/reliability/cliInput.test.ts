/**
 * The CLI's bad-input matrix (issue 22): every malformed argument, path or database is refused with exit code 2 and
 * a message naming what is wrong; never accepted silently, never a stack trace, and the files involved unchanged.
 * The commands run in this process through runCli (what bin/gpt-lab.mjs calls), so 150+ cases take seconds; the
 * spawned-binary cases live in badInput.test.ts and test/cli. Rows: docs/RELIABILITY.md's cli-bad-input-table.
 */
import Database from 'better-sqlite3';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/main';
import { resolveConfig } from '../../src/engine/config';
import { encodeCheckpoint, type TrainingState } from '../../src/engine/train/checkpoint';
import { RunStore } from '../../src/store';
import { processStartTime } from '../../src/store/owner';
import { hostname } from 'node:os';
import { Outcomes, syncDocTable } from './docTable';

const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-cli-input-'));
const absent = join(dir, 'absent.db');
const dbPath = join(dir, 'runs.db');
const foreignDb = join(dir, 'foreign.db');
const dataDir = join(dir, 'data');
const text = join(dataDir, 'small.txt');
let sleeper: ChildProcess;
afterAll(() => {
  sleeper?.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** A checkpoint with one weight tensor; `poison` puts a NaN in it. Enough for resume's checks, which run first. */
function checkpoint(poison = false): Uint8Array {
  const w = new Float32Array([0.1, 0.2, poison ? NaN : 0.3]);
  const state: TrainingState = { step: 4, tokens: 40, wallMs: 1, batchRngState: 1, weights: { wte: w }, optimizer: { t: 5, m: { wte: new Float32Array(3) }, v: { wte: new Float32Array(3) } } };
  return encodeCheckpoint(state);
}

/** Run ids in the fixture database, by what is wrong with them. */
const RUN = { completed: 1, nan: 2, damagedCheckpoint: 3, owned: 4, noCheckpoint: 5, changedData: 6, damagedRow: 7 };

function prepareFixtures(): void {
  mkdirSync(dataDir);
  writeFileSync(text, 'hello world, a short text for a tiny model. '.repeat(20));
  writeFileSync(join(dataDir, 'file'), 'a file, not a folder');
  symlinkSync(join(dataDir, 'loop-a'), join(dataDir, 'loop-b'));
  symlinkSync(join(dataDir, 'loop-b'), join(dataDir, 'loop-a'));
  // 200 000 distinct characters: the logits alone (B·T·V) need more than a wasm heap.
  const wide = Array.from({ length: 200_000 }, (_, i) => String.fromCodePoint(0x4e00 + i + (0x4e00 + i >= 0xd800 ? 0x800 : 0))).join('');
  writeFileSync(join(dataDir, 'wide.txt'), wide + wide);
  const store = RunStore.open(dbPath);
  const config = resolveConfig({ data: 'builtin:copy', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 8, steps: 10 });
  const make = (name: string, status: 'completed' | 'stopped' | 'running' = 'stopped', extra: object = {}) =>
    store.createRun({ name, config: { ...config, ...extra }, dataSource: 'builtin:copy', status });
  make('done', 'completed');
  store.saveCheckpoint(make('nan weights'), 4, checkpoint(true));
  const damaged = checkpoint();
  damaged[damaged.length - 3] ^= 0xff;
  store.saveCheckpoint(make('damaged checkpoint'), 4, damaged);
  const owned = make('owned by a live process', 'running');
  store.saveCheckpoint(owned, 4, checkpoint());
  make('no checkpoint');
  const changed = store.createRun({ name: 'changed data', config: { ...config, data: text }, dataSource: text, dataHash: 'not-the-hash-of-the-file', vocab: ['h', 'e'], status: 'stopped' });
  store.saveCheckpoint(changed, 4, checkpoint());
  make('damaged row');
  store.close();
  sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
  const raw = new Database(dbPath);
  raw.prepare('UPDATE runs SET owner_pid = ?, owner_tag = ? WHERE id = ?').run(sleeper.pid, `${hostname()}/${processStartTime(sleeper.pid!)}`, owned);
  raw.prepare("UPDATE runs SET config_json = '{not json' WHERE id = ?").run(RUN.damagedRow);
  raw.close();
  const foreign = new Database(foreignDb);
  foreign.exec("CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('ada'); PRAGMA user_version = 7;");
  foreign.close();
  execFileSync('mkfifo', [join(dataDir, 'fifo')]);
}

interface CliCase {
  area: string;
  input: string;
  args: string[];
  message: RegExp;
}

const INTEGER_FLAGS = ['layers', 'heads', 'embd', 'block', 'batch', 'steps', 'warmup', 'seed', 'threads', 'eval-every', 'sample-every', 'checkpoint-every'];
const NUMBER_FLAGS = ['lr', 'min-lr', 'weight-decay', 'grad-clip', 'dropout', 'dropout-embd', 'dropout-attn', 'dropout-resid'];
/** Values Number() would take (or a typo) that a count must not: each is refused by the parser. */
const NOT_DECIMAL_INTEGERS = ['abc', '0x3', '0b11', '0o7', '1.5', '1e3', '', 'Infinity'];
const NOT_DECIMAL_NUMBERS = ['abc', '0x1', 'NaN', 'Infinity', '1e999', '1,5'];
/** One value past each setting's range: refused by validation, naming the range. */
const OUT_OF_RANGE: [flag: string, value: string, message: RegExp][] = [
  ['layers', '49', /--layers: must be in \[1, 48\], got 49/],
  ['heads', '65', /--heads: must be in \[1, 64\], got 65/],
  ['embd', '4097', /--embd: must be in \[2, 4096\]/],
  ['block', '4097', /--block: must be in \[1, 4096\]/],
  ['batch', '0', /--batch: must be in \[1, 4096\], got 0/],
  ['steps', '0', /--steps: must be in \[1, 10000000\], got 0/],
  ['steps', '10000001', /--steps: must be in \[1, 10000000\]/],
  ['warmup', '-1', /--warmup: must be in \[0, 10000000\], got -1/],
  ['seed', '-1', /--seed: must be in \[0, 2147483647\], got -1/],
  ['seed', '2147483648', /--seed: must be in \[0, 2147483647\]/],
  ['threads', '0', /--threads: must be in \[1, 16\], got 0/],
  ['threads', '17', /--threads: must be in \[1, 16\], got 17/],
  ['eval-every', '-1', /--eval-every: must be in \[0, 10000000\], got -1/],
  ['sample-every', '-1', /--sample-every: must be in \[0, 10000000\], got -1/],
  ['checkpoint-every', '-1', /--checkpoint-every: must be in \[0, 10000000\], got -1/],
  ['lr', '11', /--lr: must be in \[0, 10\], got 11/],
  ['lr', '-0.5', /--lr: must be in \[0, 10\], got -0.5/],
  ['min-lr', '11', /--min-lr: must be in \[0, 10\]/],
  ['weight-decay', '-1', /--weight-decay: must be in \[0, 10\], got -1/],
  ['grad-clip', '1e7', /--grad-clip: must be in \[0, 1000000\]/],
  ['dropout-embd', '0.96', /--dropout-embd: must be in \[0, 0\.95\], got 0\.96/],
  ['dropout-attn', '1', /--dropout-attn: must be in \[0, 0\.95\], got 1/],
  ['dropout-resid', '-0.1', /--dropout-resid: must be in \[0, 0\.95\], got -0.1/],
  ['rope-base', '1', /--rope-base: must be in \[2, 1000000000\], got 1/],
];

const train = (...args: string[]) => ['train', ...args, '--db', absent];

function cases(): CliCase[] {
  const list: CliCase[] = [];
  for (const flag of INTEGER_FLAGS)
    for (const value of NOT_DECIMAL_INTEGERS)
      list.push({ area: 'integer flag', input: `--${flag} ${JSON.stringify(value)}`, args: train(`--${flag}=${value}`), message: new RegExp(`--${flag}: expected a decimal integer, got ${JSON.stringify(JSON.stringify(value)).slice(1, -1)}`) });
  for (const flag of NUMBER_FLAGS)
    for (const value of NOT_DECIMAL_NUMBERS)
      list.push({ area: 'number flag', input: `--${flag} ${JSON.stringify(value)}`, args: train(`--${flag}=${value}`), message: new RegExp(`--${flag}: expected a decimal number, got "${value}"`) });
  for (const [flag, value, message] of OUT_OF_RANGE) {
    const pos = flag === 'rope-base' ? ['--pos', 'rope'] : [];
    list.push({ area: 'range', input: `--${flag} ${value}`, args: train(...pos, `--${flag}=${value}`), message });
  }
  const long = 'n'.repeat(10_000);
  list.push(
    { area: 'name', input: 'train --name "" (empty)', args: train('--name='), message: /--name: must not be empty/ },
    { area: 'name', input: 'train --name "   " (blank)', args: train('--name', '   '), message: /--name: must not be empty/ },
    { area: 'name', input: 'train --name of 201 characters', args: train('--name', 'x'.repeat(201)), message: /--name: must be at most 200 characters, got 201/ },
    { area: 'name', input: 'train --name of 10 000 characters', args: train('--name', long), message: /--name: must be at most 200 characters, got 10000/ },
    { area: 'name', input: 'sweep --name of 10 000 characters', args: ['sweep', '--name', long, '--db', absent], message: /--name: must be at most 200 characters/ },
    { area: 'name', input: 'sweep --name "" (empty)', args: ['sweep', '--name=', '--db', absent], message: /--name: must not be empty/ },
    { area: 'sweep', input: 'a 96-run grid (6 schemes × 2 norms × 8 dropouts)', args: ['sweep', '--pos', 'none,sinusoidal,learned,rope,t5,alibi', '--norm', 'pre,post', '--dropout', '0,0.1,0.2,0.3,0.4,0.5,0.6,0.7', '--db', absent], message: /the grid makes 96 runs \(6 × 2 × 8\); at most 64 per sweep/ },
    { area: 'sweep', input: 'a 65-run grid', args: ['sweep', '--pos', Array(13).fill('rope').join(','), '--dropout', '0,0.1,0.2,0.3,0.4', '--db', absent], message: /the grid makes 65 runs/ },
    { area: 'sweep', input: '--eval-lengths 0x10', args: ['sweep', '--eval-lengths', '0x10', '--db', absent], message: /--eval-lengths: expected positive integers/ },
    { area: 'sweep', input: '--steps 0x3 in a sweep', args: ['sweep', '--steps', '0x3', '--db', absent], message: /--steps: expected a decimal integer, got "0x3"/ },
    { area: 'sweep', input: '--norm pre,,post', args: ['sweep', '--norm', 'pre,,post', '--db', absent], message: /--norm: empty entry/ },
    { area: 'sweep', input: '--dropout 0,x', args: ['sweep', '--dropout', '0,x', '--db', absent], message: /--dropout: expected a decimal number, got "x"/ },
  );
  for (const [command, extra] of [['resume', []], ['export', []], ['eval-length', []], ['task-length', []], ['finetune', ['--block', '2x', '--steps', '5']]] as [string, string[]][])
    for (const id of ['0x1', '1.5', '1e2', '0', 'abc', '99999999999999999999'])
      list.push({ area: 'run id', input: `${command} ${id}`, args: [command, id, ...extra, '--db', dbPath], message: /RUN_ID must be a positive decimal integer/ });
  list.push(
    { area: 'run id', input: 'probe 0x2 --kind attention', args: ['probe', '0x2', '--kind', 'attention', '--db', dbPath], message: /RUN_ID must be a positive decimal integer, got "0x2"/ },
    { area: 'lists', input: 'eval-length --lengths 0x20', args: ['eval-length', '1', '--lengths', '0x20', '--db', dbPath], message: /--lengths: expected positive integers separated by commas, got "0x20"/ },
    { area: 'lists', input: 'eval-length --lengths 1e3', args: ['eval-length', '1', '--lengths', '1e3', '--db', dbPath], message: /--lengths: expected positive integers/ },
    { area: 'lists', input: 'eval-length --lengths 32,-64', args: ['eval-length', '1', '--lengths', '32,-64', '--db', dbPath], message: /--lengths: expected positive integers/ },
    { area: 'lists', input: 'task-length --sizes 0b11', args: ['task-length', '1', '--sizes', '0b11', '--db', dbPath], message: /--sizes: expected positive integers/ },
    { area: 'lists', input: 'task-length --examples 0x10', args: ['task-length', '1', '--examples', '0x10', '--db', dbPath], message: /--examples: expected an integer from 1 to 10000, got "0x10"/ },
    { area: 'lists', input: 'task-length --examples 1e3', args: ['task-length', '1', '--examples', '1e3', '--db', dbPath], message: /--examples: expected an integer from 1 to 10000, got "1e3"/ },
    { area: 'lists', input: 'task-length --examples 10001', args: ['task-length', '1', '--examples', '10001', '--db', dbPath], message: /--examples: expected an integer from 1 to 10000/ },
  );
  const here = relative(process.cwd(), dbPath);
  list.push(
    { area: 'database path', input: '--db "" (SQLite would use a temporary database)', args: ['train', '--steps', '1', '--db='], message: /--db: expected the path of a database file, got ""/ },
    { area: 'database path', input: '--db "   "', args: ['runs', '--db', '   '], message: /--db: expected the path of a database file/ },
    { area: 'database path', input: '--db :memory:', args: ['train', '--steps', '1', '--db', ':memory:'], message: /--db: expected the path of a database file, got ":memory:" \(a temporary database would lose every run on exit\)/ },
    { area: 'database path', input: '--db file:runs.db?mode=memory (a URI)', args: ['runs', '--db', 'file:runs.db?mode=memory'], message: /--db: expected the path of a database file/ },
    { area: 'database path', input: 'sweep --db :memory:', args: ['sweep', '--db', ':memory:'], message: /--db: expected the path of a database file/ },
    { area: 'database path', input: 'recipe run --db ""', args: ['recipe', 'run', 'extrapolation', '--db='], message: /--db: expected the path of a database file/ },
    { area: 'export', input: 'export 1 --out <the database>', args: ['export', '1', '--out', dbPath, '--db', dbPath], message: /--out: .* is the database \(.*\); writing the export there would destroy the runs/ },
    { area: 'export', input: 'export 1 --out <the database, as a relative path>', args: ['export', '1', '--out', here, '--db', dbPath], message: /is the database/ },
    { area: 'export', input: 'export 1 --out <a symlink to the database>', args: ['export', '1', '--out', join(dir, 'link.db'), '--db', dbPath], message: /is the database/ },
    { area: 'export', input: 'export 1 --out <a hard link to the database>', args: ['export', '1', '--out', join(dir, 'hard.db'), '--db', dbPath], message: /is the database/ },
    { area: 'export', input: 'export 1 --out <the database>-wal', args: ['export', '1', '--out', `${dbPath}-wal`, '--db', dbPath], message: /is the database's wal file/ },
    { area: 'export', input: 'export 1 --out <the database>-shm', args: ['export', '1', '--out', `${dbPath}-shm`, '--db', dbPath], message: /is the database's shm file/ },
    { area: 'export', input: 'export 1 --out <a directory>', args: ['export', '1', '--out', dir, '--db', dbPath], message: /--out: .* is a directory; give a file name/ },
    { area: 'export', input: 'export 999 (no such run)', args: ['export', '999', '--db', dbPath], message: /run 999 does not exist in this database/ },
  );
  const data = (source: string) => train('--data', source);
  list.push(
    { area: 'data path', input: 'a path through a file (ENOTDIR)', args: data(join(dataDir, 'file', 'x.txt')), message: /data file .*file\/x\.txt cannot exist: a part of the path before its end is a file/ },
    { area: 'data path', input: 'a 5000-character name (ENAMETOOLONG)', args: data(join(dataDir, 'n'.repeat(5000))), message: /data file path is too long \(\d+ characters\)/ },
    { area: 'data path', input: 'a loop of symbolic links (ELOOP)', args: data(join(dataDir, 'loop-a')), message: /is a loop of symbolic links/ },
    { area: 'data path', input: 'a NUL byte in the path', args: data(`${text}\0.txt`), message: /contains a NUL character/ },
    { area: 'data path', input: '/proc/self/pagemap (stat says 0 bytes; endless)', args: data('/proc/self/pagemap'), message: /is larger than the 50\.0 MB limit \(more was read than its size says\)/ },
    { area: 'data path', input: '/dev/zero', args: data('/dev/zero'), message: /is not a regular file/ },
    { area: 'data path', input: 'a named pipe', args: data(join(dataDir, 'fifo')), message: /is not a regular file/ },
    { area: 'data path', input: 'a directory', args: data(dataDir), message: /is a directory, not a file/ },
    { area: 'data path', input: 'a missing file', args: data(join(dataDir, 'nope.txt')), message: /data file not found/ },
    { area: 'data path', input: 'a sweep over a path through a file', args: ['sweep', '--data', join(dataDir, 'file', 'x'), '--pos', 'rope', '--db', absent], message: /cannot exist: a part of the path/ },
  );
  list.push(
    { area: 'memory', input: '--block 4096 (attention B·H·T²)', args: train('--block', '4096'), message: /--block: the run needs about [\d.]+ GiB per training step but 4\.0 GiB is available: .*attention scores B·H·T²·layers/ },
    { area: 'memory', input: '--embd 4096 --heads 4 --layers 48 (parameters)', args: train('--embd', '4096', '--heads', '4', '--layers', '48'), message: /--embd: the run needs about [\d.]+ GiB .*9,6\d\d,\d{3},\d{3} parameters/ },
    { area: 'memory', input: '--batch 4096 --block 1024', args: train('--batch', '4096', '--block', '1024'), message: /the run needs about [\d.]+ GiB per training step/ },
    { area: 'memory', input: 'a 200 000-character vocabulary (logits B·T·V)', args: data(join(dataDir, 'wide.txt')), message: /--data: the run needs about [\d.]+ GiB .*logits B·T·V [\d.]+ GiB \(vocabulary of 200,000\)/ },
    { area: 'memory', input: 'sweep with --block 4096', args: ['sweep', '--block', '4096', '--pos', 'rope', '--db', absent], message: /--block: the run needs about/ },
  );
  list.push(
    { area: 'resume', input: 'a run whose checkpoint holds NaN weights', args: ['resume', String(RUN.nan), '--db', dbPath], message: /run 2 cannot be resumed: its checkpoint at step 4 is unusable \(weight wte holds NaN at index 2\)/ },
    { area: 'resume', input: 'a checkpoint with a flipped byte', args: ['resume', String(RUN.damagedCheckpoint), '--db', dbPath], message: /checkpoint at step 4 is unusable \(checkpoint is damaged: its checksum does not match its contents\)/ },
    { area: 'resume', input: 'a run a live process is training', args: ['resume', String(RUN.owned), '--db', dbPath], message: /run 4 is running in process \d+; stop it there first/ },
    { area: 'resume', input: 'a completed run', args: ['resume', String(RUN.completed), '--db', dbPath], message: /run 1 already completed; nothing to resume/ },
    { area: 'resume', input: 'a run without a checkpoint', args: ['resume', String(RUN.noCheckpoint), '--db', dbPath], message: /run 5 has no checkpoint to resume from/ },
    { area: 'resume', input: 'a run whose data file changed (no --block advice: resume takes none)', args: ['resume', String(RUN.changedData), '--db', dbPath], message: /^(?![\s\S]*--block)[\s\S]*the data of run 6 .* changed since it was trained.*resume needs the same data/ },
    { area: 'resume', input: 'a run whose stored row is damaged', args: ['resume', String(RUN.damagedRow), '--db', dbPath], message: /run 7 cannot be resumed: its stored record is damaged \(config_json is not valid JSON/ },
    { area: 'resume', input: 'a run that does not exist', args: ['resume', '999', '--db', dbPath], message: /run 999 does not exist in this database/ },
  );
  const finetune = (id: number | string, ...extra: string[]) => ['finetune', String(id), '--block', '32', '--steps', '5', ...extra, '--db', dbPath];
  list.push(
    { area: 'finetune', input: 'a run that does not exist', args: finetune(999), message: /run 999 does not exist in this database/ },
    { area: 'finetune', input: 'a run without a checkpoint', args: finetune(RUN.noCheckpoint), message: /run 5 has no checkpoint \(status stopped\), so it has no weights to fine-tune/ },
    { area: 'finetune', input: 'a run whose checkpoint holds NaN weights', args: finetune(RUN.nan), message: /run 2 cannot be fine-tuned: its checkpoint at step 4 is unusable \(weight wte holds NaN at index 2\)/ },
    { area: 'finetune', input: 'a checkpoint with a flipped byte', args: finetune(RUN.damagedCheckpoint), message: /run 3 cannot be fine-tuned: its checkpoint at step 4 is unusable \(checkpoint is damaged/ },
    { area: 'finetune', input: 'a run still training', args: finetune(RUN.owned), message: /run 4 is running; fine-tune it once it has finished or been stopped/ },
    { area: 'finetune', input: 'a run whose stored row is damaged', args: finetune(RUN.damagedRow), message: /run 7 cannot be fine-tuned: its stored record is damaged/ },
    { area: 'finetune', input: '--block no longer than the parent\'s', args: ['finetune', String(RUN.changedData), '--block', '16', '--steps', '5', '--db', dbPath], message: /the new block must be longer than run 6's block 16 \(fine-tuning extends the context\), got 16/ },
    { area: 'finetune', input: '--block 0.5x', args: ['finetune', String(RUN.changedData), '--block', '0.5x', '--steps', '5', '--db', dbPath], message: /--block: expected a length or a multiple of the parent's block \(e\.g\. 2x\), got "0\.5x"/ },
    { area: 'finetune', input: 'a learned table (new rows would start untrained)', args: finetune(RUN.changedData), message: /run 6 uses learned positions, whose pos\.\w+ is \[16,16\] at block 16 and would be \[32,16\] at block 32/ },
    { area: 'finetune', input: '--rope-scaling on a learned run', args: finetune(RUN.changedData, '--rope-scaling', 'pi'), message: /--rope-scaling applies to rope runs only; run 6 uses the learned scheme/ },
    { area: 'finetune', input: '--rope-scaling linear', args: finetune(RUN.changedData, '--rope-scaling', 'linear'), message: /--rope-scaling.*linear.*none, pi, ntk, yarn/ },
    { area: 'finetune', input: '--steps 0', args: ['finetune', '6', '--block', '32', '--steps', '0', '--db', dbPath], message: /--steps: expected a positive decimal integer, got "0"/ },
    { area: 'finetune', input: '--lr=0', args: finetune(RUN.changedData, '--lr=0'), message: /--lr: expected a positive decimal number, got "0"/ },
    { area: 'finetune', input: 'no --block', args: ['finetune', '6', '--steps', '5', '--db', dbPath], message: /required option '--block <n\|kx>' not specified/ },
  );
  for (const command of [['runs'], ['export', '1'], ['resume', '1'], ['eval-length', '1'], ['train'], ['sweep', '--pos', 'rope']])
    list.push({ area: 'foreign database', input: `${command[0]} on another application's SQLite file`, args: [...command, '--db', foreignDb], message: /is another application's SQLite database \(tables contacts\), not GPT Lab's; it was left unchanged/ });
  return list;
}

/** A JS stack frame ("    at fn (file:1:2)") or a native abort in what the user sees. */
const STACK = /\n\s+at .+:\d+:\d+|Aborted\(\)|Build with -s/;

interface Seen {
  code: number;
  stderr: string;
  stdout: string;
}

async function cli(args: string[]): Promise<Seen> {
  let stderr = '';
  let stdout = '';
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  try {
    const code = await runCli(['node', 'gpt-lab', ...args]);
    return { code, stderr, stdout };
  } finally {
    err.mockRestore();
    out.mockRestore();
    process.exitCode = undefined;
  }
}

const snapshot = (path: string): string | null => (existsSync(path) ? readFileSync(path).toString('base64') : null);
const outcomes = new Outcomes();

describe('the CLI refuses bad input with exit 2 and a clear message, writing nothing', () => {
  const CASES = cases();
  beforeAll(() => {
    prepareFixtures();
    symlinkSync(dbPath, join(dir, 'link.db'));
    linkSync(dbPath, join(dir, 'hard.db'));
  });

  it('has at least 150 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(150);
  });

  for (const c of CASES) {
    it(`${c.area}: ${c.input}`, async () => {
      const watched = [dbPath, foreignDb, text, absent];
      const before = watched.map(snapshot);
      const seen = await cli(c.args);
      expect(seen.code, `exit code; stderr: ${seen.stderr}`).toBe(2);
      expect(seen.stderr).toMatch(c.message);
      expect(seen.stderr).not.toMatch(STACK);
      expect(seen.stdout, 'nothing reported as done').toBe('');
      expect(watched.map(snapshot)).toEqual(before);
      outcomes.add(c.area, c.input, seen.stderr.trim().replaceAll(dir, '<tmp>').split('\n').join(' / ').slice(0, 220));
    });
  }

  it('docs/RELIABILITY.md lists every case', () => {
    syncDocTable('cli-bad-input-table', ['area', 'bad input', 'what the user is told (exit code 2)'], outcomes.rows);
  });
});
