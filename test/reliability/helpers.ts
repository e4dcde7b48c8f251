/** What the reliability tests share: tiny run configs, waiting for events, reading a database, the web app in a child. */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { LabService } from '../../src/service/labService';
import type { CallResult, ConfigOverrides, LabEvent } from '../../src/shared/api';
export { nextEvent } from '../helpers/events';

/** One layer, 16 wide, block 16, batch 8: a step takes a few milliseconds on wasm. */
export const TINY: ConfigOverrides = { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 8, evalEvery: 10, evalBatches: 1, sampleEvery: 0, checkpointEvery: 10 };

export function tiny(steps: number, extra: ConfigOverrides = {}): ConfigOverrides {
  return { ...TINY, steps, ...extra };
}

/**
 * Settings that blow up within two steps (gradient norm → Infinity): no norm, integer positions scaled ×1000 added
 * to the embeddings, learning rate 10 with no warmup, decay or clipping. Deterministic for a seed.
 */
export const DIVERGING: ConfigOverrides = {
  data: 'builtin:copy',
  nLayer: 2,
  nHead: 2,
  nEmbd: 32,
  blockSize: 16,
  batchSize: 8,
  steps: 30,
  lr: 10,
  minLr: 10,
  warmupSteps: 0,
  gradClip: 0,
  norm: 'none',
  pos: 'integer',
  posOptions: { scale: 1000 },
  evalEvery: 100,
  sampleEvery: 0,
};

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const statusIs = (runId: number, status: string) => (e: LabEvent) => e.channel === 'run:status' && e.payload.runId === runId && e.payload.status === status;

/** Polls until `check` returns a value other than undefined/false; throws after timeoutMs. */
export async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 60_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A query on a read-only connection of its own, as another process would see the file. */
export function readDb<T>(path: string, query: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return query(db);
  } finally {
    db.close();
  }
}

export { pidExists as isAlive } from '../../src/store/owner';

export interface MetricStep {
  step: number;
  loss: number | null;
}

export const storedMetrics = (db: string): MetricStep[] => readDb(db, (d) => d.prepare('SELECT step, train_loss AS loss FROM metrics ORDER BY run_id, step').all() as MetricStep[]);

/** `node --import tsx <script>`: TypeScript sources in a child process. */
export function tsxArgs(script: string, ...args: string[]): string[] {
  const tsx = createRequire(import.meta.url).resolve('tsx');
  return ['--import', pathToFileURL(tsx).href, script, ...args];
}

export interface WebApp {
  child: ChildProcess;
  url: string;
  token: string;
  exited: Promise<void>;
  call<T = unknown>(name: string, request?: unknown): Promise<CallResult<T>>;
}

/**
 * The web-mode app (fixtures/webApp.ts: runWebMode, as bin/start.mjs runs it) in a child process on `db`.
 * `detached` puts it in a process group of its own, so the test can kill it together with its training host.
 */
export async function startWebApp(db: string, { detached = false } = {}): Promise<WebApp> {
  const child = spawn(process.execPath, tsxArgs('test/reliability/fixtures/webApp.ts', db), { stdio: ['ignore', 'pipe', 'pipe'], detached });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the web app did not start: ${stderr}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.split('\n')[0]);
      }
    });
    child.once('exit', (code) => reject(new Error(`the web app exited with ${code}: ${stderr}`)));
  });
  const { url, token } = JSON.parse(line) as { url: string; token: string };
  const call = async <T>(name: string, request?: unknown): Promise<CallResult<T>> => {
    const response = await fetch(`${url}/api/${name}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: request === undefined ? '' : JSON.stringify(request),
    });
    return (await response.json()) as CallResult<T>;
  };
  return { child, url, token, exited, call };
}

/** The value of an ok CallResult; fails with the error's message otherwise. */
export function valueOf<T>(result: CallResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}
