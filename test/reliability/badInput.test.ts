/**
 * The bad-input table (issue 9): every case must be refused with a message naming what is wrong, and leave
 * nothing written. The rows double as docs/RELIABILITY.md's bad-input table, which this test keeps in sync
 * (set UPDATE_DOCS=1 to rewrite it).
 */
import Database from 'better-sqlite3';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig, type RunConfig } from '../../src/engine/config';
import { buildCorpus } from '../../src/engine/data/corpus';
import { decodeCheckpoint } from '../../src/engine/train/checkpoint';
import { readDataFile } from '../../src/lab/dataFile';
import { RunStore } from '../../src/store';
import { APPLICATION_ID } from '../../src/store/schema';

const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;
function file(contents: string | Buffer): string {
  const path = join(dir, `f${fileCount++}`);
  writeFileSync(path, contents);
  return path;
}

interface Case {
  area: string;
  input: string;
  /** Throws (or returns a CLI result) for the bad input. */
  attempt: () => unknown;
  message: RegExp;
  /** Files that must be byte-for-byte unchanged (or still absent) afterwards. */
  untouched?: string[];
}

/** A FIFO nobody writes to: reading it would block forever. */
function fifo(): string {
  const path = join(dir, `fifo${fileCount++}`);
  execFileSync('mkfifo', [path]);
  return path;
}

const config = (overrides: Record<string, unknown>) => () => resolveConfig(overrides as Partial<RunConfig>);

function cli(args: string[]): () => void {
  return () => {
    const result = spawnSync(process.execPath, ['bin/gpt-lab.mjs', ...args], { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 2) throw new Error(`expected exit 2, got ${result.status}: ${result.stderr}`);
    throw new Error(result.stderr.trim());
  };
}

const dbDir = join(dir, 'dbs');
mkdirSync(dbDir);
const absentDb = join(dbDir, 'absent.db');
const textDb = file('notes, not a database\n');
const corruptDb = file(Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4096, 0xab)]));
const newerDb = join(dbDir, 'newer.db');
const lockedDb = join(dbDir, 'locked.db');

const CASES: Case[] = [
  { area: 'config', input: 'nLayer 0', attempt: config({ nLayer: 0 }), message: /nLayer: must be in \[1, 48\], got 0/ },
  { area: 'config', input: 'nLayer 1.5', attempt: config({ nLayer: 1.5 }), message: /nLayer: must be an integer/ },
  { area: 'config', input: 'nLayer "3" (a string)', attempt: config({ nLayer: '3' }), message: /nLayer: must be an integer .* got "3"/ },
  { area: 'config', input: '5 heads for width 48', attempt: config({ nHead: 5, nEmbd: 48 }), message: /nHead: must divide nEmbd \(48\)/ },
  { area: 'config', input: 'nEmbd 0', attempt: config({ nEmbd: 0 }), message: /nEmbd: must be in/ },
  { area: 'config', input: 'blockSize 0', attempt: config({ blockSize: 0 }), message: /blockSize: must be in \[1, 4096\]/ },
  { area: 'config', input: 'blockSize 100000', attempt: config({ blockSize: 100000 }), message: /blockSize: must be in \[1, 4096\], got 100000/ },
  { area: 'config', input: 'batchSize 0', attempt: config({ batchSize: 0 }), message: /batchSize: must be in/ },
  { area: 'config', input: 'steps −1', attempt: config({ steps: -1 }), message: /steps: must be in/ },
  { area: 'config', input: 'lr −1', attempt: config({ lr: -1 }), message: /lr: must be in \[0, 10\]/ },
  { area: 'config', input: 'lr NaN', attempt: config({ lr: NaN }), message: /lr: must be a number/ },
  { area: 'config', input: 'minLr above lr', attempt: config({ lr: 1e-3, minLr: 1e-2 }), message: /minLr: must not exceed lr/ },
  { area: 'config', input: 'dropoutResid 1.5', attempt: config({ dropoutResid: 1.5 }), message: /dropoutResid: must be in \[0, 0.95\]/ },
  { area: 'config', input: 'dropoutAttn −0.1', attempt: config({ dropoutAttn: -0.1 }), message: /dropoutAttn: must be in/ },
  { area: 'config', input: 'unknown scheme', attempt: config({ pos: 'bogus' }), message: /pos: must be one of none, integer, .*alibi/ },
  { area: 'config', input: 'unknown norm placement', attempt: config({ norm: 'sideways' }), message: /norm: must be one of pre, post, none/ },
  { area: 'config', input: 'unknown norm type', attempt: config({ normType: 'batch' }), message: /normType: must be one of layer, rms/ },
  { area: 'config', input: 'knob of another scheme', attempt: config({ pos: 'alibi', posOptions: { base: 100 } }), message: /posOptions.base: is not a knob of alibi/ },
  { area: 'config', input: 'rope with an odd head size', attempt: config({ pos: 'rope', nEmbd: 12, nHead: 4 }), message: /rope needs an even head size/ },
  { area: 'config', input: 't5 maxDistance ≤ buckets/2', attempt: config({ pos: 't5', posOptions: { buckets: 32, maxDistance: 16 } }), message: /maxDistance: must exceed half the buckets/ },
  { area: 'config', input: 'rope base 1', attempt: config({ pos: 'rope', posOptions: { base: 1 } }), message: /posOptions.base: must be in \[2/ },
  { area: 'config', input: 'weightDecay −1', attempt: config({ weightDecay: -1 }), message: /weightDecay: must be in/ },
  { area: 'config', input: 'beta1 1', attempt: config({ beta1: 1 }), message: /beta1: must be in/ },
  { area: 'config', input: 'gradClip −1', attempt: config({ gradClip: -1 }), message: /gradClip: must be in/ },
  { area: 'config', input: 'seed −5', attempt: config({ seed: -5 }), message: /seed: must be in/ },
  { area: 'config', input: 'warmup longer than the run', attempt: config({ steps: 10, warmupSteps: 20 }), message: /warmupSteps: must not exceed steps \(10\)/ },
  { area: 'config', input: 'unknown setting', attempt: config({ learningRate: 1 }), message: /learningRate: is not a known setting/ },
  { area: 'config', input: 'unknown preset', attempt: () => resolveConfig({ preset: 'huge' as never }), message: /preset: must be one of nano, micro, mini/ },
  { area: 'config', input: 'valFraction 0.9', attempt: config({ valFraction: 0.9 }), message: /valFraction: must be in \[0.01, 0.5\]/ },
  { area: 'config', input: 'evalEvery −1', attempt: config({ evalEvery: -1 }), message: /evalEvery: must be in/ },
  { area: 'config', input: 'causal "yes"', attempt: config({ causal: 'yes' }), message: /causal: must be true or false/ },
  { area: 'config', input: 'five problems at once', attempt: config({ nLayer: 0, lr: -1, pos: 'x', norm: 'y', seed: -1 }), message: /nLayer[\s\S]*lr[\s\S]*seed[\s\S]*norm[\s\S]*pos/ },
  { area: 'data file', input: 'missing file', attempt: () => readDataFile(join(dir, 'nope.txt')), message: /data file not found/ },
  { area: 'data file', input: 'a directory', attempt: () => readDataFile(dir), message: /directory/ },
  { area: 'data file', input: 'empty file', attempt: () => readDataFile(file('')), message: /empty/ },
  { area: 'data file', input: 'whitespace only', attempt: () => readDataFile(file(' \n\t \n')), message: /empty/ },
  { area: 'data file', input: 'binary (NUL bytes)', attempt: () => readDataFile(file(Buffer.from([0x68, 0x00, 0x01, 0x02, 0x00, 0x69]))), message: /binary/ },
  { area: 'data file', input: 'not UTF-8', attempt: () => readDataFile(file(Buffer.from([0x68, 0x69, 0xff, 0xfe, 0x21]))), message: /UTF-8/ },
  { area: 'data file', input: 'larger than the limit', attempt: () => readDataFile(file('x'.repeat(2048)), { maxBytes: 1024 }), message: /limit/ },
  { area: 'data file', input: 'a named pipe', attempt: () => readDataFile(fifo()), message: /not a regular file/ },
  { area: 'data file', input: 'mostly control characters', attempt: () => readDataFile(file('\u0001\u0002\u0003abc\u0004\u0005'.repeat(20))), message: /binary/ },
  { area: 'data', input: 'block larger than the data', attempt: () => buildCorpus({ source: 'small.txt', text: 'hello world, a short text', blockSize: 64 }), message: /--block 64 needs at least 65/ },
  { area: 'data', input: 'unknown builtin corpus', attempt: () => buildCorpus({ source: 'builtin:nope', blockSize: 8 }), message: /toy-english/ },
  { area: 'database', input: 'a text file', attempt: () => RunStore.open(textDb), message: /is not a GPT Lab database \(not SQLite\)/, untouched: [textDb] },
  { area: 'database', input: 'corrupt pages after a valid header', attempt: () => RunStore.open(corruptDb), message: /corrupt|not a database|malformed/i, untouched: [corruptDb] },
  { area: 'database', input: 'from a newer schema version', attempt: () => RunStore.open(newerDb), message: /newer GPT Lab \(schema v99, this build knows v\d\)/, untouched: [newerDb] },
  { area: 'database', input: 'a directory', attempt: () => RunStore.open(dbDir), message: /is a directory/ },
  { area: 'database', input: 'locked by another process', attempt: () => RunStore.open(lockedDb), message: /locked by another process/ },
  { area: 'database', input: 'missing, for a reading command', attempt: () => RunStore.open(absentDb, { mustExist: true }), message: /no GPT Lab database at/, untouched: [absentDb] },
  { area: 'checkpoint', input: 'truncated bytes', attempt: () => decodeCheckpoint(new Uint8Array([10, 0, 0, 0, 123])), message: /truncated/ },
  { area: 'CLI', input: 'unknown option --frobnicate', attempt: cli(['train', '--frobnicate', '--db', absentDb]), message: /unknown option '--frobnicate'/, untouched: [absentDb] },
  { area: 'CLI', input: '--layers abc', attempt: cli(['train', '--layers', 'abc', '--db', absentDb]), message: /--layers: expected a decimal integer, got "abc"/, untouched: [absentDb] },
  { area: 'CLI', input: '--threads 12 --batch 8', attempt: cli(['train', '--threads', '12', '--batch', '8', '--db', absentDb]), message: /--threads: must not exceed batchSize \(8\)/, untouched: [absentDb] },
  { area: 'CLI', input: '--pos-scale with --pos rope', attempt: cli(['train', '--pos', 'rope', '--pos-scale', '2', '--db', absentDb]), message: /--pos-scale: applies to --pos integer or binary/, untouched: [absentDb] },
  { area: 'CLI', input: 'eval-length --lengths 32,,x', attempt: cli(['eval-length', '1', '--lengths', '32,,x', '--db', absentDb]), message: /--lengths: expected positive integers/, untouched: [absentDb] },
  { area: 'CLI', input: 'task-length 1 --examples 0', attempt: cli(['task-length', '1', '--examples', '0', '--db', absentDb]), message: /--examples: expected an integer from 1 to 10000, got "0"/, untouched: [absentDb] },
  { area: 'CLI', input: 'probe --kind bogus', attempt: cli(['probe', '--kind', 'bogus']), message: /--kind: must be one of attention/ },
  { area: 'CLI', input: 'recipe run nope', attempt: cli(['recipe', 'run', 'nope', '--db', absentDb]), message: /unknown recipe "nope"/, untouched: [absentDb] },
  { area: 'CLI', input: 'sweep --pos rope,,alibi', attempt: cli(['sweep', '--pos', 'rope,,alibi', '--db', absentDb]), message: /--pos: empty entry/, untouched: [absentDb] },
];

function prepareDatabases(): void {
  const newer = new Database(newerDb);
  newer.pragma(`application_id = ${APPLICATION_ID}`);
  newer.pragma('user_version = 99');
  newer.close();
  RunStore.open(lockedDb).close();
}

const snapshot = (path: string): string | null => (existsSync(path) ? readFileSync(path).toString('base64') : null);

describe('bad input is refused with a message naming what is wrong, and nothing is written', () => {
  prepareDatabases();
  const seen: { area: string; input: string; message: string }[] = [];

  it('the table has at least 50 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50);
  });

  for (const c of CASES) {
    it(`${c.area}: ${c.input}`, () => {
      const before = (c.untouched ?? []).map(snapshot);
      const holder = c.input === 'locked by another process' ? new Database(lockedDb) : null;
      // An exclusive-mode writer mid-transaction shuts out even WAL readers, as another process mid-write would.
      holder?.pragma('locking_mode = EXCLUSIVE');
      holder?.exec('BEGIN EXCLUSIVE');
      holder?.exec("INSERT INTO runs (name, status, config_json, data_source, created_at) VALUES ('x', 'queued', '{}', 'd', 0)");
      try {
        let message = '';
        try {
          c.attempt();
        } catch (error) {
          message = error instanceof Error ? error.message : String(error);
        }
        expect(message, 'the bad input must be refused').not.toBe('');
        expect(message).toMatch(c.message);
        seen.push({ area: c.area, input: c.input, message: message.split('\n').join(' / ') });
      } finally {
        holder?.exec('ROLLBACK');
        holder?.close();
      }
      expect((c.untouched ?? []).map(snapshot)).toEqual(before);
    });
  }

  it('docs/RELIABILITY.md lists every case', () => {
    const docPath = 'docs/RELIABILITY.md';
    const rows = CASES.map((c) => `| ${c.area} | ${c.input} | ${(seen.find((s) => s.input === c.input && s.area === c.area)?.message ?? '').replaceAll('|', '\\|').slice(0, 160)} |`);
    const table = ['| area | bad input | what the user is told |', '|---|---|---|', ...rows].join('\n');
    const begin = '<!-- bad-input-table:begin -->';
    const end = '<!-- bad-input-table:end -->';
    const doc = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '';
    const updated = doc.includes(begin) ? doc.replace(new RegExp(`${begin}[\\s\\S]*${end}`), `${begin}\n${table}\n${end}`) : `${doc}\n${begin}\n${table}\n${end}\n`;
    if (process.env.UPDATE_DOCS === '1') writeFileSync(docPath, updated);
    for (const c of CASES) expect(readFileSync(docPath, 'utf8'), `docs/RELIABILITY.md lacks "${c.input}"`).toContain(`| ${c.area} | ${c.input} |`);
  });
});

