/**
 * The analysis host's client against a stand-in host (fixtures/fakeAnalysisHost.mjs): a job ends in its result, its
 * own error, or the host's death, and the host is replaced after it dies. Then the same through LabService, whose job
 * events and error codes are built on it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AnalysisHostClient, JobError, type JobListener } from '../../../src/hosts/analysis/client';
import { sourceHostLaunch } from '../../../src/hosts/launch';
import { LabService } from '../../../src/service/labService';
import { RunStore } from '../../../src/store';
import type { JobEvent } from '../../../src/shared/api';

const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-analysis-client-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const launch = { ...sourceHostLaunch(), analysisModulePath: fileURLToPath(new URL('../fixtures/fakeAnalysisHost.mjs', import.meta.url)), execArgv: [] };

function recorder(): JobListener & { heard: string[] } {
  const heard: string[] = [];
  return { heard, started: () => heard.push('started'), progress: (message) => heard.push(message), token: () => heard.push('token') };
}

describe('AnalysisHostClient', () => {
  it("resolves a job with its result, rejects one with its own error, and one with the host's death; then a new host works", async () => {
    const client = new AnalysisHostClient({ launch, dbPath: join(dir, 'unused.db'), echoStderr: false });
    try {
      const listener = recorder();
      const value = await client.run(client.nextId(), { kind: 'taskLength', runId: 3 }, listener);
      expect(value).toMatchObject({ runId: 3, task: 'copy' });
      expect(listener.heard).toEqual(['started', 'working on taskLength']);
      const firstPid = client.pid;

      await expect(client.run(client.nextId(), { kind: 'evalLength', runId: 3 }, recorder())).rejects.toEqual(new JobError('run 3 has no checkpoint', false));
      const lost = await client.run(client.nextId(), { kind: 'probe', runId: null, probeKind: 'equivariance' }, recorder()).catch((error: unknown) => error);
      expect(lost).toBeInstanceOf(JobError);
      expect(lost).toMatchObject({ message: 'the analysis host exited with code 9', hostGone: true });

      expect(await client.run(client.nextId(), { kind: 'taskLength', runId: 4 }, recorder())).toMatchObject({ runId: 4 });
      expect(client.pid).not.toBe(firstPid);
    } finally {
      await client.stop();
    }
  });

  it('through LabService: a job lost with its host fails as host-failed with a failed job event, a job error as conflict', async () => {
    const store = RunStore.open(join(dir, 'runs.db'));
    const runId = store.createRun({ name: 'stored', config: {}, dataSource: 'builtin:copy', status: 'completed' });
    store.close();
    const service = new LabService({ dbPath: join(dir, 'runs.db'), host: launch, echoHostStderr: false });
    const jobs: JobEvent[] = [];
    service.subscribe((event) => event.channel === 'job' && jobs.push(event.payload));
    try {
      await expect(service.probe({ runId: null, kind: 'equivariance' })).rejects.toMatchObject({ name: 'LabError', code: 'host-failed', message: 'the analysis host exited with code 9' });
      expect(jobs.map((e) => e.state)).toEqual(['queued', 'running', 'progress', 'failed']);
      expect(jobs.at(-1)).toMatchObject({ kind: 'probe', label: 'equivariance probe on fresh weights', message: 'the analysis host exited with code 9' });
      await expect(service.evalLength({ runId })).rejects.toMatchObject({ name: 'LabError', code: 'conflict', message: `run ${runId} has no checkpoint` });
      expect(jobs.at(-1)).toMatchObject({ kind: 'evalLength', runId, state: 'failed', message: `run ${runId} has no checkpoint` });
    } finally {
      await service.close();
    }
  });
});
