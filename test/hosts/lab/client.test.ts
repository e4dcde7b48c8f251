/**
 * The desktop app's lab runs in its own Node process (src/hosts/lab/entry.ts) behind startLabProcess: calls
 * round-trip with the contract's validation, errors come back as LabErrors, events stream, and close() ends it.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startLabProcess, type RemoteLab } from '../../../src/hosts/lab/client';
import type { LabEvent } from '../../../src/shared/api';

const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-labprocess-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tsx = createRequire(import.meta.url).resolve('tsx');

describe('the lab process', () => {
  it('answers calls, reports errors as LabErrors, streams events and closes', async () => {
    const lab = startLabProcess({
      modulePath: fileURLToPath(new URL('../../../src/hosts/lab/entry.ts', import.meta.url)),
      dbPath: join(dir, 'runs.db'),
      nodePath: process.execPath,
      execArgv: ['--import', tsx],
    });
    await lab.ready;
    const events: LabEvent[] = [];
    lab.subscribe((event) => events.push(event));

    expect(await lab.api.listRuns({})).toEqual([]);
    const problems = await lab.api.validateConfig({ config: { nLayer: 0 } } as never);
    expect(JSON.stringify(problems)).toMatch(/nLayer/);
    await expect(lab.api.getRun({ runId: 999 } as never)).rejects.toMatchObject({ name: 'LabError', code: 'not-found' });
    await expect(lab.api.renameRun({ runId: 'x' } as never)).rejects.toMatchObject({ code: 'invalid-request' });

    const runId = (await lab.api.startRun({ config: { data: 'builtin:toy-english', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 8, steps: 5, evalEvery: 5, sampleEvery: 0 } } as never)) as unknown;
    expect(runId).toBeTruthy();
    for (let waited = 0; waited < 60_000 && !events.some((e) => e.channel === 'run:status' && /completed/.test(JSON.stringify(e.payload))); waited += 200)
      await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events.some((e) => e.channel === 'run:metrics')).toBe(true);
    expect(events.some((e) => e.channel === 'run:status' && /completed/.test(JSON.stringify(e.payload)))).toBe(true);

    await lab.close();
    await expect(lab.api.listRuns({})).rejects.toMatchObject({ message: expect.stringMatching(/not running/) });
  }, 120_000);
});

describe('the lab process under the supervisor', () => {
  const fakeLab = (): RemoteLab =>
    startLabProcess({ modulePath: fileURLToPath(new URL('../fixtures/fakeLab.mjs', import.meta.url)), dbPath: join(dir, 'unused.db'), nodePath: process.execPath });

  it('rejects the call in flight when the lab process dies, restarts it, and answers the next call', async () => {
    const lab = fakeLab();
    try {
      const events: LabEvent[] = [];
      lab.subscribe((event) => events.push(event));
      await lab.ready;
      const firstPid = lab.pid;
      await expect(lab.api.backendInfo()).rejects.toMatchObject({ name: 'LabError', code: 'not-found', message: 'backendInfo: nothing here' });

      await expect(lab.api.getRun({ runId: 1 })).rejects.toMatchObject({
        name: 'LabError',
        code: 'host-failed',
        message: 'getRun was not answered: the lab process exited with code 7; it is being restarted, try again',
      });
      expect(await lab.api.listRuns()).toEqual([]);
      expect(lab.pid).not.toBe(firstPid);
      // Each lab process said its queue once: the subscription outlived the crash.
      expect(events.filter((e) => e.channel === 'queue')).toHaveLength(2);
    } finally {
      await lab.close();
    }
  });
});
