/**
 * The web API's bad-input matrix (issue 22), against the real server and LabService in web mode (data restricted to
 * builtins, uploaded texts and one data folder): every case is answered 4xx with a message naming what is wrong,
 * none is accepted, no answer carries a stack trace, no run is created and no file changes. The service keeps
 * answering after each. Rows: docs/RELIABILITY.md's web-bad-input-table.
 */
import Database from 'better-sqlite3';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabService } from '../../src/service/labService';
import { startServer, type RunningServer } from '../../src/server/server';
import type { CallResult } from '../../src/shared/api';
import { RunStore } from '../../src/store';
import { processStartTime } from '../../src/store/owner';
import { Outcomes, syncDocTable } from './docTable';

const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-web-input-'));
const dbPath = join(dir, 'runs.db');
const dataDir = join(dir, 'data');
const secret = join(dir, 'secret.txt');
let service: LabService;
let server: RunningServer;
let sleeper: ChildProcess;
/** A run a live CLI (here: a sleeping child standing in for one) is training: the first run of the database. */
const ownedRun = 1;

beforeAll(async () => {
  mkdirSync(join(dataDir, 'sub'), { recursive: true });
  writeFileSync(secret, 'root:$6$not-for-the-api\n'.repeat(10));
  writeFileSync(join(dataDir, 'ok.txt'), 'a short text that is fine to train on. '.repeat(30));
  writeFileSync(join(dataDir, 'file'), 'a file, not a folder');
  writeFileSync(join(dataDir, 'empty.txt'), '');
  writeFileSync(join(dataDir, 'binary.bin'), Buffer.from([0x68, 0, 1, 2, 0, 0x69]));
  writeFileSync(join(dataDir, 'latin1.txt'), Buffer.from([0x68, 0x69, 0xff, 0xfe, 0x21]));
  symlinkSync(secret, join(dataDir, 'escape.txt'));
  symlinkSync(join(dataDir, 'loop-a'), join(dataDir, 'loop-b'));
  symlinkSync(join(dataDir, 'loop-b'), join(dataDir, 'loop-a'));
  execFileSync('mkfifo', [join(dataDir, 'fifo')]);
  const wide = Array.from({ length: 200_000 }, (_, i) => String.fromCodePoint(0x4e00 + i + (0x4e00 + i >= 0xd800 ? 0x800 : 0))).join('');
  writeFileSync(join(dataDir, 'wide.txt'), wide + wide);

  const store = RunStore.open(dbPath);
  expect(store.createRun({ name: 'trained by a CLI', config: { data: 'builtin:copy' }, dataSource: 'builtin:copy', status: 'running' })).toBe(ownedRun);
  store.close();
  sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
  const raw = new Database(dbPath);
  raw.prepare('UPDATE runs SET owner_pid = ?, owner_tag = ? WHERE id = ?').run(sleeper.pid, `${hostname()}/${processStartTime(sleeper.pid!)}`, ownedRun);
  raw.close();

  service = new LabService({ dbPath, backend: 'wasm', echoHostStderr: false, webData: { dataDir } });
  server = await startServer({ service });
});

afterAll(async () => {
  sleeper?.kill();
  await server?.close();
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface WebCase {
  area: string;
  input: string;
  call: string;
  body: unknown;
  /** 400 unless said. */
  status?: number;
  message: RegExp;
}

/** Each setting's range (as validateConfig has it) and whether it counts. */
const FIELDS: [field: string, min: number, max: number, integer: boolean][] = [
  ['nLayer', 1, 48, true],
  ['nHead', 1, 64, true],
  ['nEmbd', 2, 4096, true],
  ['blockSize', 1, 4096, true],
  ['batchSize', 1, 4096, true],
  ['steps', 1, 10_000_000, true],
  ['lr', 0, 10, false],
  ['minLr', 0, 10, false],
  ['weightDecay', 0, 10, false],
  ['beta1', 0, 0.999999, false],
  ['beta2', 0, 0.999999, false],
  ['gradClip', 0, 1e6, false],
  ['dropoutEmbd', 0, 0.95, false],
  ['dropoutAttn', 0, 0.95, false],
  ['dropoutResid', 0, 0.95, false],
  ['seed', 0, 2 ** 31 - 1, true],
  ['threads', 1, 16, true],
  ['evalEvery', 0, 10_000_000, true],
  ['evalBatches', 1, 1000, true],
  ['sampleEvery', 0, 10_000_000, true],
  ['sampleLength', 1, 10_000, true],
  ['checkpointEvery', 0, 10_000_000, true],
  ['valFraction', 0.01, 0.5, false],
  ['warmupSteps', 0, 10_000_000, true],
];

const TINY = { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 8, steps: 5 };
const start = (config: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ config: { ...TINY, ...config }, ...extra });
const data = (source: string) => start({ data: source });

function cases(): WebCase[] {
  const list: WebCase[] = [];
  for (const [field, min, max, integer] of FIELDS) {
    const below = min === 0 ? -1 : min - (integer ? 1 : min / 2);
    const range = new RegExp(`${field}: must be in \\[`);
    // threads also takes "auto", so zod reports a failed union there rather than the expected type.
    const wrongType = (received: string) =>
      new RegExp(field === 'threads' ? `config\\.threads: Invalid input` : `config\\.${field}: Invalid input: expected number, received ${received}`);
    list.push(
      { area: 'config range', input: `${field} ${below} (below ${min})`, call: 'startRun', body: start({ [field]: below }), message: range },
      { area: 'config range', input: `${field} ${max * 2 + 1} (above ${max})`, call: 'startRun', body: start({ [field]: max * 2 + 1 }), message: range },
      { area: 'config type', input: `${field} "1" (a string)`, call: 'startRun', body: start({ [field]: '1' }), message: wrongType('string') },
      { area: 'config type', input: `${field} true`, call: 'startRun', body: start({ [field]: true }), message: wrongType('boolean') },
    );
    if (field !== 'warmupSteps') list.push({ area: 'config type', input: `${field} null (JSON for NaN/Infinity)`, call: 'startRun', body: start({ [field]: null }), message: wrongType('null') });
    if (integer) list.push({ area: 'config integer', input: `${field} 1.5`, call: 'startRun', body: start({ [field]: 1.5 }), message: new RegExp(`${field}: must be an integer in \\[`) });
  }
  list.push(
    { area: 'config', input: 'pos "bogus"', call: 'startRun', body: start({ pos: 'bogus' }), message: /pos: must be one of none, integer/ },
    { area: 'config', input: 'norm "sideways"', call: 'startRun', body: start({ norm: 'sideways' }), message: /config\.norm: Invalid option/ },
    { area: 'config', input: 'normType "batch"', call: 'startRun', body: start({ normType: 'batch' }), message: /config\.normType: Invalid option/ },
    { area: 'config', input: 'preset "huge"', call: 'startRun', body: start({ preset: 'huge' }), message: /config\.preset: Invalid option/ },
    { area: 'config', input: 'causal "yes"', call: 'startRun', body: start({ causal: 'yes' }), message: /config\.causal: Invalid input: expected boolean/ },
    { area: 'config', input: 'unknown setting learningRate', call: 'startRun', body: start({ learningRate: 1 }), message: /learningRate: is not a known setting/ },
    { area: 'config', input: 'rope base 1', call: 'startRun', body: start({ pos: 'rope', posOptions: { base: 1 } }), message: /posOptions\.base: must be in \[2/ },
    { area: 'config', input: 'a knob of another scheme', call: 'startRun', body: start({ pos: 'alibi', posOptions: { base: 100 } }), message: /posOptions\.base: is not a knob of alibi/ },
    { area: 'config', input: '5 heads for width 16', call: 'startRun', body: start({ nHead: 5 }), message: /nHead: must divide nEmbd \(16\)/ },
    { area: 'config', input: 'minLr above lr', call: 'startRun', body: start({ lr: 0.001, minLr: 0.01 }), message: /minLr: must not exceed lr/ },
    { area: 'config', input: 'warmup longer than the run', call: 'startRun', body: start({ warmupSteps: 50 }), message: /warmupSteps: must not exceed steps \(5\)/ },
    { area: 'config', input: 'threads above batch', call: 'startRun', body: start({ threads: 12 }), message: /threads: must not exceed batchSize \(8\)/ },
    { area: 'config', input: 'data of 4097 characters', call: 'startRun', body: start({ data: `builtin:${'x'.repeat(4089)}` }), message: /config\.data: Too big/ },
    { area: 'config', input: 'data "" (empty)', call: 'startRun', body: start({ data: '' }), message: /data: / },
    { area: 'config', input: 'validateConfig with five problems', call: 'validateConfig', body: { config: { nLayer: 0, lr: -1, seed: -1, steps: 0, batchSize: 0 } }, status: 200, message: /nLayer[\s\S]*lr[\s\S]*seed/ },
  );
  const outside = 'in web mode the data must be builtin:NAME, an uploaded text \\(text:<sha256>\\) or a file in the data folder';
  const notAllowed = new RegExp(`${outside} \\(.*\\); ".*" is outside it`);
  list.push(
    { area: 'data (web mode)', input: '/etc/passwd', call: 'startRun', body: data('/etc/passwd'), message: notAllowed },
    { area: 'data (web mode)', input: '/etc/shadow', call: 'startRun', body: data('/etc/shadow'), message: notAllowed },
    { area: 'data (web mode)', input: 'a file of the user outside the data folder', call: 'startRun', body: data(secret), message: notAllowed },
    { area: 'data (web mode)', input: '../secret.txt relative to the working directory', call: 'startRun', body: data('../../../../../../etc/passwd'), message: /data file path "\.\.\/.*" is relative: type an absolute path/ },
    { area: 'data (web mode)', input: '<data folder>/../secret.txt', call: 'startRun', body: data(join(dataDir, '..', 'secret.txt')), message: notAllowed },
    { area: 'data (web mode)', input: 'a symlink in the data folder pointing out of it', call: 'startRun', body: data(join(dataDir, 'escape.txt')), message: notAllowed },
    { area: 'data (web mode)', input: 'the data folder itself', call: 'startRun', body: data(dataDir), message: notAllowed },
    { area: 'data (web mode)', input: '/proc/self/pagemap', call: 'startRun', body: data('/proc/self/pagemap'), message: notAllowed },
    { area: 'data (web mode)', input: '/dev/zero', call: 'startRun', body: data('/dev/zero'), message: notAllowed },
    { area: 'data (web mode)', input: 'validateConfig on /proc/self/pagemap (used to crash the server)', call: 'validateConfig', body: { config: { data: '/proc/self/pagemap' } }, status: 200, message: notAllowed },
    { area: 'data (web mode)', input: 'validateConfig on /etc/shadow', call: 'validateConfig', body: { config: { data: '/etc/shadow' } }, status: 200, message: notAllowed },
    { area: 'data (web mode)', input: 'text:abc (not a sha256)', call: 'startRun', body: data('text:abc'), message: /"text:abc" is not an uploaded text: expected text: and 64 lowercase hex digits/ },
    { area: 'data (web mode)', input: 'an uploaded text that is not in the database', call: 'startRun', body: data(`text:${'ab'.repeat(32)}`), message: /no uploaded text text:abab.* in this lab's database/ },
    { area: 'data (web mode)', input: 'a NUL byte in a path inside the folder', call: 'startRun', body: data(`${join(dataDir, 'ok.txt')}\0.txt`), message: notAllowed },
    { area: 'data file', input: 'a path through a file (ENOTDIR)', call: 'startRun', body: data(join(dataDir, 'file', 'x.txt')), message: /cannot exist: a part of the path before its end is a file/ },
    { area: 'data file', input: 'a 5000-character name (ENAMETOOLONG)', call: 'startRun', body: data(join(dataDir, 'n'.repeat(4000))), message: /data file path is too long/ },
    { area: 'data file', input: 'a loop of symbolic links (ELOOP)', call: 'startRun', body: data(join(dataDir, 'loop-a')), message: /is a loop of symbolic links/ },
    { area: 'data file', input: 'a named pipe in the folder', call: 'startRun', body: data(join(dataDir, 'fifo')), message: /is not a regular file/ },
    { area: 'data file', input: 'a folder inside the data folder', call: 'startRun', body: data(join(dataDir, 'sub')), message: /is a directory, not a file/ },
    { area: 'data file', input: 'a missing file in the folder', call: 'startRun', body: data(join(dataDir, 'nope.txt')), message: /data file not found/ },
    { area: 'data file', input: 'an empty file', call: 'startRun', body: data(join(dataDir, 'empty.txt')), message: /is empty/ },
    { area: 'data file', input: 'a binary file', call: 'startRun', body: data(join(dataDir, 'binary.bin')), message: /looks like a binary file/ },
    { area: 'data file', input: 'not UTF-8', call: 'startRun', body: data(join(dataDir, 'latin1.txt')), message: /is not valid UTF-8 text/ },
    { area: 'data file', input: 'block larger than the data', call: 'startRun', body: start({ data: join(dataDir, 'ok.txt'), blockSize: 2048 }), message: /needs at least 2049/ },
    { area: 'data', input: 'builtin:nope', call: 'startRun', body: data('builtin:nope'), message: /unknown builtin corpus "nope"/ },
  );
  list.push(
    { area: 'memory', input: 'blockSize 4096 (attention B·H·T²)', call: 'startRun', body: start({ blockSize: 4096, batchSize: 32, nHead: 4, nEmbd: 64 }), message: /blockSize: the run needs about [\d.]+ GiB per training step but 4\.0 GiB is available/ },
    { area: 'memory', input: 'nEmbd 4096, 48 layers (parameters)', call: 'startRun', body: start({ nEmbd: 4096, nHead: 4, nLayer: 48 }), message: /nEmbd: the run needs about [\d.]+ GiB .* parameters/ },
    { area: 'memory', input: 'a 200 000-character vocabulary (logits B·T·V)', call: 'startRun', body: start({ data: join(dataDir, 'wide.txt'), blockSize: 64, batchSize: 32 }), message: /data: the run needs about [\d.]+ GiB .*vocabulary of 200,000/ },
    { area: 'memory', input: 'validateConfig with blockSize 4096', call: 'validateConfig', body: { config: { blockSize: 4096 } }, status: 200, message: /blockSize: the run needs about/ },
    { area: 'memory', input: 'a sweep whose cells do not fit', call: 'startSweep', body: { grid: { pos: ['rope', 'alibi'], norm: ['pre'], dropout: [0] }, config: { blockSize: 4096, nHead: 4, nEmbd: 64 } }, message: /the sweep has invalid runs; none were queued[\s\S]*the run needs about/ },
  );
  const preview = (pos: string, length: number, nEmbd: number, nHead: number, extra: Record<string, unknown> = {}) => ({ pos, length, nEmbd, nHead, ...extra });
  const tooMany = /length·nEmbd \+ nHead·length² must be at most 1,048,576 numbers/;
  list.push(
    { area: 'schemePreview', input: 'alibi 512 × 512 × 64 heads (a 295 MB answer before)', call: 'schemePreview', body: preview('alibi', 512, 512, 64), message: tooMany },
    { area: 'schemePreview', input: 'alibi 512 × 64 × 8 heads', call: 'schemePreview', body: preview('alibi', 512, 64, 8), message: tooMany },
    { area: 'schemePreview', input: 't5 512 × 512 × 64 heads', call: 'schemePreview', body: preview('t5', 512, 512, 64), message: tooMany },
    { area: 'schemePreview', input: 'sinusoidal 512 × 512 × 4', call: 'schemePreview', body: preview('sinusoidal', 512, 512, 4), message: tooMany },
    { area: 'schemePreview', input: 'length 513', call: 'schemePreview', body: preview('alibi', 513, 16, 1), message: /length: Too big/ },
    { area: 'schemePreview', input: 'nEmbd 513', call: 'schemePreview', body: preview('sinusoidal', 8, 513, 1), message: /nEmbd: Too big/ },
    { area: 'schemePreview', input: 'nHead 65', call: 'schemePreview', body: preview('alibi', 8, 16, 65), message: /nHead: Too big/ },
    { area: 'schemePreview', input: 'length 0', call: 'schemePreview', body: preview('alibi', 0, 16, 1), message: /length: Too small/ },
    { area: 'schemePreview', input: 'length 1.5', call: 'schemePreview', body: preview('alibi', 1.5, 16, 1), message: /length: Invalid input: expected int/ },
    { area: 'schemePreview', input: 'pos "bogus"', call: 'schemePreview', body: preview('bogus', 8, 16, 1), message: /bogus/ },
    { area: 'schemePreview', input: 'an extra field', call: 'schemePreview', body: preview('alibi', 8, 16, 1, { huge: true }), message: /Unrecognized key: "huge"/ },
  );
  const name201 = 'x'.repeat(201);
  const grid = { pos: ['rope'], norm: ['pre'], dropout: [0] };
  list.push(
    { area: 'names', input: 'renameRun ""', call: 'renameRun', body: { runId: ownedRun, name: '' }, message: /name: must not be empty/ },
    { area: 'names', input: 'renameRun "   "', call: 'renameRun', body: { runId: ownedRun, name: '   ' }, message: /name: must not be empty/ },
    { area: 'names', input: 'renameRun of 201 characters', call: 'renameRun', body: { runId: ownedRun, name: name201 }, message: /name: must be at most 200 characters/ },
    { area: 'names', input: 'renameRun of 10 000 characters', call: 'renameRun', body: { runId: ownedRun, name: 'y'.repeat(10_000) }, message: /name: must be at most 200 characters/ },
    { area: 'names', input: 'renameRun with a number', call: 'renameRun', body: { runId: ownedRun, name: 5 }, message: /name: Invalid input: expected string/ },
    { area: 'names', input: 'startRun name of 201 characters', call: 'startRun', body: start({}, { name: name201 }), message: /name: must be at most 200 characters/ },
    { area: 'names', input: 'startRun name ""', call: 'startRun', body: start({}, { name: '' }), message: /name: must not be empty/ },
    { area: 'names', input: 'startSweep name of 201 characters', call: 'startSweep', body: { grid, config: TINY, name: name201 }, message: /name: must be at most 200 characters/ },
    { area: 'sweep', input: 'a 75-run grid', call: 'startSweep', body: { grid: { pos: ['rope', 'alibi', 't5', 'learned', 'none'], norm: ['pre', 'post', 'none'], dropout: [0, 0.1, 0.2, 0.3, 0.4] }, config: TINY }, message: /the grid makes 75 runs \(5 × 3 × 5\); at most 64 per sweep/ },
    { area: 'sweep', input: 'a 65-run grid', call: 'startSweep', body: { grid: { pos: Array(13).fill('rope'), norm: ['pre'], dropout: [0, 0.1, 0.2, 0.3, 0.4] }, config: TINY }, message: /the grid makes 65 runs/ },
    { area: 'sweep', input: 'no schemes', call: 'startSweep', body: { grid: { ...grid, pos: [] }, config: TINY }, message: /grid\.pos: Too small/ },
    { area: 'sweep', input: 'dropout 0.96', call: 'startSweep', body: { grid: { ...grid, dropout: [0.96] }, config: TINY }, message: /grid\.dropout\.0: Too big/ },
    { area: 'sweep', input: 'norm "x"', call: 'startSweep', body: { grid: { ...grid, norm: ['x'] }, config: TINY }, message: /grid\.norm\.0: Invalid option/ },
    { area: 'sweep', input: 'a scheme that does not exist', call: 'startSweep', body: { grid: { ...grid, pos: ['rope', 'nope'] }, config: TINY }, message: /the sweep has invalid runs; none were queued[\s\S]*nope/ },
    { area: 'sweep', input: 'data outside the data folder', call: 'startSweep', body: { grid, config: { ...TINY, data: '/etc/passwd' } }, message: /is outside it/ },
  );
  list.push(
    { area: 'ownership', input: 'deleteRun of a run a live CLI is training', call: 'deleteRun', body: { runId: ownedRun }, status: 409, message: /run \d+ is running in process \d+ \(a CLI or another GPT Lab\); stop it there before deleting it/ },
    { area: 'ownership', input: 'resumeRun of a run a live CLI is training', call: 'resumeRun', body: { runId: ownedRun }, status: 409, message: /cannot be continued: it is running/ },
    { area: 'ownership', input: 'stopRun of a run another process trains', call: 'stopRun', body: { runId: ownedRun }, status: 409, message: /is not running/ },
  );
  for (const [call, extra] of [['getRun', {}], ['deleteRun', {}], ['metrics', {}], ['samples', {}], ['resumeRun', {}]] as [string, object][])
    for (const [label, id] of [['0', 0], ['-1', -1], ['1.5', 1.5], ['"1"', '1'], ['null', null], ['2^60', 2 ** 60]] as [string, unknown][])
      list.push({ area: 'run id', input: `${call} runId ${label}`, call, body: { runId: id, ...extra }, message: /runId: / });
  list.push(
    { area: 'run id', input: 'getRun 999999', call: 'getRun', body: { runId: 999_999 }, status: 404, message: /run 999999 does not exist/ },
    { area: 'analysis', input: 'metrics sinceStep 1.5', call: 'metrics', body: { runId: ownedRun, sinceStep: 1.5 }, message: /sinceStep: Invalid input: expected int/ },
    { area: 'analysis', input: 'evalLength lengths [0]', call: 'evalLength', body: { runId: ownedRun, lengths: [0] }, message: /lengths\.0: Too small/ },
    { area: 'analysis', input: 'evalLength lengths [65537]', call: 'evalLength', body: { runId: ownedRun, lengths: [65_537] }, message: /lengths\.0: Too big/ },
    { area: 'analysis', input: 'evalLength 17 lengths', call: 'evalLength', body: { runId: ownedRun, lengths: Array.from({ length: 17 }, (_, i) => i + 1) }, message: /lengths: Too big/ },
    { area: 'analysis', input: 'taskLength sizes [1001]', call: 'taskLength', body: { runId: ownedRun, sizes: [1001] }, message: /sizes\.0: Too big/ },
    { area: 'analysis', input: 'probe text of 10 001 characters', call: 'probe', body: { runId: null, kind: 'equivariance', text: 'a'.repeat(10_001) }, message: /text: Too big/ },
    { area: 'analysis', input: 'latestEvals with 65 run ids', call: 'latestEvals', body: { runIds: Array.from({ length: 65 }, (_, i) => i + 1) }, message: /runIds: Too big/ },
    { area: 'analysis', input: 'exportRun format "xml"', call: 'exportRun', body: { runId: ownedRun, format: 'xml' }, message: /format: Invalid option/ },
    { area: 'analysis', input: 'runRecipe "nope"', call: 'runRecipe', body: { name: 'nope', quick: true }, status: 404, message: /no recipe named "nope"/ },
    { area: 'analysis', input: 'runRecipe name of 65 characters', call: 'runRecipe', body: { name: 'r'.repeat(65), quick: true }, message: /name: Too big/ },
  );
  return list;
}

/** A stack frame or a source location in what a client is shown. */
const STACK = /\n\s+at |\bat .+\.ts:\d+|node:internal/;

async function call(name: string, body: unknown): Promise<{ status: number; result: CallResult }> {
  const response = await fetch(`${server.url}/api/${name}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, result: (await response.json()) as CallResult };
}

const snapshot = (path: string): string | null => (existsSync(path) ? readFileSync(path).toString('base64') : null);
const outcomes = new Outcomes();

describe('the web API refuses bad input with a 4xx and a clear message; nothing is created or changed', () => {
  const CASES = cases();

  it('has at least 150 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(150);
  });

  for (const c of CASES) {
    it(`${c.area}: ${c.input}`, async () => {
      const watched = [secret, join(dataDir, 'ok.txt')];
      const before = watched.map(snapshot);
      const runsBefore = (await service.listRuns()).length;
      const { status, result } = await call(c.call, c.body);
      expect(status, JSON.stringify(result)).toBe(c.status ?? 400);
      // validateConfig answers 200 with the problems listed and no config: refused all the same.
      const message = result.ok ? (result.value as { problems: { field: string; message: string }[]; config: unknown }).problems.map((p) => `${p.field}: ${p.message}`).join('\n') : result.error.message;
      if (result.ok) expect((result.value as { config: unknown }).config).toBeNull();
      expect(message).toMatch(c.message);
      expect(message).not.toMatch(STACK);
      expect((await service.listRuns()).length).toBe(runsBefore);
      expect(watched.map(snapshot)).toEqual(before);
      outcomes.add(c.area, c.input, `${status} ${result.ok ? 'problems' : result.error.code}: ${message.replaceAll(dir, '<tmp>').split('\n').join(' / ').slice(0, 200)}`);
    });
  }

  it('still answers afterwards, and the run another process owns is intact', async () => {
    const { result } = await call('getRun', { runId: ownedRun });
    expect(result.ok && (result.value as { status: string }).status).toBe('running');
  });

  it('docs/RELIABILITY.md lists every case', () => {
    syncDocTable('web-bad-input-table', ['area', 'bad request', 'what the client is told'], outcomes.rows);
  });
});
