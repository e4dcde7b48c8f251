/**
 * The training host in the caller's process, under LabService, against the forked host: the same tiny run gives the
 * same contract events (statuses in order, every metrics row, samples) and the same stored run, and stopping works
 * through the same stopRun.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InProcessTrainingHost } from '../../../src/hosts/training/inProcess';
import { LabService, type LabServiceOptions } from '../../../src/service/labService';
import type { LabEvent, RunStatus } from '../../../src/shared/api';

const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-in-process-host-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tiny = { data: 'builtin:copy', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 4, steps: 6, evalEvery: 3, sampleEvery: 3, threads: 1 };
const FINAL: readonly RunStatus[] = ['completed', 'stopped', 'diverged', 'failed', 'interrupted'];

/** What a subscriber hears of one run, without the times that differ between two trainings. */
interface Heard {
  statuses: string[];
  rows: { step: number; trainLoss: number | null; valLoss: number | null }[];
  samples: number[];
}

async function trainOnce(options: LabServiceOptions): Promise<{ heard: Heard; stored: unknown; hostPid: number | undefined }> {
  const service = new LabService({ backend: 'wasm', echoHostStderr: false, ...options });
  const heard: Heard = { statuses: [], rows: [], samples: [] };
  try {
    const done = new Promise<void>((resolve) => {
      service.subscribe((event: LabEvent) => {
        if (event.channel === 'run:status') {
          heard.statuses.push(event.payload.status);
          if (FINAL.includes(event.payload.status)) resolve();
        }
        if (event.channel === 'run:metrics') heard.rows.push(...event.payload.rows.map(({ step, trainLoss, valLoss }) => ({ step, trainLoss, valLoss })));
        if (event.channel === 'run:sample') heard.samples.push(event.payload.step);
      });
    });
    const { runId } = await service.startRun({ config: tiny });
    await done;
    const hostPid = service.hostPid;
    const { status, lastStep, finalValLoss, finalTrainLoss, params, error } = await service.getRun({ runId });
    const metrics = (await service.metrics({ runId })).map(({ step, trainLoss, valLoss }) => ({ step, trainLoss, valLoss }));
    return { heard, stored: { status, lastStep, finalValLoss, finalTrainLoss, params, error, metrics }, hostPid };
  } finally {
    await service.close();
  }
}

describe('the training host in this process', () => {
  it('gives the same events and the same stored run as the forked host', async () => {
    const forkedDb = join(dir, 'forked.db');
    const localDb = join(dir, 'local.db');
    const forked = await trainOnce({ dbPath: forkedDb });
    const local = await trainOnce({ dbPath: localDb, trainingHost: new InProcessTrainingHost({ dbPath: localDb, backend: 'wasm' }) });
    expect(forked.heard.statuses).toEqual(['queued', 'running', 'completed']);
    expect(forked.heard.rows.map((r) => r.step)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(forked.heard.samples).toEqual([2, 5]);
    expect(local.heard).toEqual(forked.heard);
    expect(local.stored).toEqual(forked.stored);
    expect(forked.hostPid).not.toBe(process.pid);
    expect(local.hostPid).toBe(process.pid);
  }, 120_000);

  it("answers a command after send() returns, as a child's message arrives on a later turn", async () => {
    const host = new InProcessTrainingHost({ dbPath: join(dir, 'turns.db'), backend: 'wasm' });
    const heard: string[] = [];
    host.onEvent((event) => heard.push(event.type));
    try {
      await host.start();
      heard.length = 0;
      expect(host.send({ type: 'stop', runId: 7 })).toBe(true);
      expect(heard).toEqual([]);
      expect(await host.waitFor((event) => event.type === 'rejected', 1_000)).toEqual({ type: 'rejected', reason: 'run 7 is not training here; cannot stop it' });
      expect(heard).toEqual(['rejected']);
    } finally {
      await host.stop();
    }
  });

  it('stops a run through stopRun at the end of a step, keeping a checkpoint', async () => {
    const dbPath = join(dir, 'stop.db');
    const service = new LabService({ dbPath, trainingHost: new InProcessTrainingHost({ dbPath, backend: 'wasm' }) });
    try {
      const running = new Promise<number>((resolve) => {
        service.subscribe((event) => {
          if (event.channel === 'run:metrics') resolve(event.payload.runId);
        });
      });
      await service.startRun({ config: { ...tiny, steps: 500, evalEvery: 0, sampleEvery: 0 } });
      const runId = await running;
      expect(await service.stopRun({ runId })).toEqual({ runId, status: 'stopped' });
      const run = await service.getRun({ runId });
      expect(run.lastStep).toBeLessThan(499);
      expect(await service.queueState()).toEqual({ running: null, queued: [] });
    } finally {
      await service.close();
    }
  }, 120_000);
});
