/**
 * `gpt-lab sweep` locally and `gpt-lab sweep --queue` over three `gpt-lab worker` processes: the same six cells, the
 * same sweep keys and configs, identical losses (wasm, same seed), and the JSON names the worker of every cell. The
 * queued sweep's coordinator is killed with -9 after its first cell and started again: it re-attaches to the same
 * runs (one per sweep key) and collects the cells that finished while it was down.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../src/store';
import { startCli, stopCli, type CliProcess } from '../helpers/cli';
import { NO_REDIS_REASON, hasRedis, startRedis, type TestRedis } from '../helpers/redis';

const GRID = ['--pos', 'none,rope,alibi', '--norm', 'pre,post', '--data', 'builtin:copy', '--layers', '1', '--heads', '2', '--embd', '16', '--block', '8', '--batch', '4', '--steps', '40', '--eval-every', '20', '--sample-every', '0', '--checkpoint-every', '10', '--eval-lengths', '8,16', '--json'];

interface SweepJson {
  cells: { pos: string; norm: string; runId: number; sweepKey: string; worker: string | null; status: string; finalValLoss: number | null; eval: { results: { loss: number | null }[] } | null }[];
}

let dir: string;
let redis: TestRedis;
const workers: CliProcess[] = [];

async function sweep(db: string, extra: string[] = []): Promise<SweepJson> {
  const cli = startCli(['sweep', '--db', db, ...GRID, ...extra]);
  const code = await cli.exited;
  if (code !== 0) throw new Error(`sweep exited ${code}: ${cli.stderr().slice(-2000)}`);
  return JSON.parse(cli.stdout()) as SweepJson;
}

function storedRuns(db: string): { sweepKey: string | null; config: unknown; status: string; trainLosses: (number | null)[] }[] {
  const store = RunStore.open(db, { mustExist: true });
  try {
    return store.listRuns().map((run) => ({ sweepKey: run.sweepKey, config: run.config, status: run.status, trainLosses: store.metrics(run.id).map((m) => m.trainLoss) })).sort((a, b) => String(a.sweepKey).localeCompare(String(b.sweepKey)));
  } finally {
    store.close();
  }
}

describe.skipIf(!hasRedis)(`gpt-lab sweep --queue${hasRedis ? '' : ` (skipped: ${NO_REDIS_REASON})`}`, () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gpt-lab-sweep-queue-'));
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => stopCli(w)));
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('equals the local sweep of the same grid, through a coordinator killed and restarted', async () => {
    const names = ['w1', 'w2', 'w3'];
    workers.push(...names.map((name) => startCli(['worker', '--queue', redis.url, '--name', name])));
    const local = await sweep(join(dir, 'local.db'));
    await Promise.all(workers.map((w) => w.waitForStderr(/waiting for cells/)));

    const queuedDb = join(dir, 'queued.db');
    const first = startCli(['sweep', '--db', queuedDb, ...GRID, '--queue', redis.url]);
    await first.waitForStderr(/completed on w\d/);
    first.child.kill('SIGKILL');
    await first.exited;
    const queued = await sweep(queuedDb, ['--queue', redis.url]);

    expect(queued.cells.map((c) => [c.pos, c.norm, c.sweepKey])).toEqual(local.cells.map((c) => [c.pos, c.norm, c.sweepKey]));
    expect(queued.cells.every((c) => c.status === 'completed' && names.includes(c.worker ?? ''))).toBe(true);
    expect(local.cells.every((c) => c.worker === null)).toBe(true);
    expect(queued.cells.map((c) => c.finalValLoss)).toEqual(local.cells.map((c) => c.finalValLoss));
    expect(queued.cells.map((c) => c.eval?.results.map((r) => r.loss))).toEqual(local.cells.map((c) => c.eval?.results.map((r) => r.loss)));

    // One run per cell, each with every step once: the restarted coordinator re-attached instead of queueing again.
    const [localRuns, queuedRuns] = [storedRuns(join(dir, 'local.db')), storedRuns(queuedDb)];
    expect(queuedRuns).toHaveLength(6);
    expect(queuedRuns.map(({ sweepKey, config, trainLosses }) => ({ sweepKey, config, trainLosses }))).toEqual(localRuns.map(({ sweepKey, config, trainLosses }) => ({ sweepKey, config, trainLosses })));
  });
});
