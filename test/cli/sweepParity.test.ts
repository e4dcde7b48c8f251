/**
 * `gpt-lab sweep` and the Sweeps view (LabService.startSweep) make the same runs under the same sweep key for the
 * same grid: the same names, configs, data and losses; and each finds the other's finished cells and skips them
 * (the CLI reports them as skipped; startSweep returns their ids and creates no run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabService } from '../../src/service/labService';
import type { ConfigOverrides, LabEvent } from '../../src/shared/api';
import { RunStore } from '../../src/store';
import { startCli } from '../helpers/cli';
import { nextEvent } from '../helpers/events';

const GRID = { pos: ['none', 'alibi'], norm: ['pre' as const], dropout: [0.1] };
/** The same settings, as the Sweeps view sends them and as flags. */
const CONFIG: ConfigOverrides = { data: 'builtin:copy', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8, batchSize: 4, steps: 3, threads: 1, evalEvery: 2, sampleEvery: 0, checkpointEvery: 3 };
const FLAGS = ['--data', 'builtin:copy', '--layers', '1', '--heads', '2', '--embd', '16', '--block', '8', '--batch', '4', '--steps', '3', '--threads', '1', '--eval-every', '2', '--sample-every', '0', '--checkpoint-every', '3'];
const CLI_GRID = ['--pos', 'none,alibi', '--norm', 'pre', '--dropout', '0.1', '--eval-lengths', '8', '--name', 'grid', '--json'];

interface SweepJson {
  cells: { pos: string; runId: number; sweepKey: string; skipped: boolean; status: string }[];
}

let dir: string;

async function cliSweep(db: string): Promise<SweepJson> {
  const cli = startCli(['sweep', '--db', db, ...FLAGS, ...CLI_GRID]);
  const code = await cli.exited;
  if (code !== 0) throw new Error(`sweep exited ${code}: ${cli.stderr().slice(-2000)}`);
  return JSON.parse(cli.stdout()) as SweepJson;
}

/** What a run is, as stored: everything but its id, times and where it trained. */
function storedRuns(db: string) {
  const store = RunStore.open(db, { mustExist: true });
  try {
    return store.listRuns().sort((a, b) => a.id - b.id).map((run) => ({
      id: run.id,
      name: run.name,
      sweepKey: run.sweepKey,
      sweepSize: run.sweepSize,
      status: run.status,
      config: run.config,
      dataSource: run.dataSource,
      dataHash: run.dataHash,
      trainLosses: store.metrics(run.id).map((m) => m.trainLoss),
    }));
  } finally {
    store.close();
  }
}

function withService<T>(db: string, fn: (service: LabService) => Promise<T>): Promise<T> {
  const service = new LabService({ dbPath: db, backend: 'wasm', echoHostStderr: false });
  return fn(service).finally(() => service.close());
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpt-lab-sweep-parity-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('one grid, from the CLI and from the Sweeps view', () => {
  it('makes the same runs with the same keys, and each skips the cells the other finished', async () => {
    const cliDb = join(dir, 'cli.db');
    const uiDb = join(dir, 'ui.db');

    const fromCli = await cliSweep(cliDb);
    expect(fromCli.cells.map((c) => [c.pos, c.status, c.skipped])).toEqual([['none', 'completed', false], ['alibi', 'completed', false]]);

    const fromUi = await withService(uiDb, async (service) => {
      const started = await service.startSweep({ grid: GRID, config: CONFIG, name: 'grid' });
      const last = started.runIds.at(-1)!;
      await nextEvent(service, (e: LabEvent) => e.channel === 'run:status' && e.payload.runId === last && e.payload.status === 'completed', 120_000);
      return started;
    });

    const cliRuns = storedRuns(cliDb);
    const uiRuns = storedRuns(uiDb);
    expect(uiRuns.map(({ id: _id, ...run }) => run)).toEqual(cliRuns.map(({ id: _id, ...run }) => run));
    expect(uiRuns.map((r) => r.name)).toEqual(['grid · none · pre-norm · dropout 0.1', 'grid · alibi · pre-norm · dropout 0.1']);
    // Each run records its sweep's size, so the Sweeps view can say how many cells were deleted since.
    expect(uiRuns.map((r) => r.sweepSize)).toEqual([2, 2]);
    expect(new Set([fromUi.sweepKey, ...fromCli.cells.map((c) => c.sweepKey), ...uiRuns.map((r) => r.sweepKey)])).toEqual(new Set([fromUi.sweepKey]));

    // The Sweeps view on the CLI's database: nothing to train, the CLI's runs are the sweep.
    const again = await withService(cliDb, (service) => service.startSweep({ grid: GRID, config: CONFIG, name: 'grid' }));
    expect(again).toEqual({ sweepKey: fromUi.sweepKey, runIds: cliRuns.map((r) => r.id) });
    expect(storedRuns(cliDb)).toEqual(cliRuns);

    // The CLI on the view's database: every cell skipped as the view's run.
    const cliAgain = await cliSweep(uiDb);
    expect(cliAgain.cells.map((c) => [c.runId, c.skipped])).toEqual(fromUi.runIds.map((runId) => [runId, true]));
    expect(storedRuns(uiDb)).toEqual(uiRuns);
  }, 240_000);
});
