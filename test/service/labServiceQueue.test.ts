/**
 * The lab service as the coordinator of a sweep on workers (what the Sweeps view's "run on: workers at URL" calls):
 * the runs are ordinary rows of its store, their status events reach subscribers, and the worker list shows who
 * trains; a bad URL is refused before anything is written.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabService } from '../../src/service/labService';
import type { LabEvent } from '../../src/shared/api';
import { redisOptionsOf } from '../../src/worker/connection';
import { startCellWorker, type CellWorker } from '../../src/worker/worker';
import { TINY_CELL } from '../helpers/cells';
import { NO_REDIS_REASON, hasRedis, startRedis, type TestRedis } from '../helpers/redis';

describe.skipIf(!hasRedis)(`LabService.startSweep({ queue })${hasRedis ? '' : ` (skipped: ${NO_REDIS_REASON})`}`, () => {
  let dir: string;
  let redis: TestRedis;
  let service: LabService;
  let worker: CellWorker;
  const events: LabEvent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gpt-lab-service-queue-'));
    redis = await startRedis();
    worker = await startCellWorker({ redis: redisOptionsOf(redis.url), name: 'box-1', backend: 'wasm' });
    service = new LabService({ dbPath: join(dir, 'runs.db'), backend: 'wasm', echoHostStderr: false });
    service.subscribe((event) => events.push(event));
  });
  afterAll(async () => {
    await service?.close();
    await worker?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('trains the grid on the workers and writes ordinary runs of the sweep', async () => {
    expect((await service.listWorkers({ queue: redis.url })).map((w) => [w.name, w.backend.name])).toEqual([['box-1', 'wasm']]);
    const { sweepKey, runIds } = await service.startSweep({ grid: { pos: ['none', 'alibi'], norm: ['pre'], dropout: [0] }, config: { ...TINY_CELL }, queue: redis.url });
    const finished = (id: number): boolean => events.some((e) => e.channel === 'run:status' && e.payload.runId === id && e.payload.status === 'completed');
    while (!runIds.every(finished)) await new Promise((resolve) => setTimeout(resolve, 50));
    const runs = await Promise.all(runIds.map((runId) => service.getRun({ runId })));
    expect(runs.map((r) => [r.config.pos, r.sweepKey, r.status, r.backend?.worker, r.lastStep])).toEqual([
      ['none', sweepKey, 'completed', 'box-1', 29],
      ['alibi', sweepKey, 'completed', 'box-1', 29],
    ]);
    expect((await service.metrics({ runId: runIds[1] })).map((m) => m.step)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(events.some((e) => e.channel === 'run:status' && e.payload.runId === runIds[0] && e.payload.status === 'running')).toBe(true);
  });

  it('refuses an unknown scheme in the URL with the reason, and writes nothing', async () => {
    const before = (await service.listRuns()).length;
    await expect(service.startSweep({ grid: { pos: ['none'], norm: ['pre'], dropout: [0] }, config: { ...TINY_CELL }, queue: 'http://127.0.0.1:1' })).rejects.toThrow(/unknown scheme "http:"/);
    expect((await service.listRuns()).length).toBe(before);
  });
});
