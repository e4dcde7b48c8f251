/**
 * A training host that cannot start (fixtures/fakeTrainingHost.mjs), under LabService: the supervisor's startup
 * failure reaches backendInfo() as a host-failed error and fails the queued runs with the same sentence.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sourceHostLaunch } from '../../../src/hosts/launch';
import { LabService } from '../../../src/service/labService';
import type { LabEvent } from '../../../src/shared/api';

const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-training-client-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  delete process.env.GPT_LAB_FAKE_HOST;
});
const launch = { ...sourceHostLaunch(), modulePath: fileURLToPath(new URL('../fixtures/fakeTrainingHost.mjs', import.meta.url)), execArgv: [] };
const tiny = { data: 'builtin:copy', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 8, steps: 3 };

/** Resolves with the status event that gives `runId` a final status. */
function settled(service: LabService, runId: number): Promise<LabEvent> {
  return new Promise((resolve) => {
    const off = service.subscribe((event) => {
      if (event.channel === 'run:status' && event.payload.runId === runId && event.payload.status !== 'queued') {
        off();
        resolve(event);
      }
    });
  });
}

describe('a training host that cannot start', () => {
  it.each([
    ['says why (fatal)', 'fatal', {}, 'the training host could not start: no backend: wasm failed to load'],
    ['never becomes ready', 'never-ready', { hostStartTimeoutMs: 500 }, 'the training host did not become ready within 0.5 s'],
  ])('%s: backendInfo fails as host-failed and the queued run fails with the same reason', async (_label, mode, options, reason) => {
    process.env.GPT_LAB_FAKE_HOST = mode;
    const service = new LabService({ dbPath: join(dir, `${mode}.db`), host: launch, echoHostStderr: false, ...options });
    try {
      const { runId } = await service.startRun({ config: tiny });
      const status = await settled(service, runId);
      expect(status.payload).toMatchObject({ runId, status: 'failed', error: reason });
      expect((await service.getRun({ runId })).error).toBe(reason);
      expect(await service.queueState()).toEqual({ running: null, queued: [] });
      await expect(service.backendInfo()).rejects.toMatchObject({ name: 'LabError', code: 'host-failed', message: reason });
    } finally {
      await service.close();
    }
  });
});
