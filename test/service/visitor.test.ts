/**
 * A LabService that visits a database (claimDatabase: false, the CLI's) rather than being its lab instance: it opens
 * the file only once it reads or writes a run, leaves the runs others left queued as they are, and opens nothing
 * again once closed.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LabService } from '../../src/service/labService';
import { RunStore } from '../../src/store';

const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-visitor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a visiting service', () => {
  it('creates no database for refused settings, and the file on its first read', async () => {
    const dbPath = join(dir, 'fresh.db');
    const service = new LabService({ dbPath, claimDatabase: false });
    try {
      const { problems } = await service.validateConfig({ config: { nLayer: 0 } });
      expect(problems.map((p) => p.field)).toEqual(['nLayer']);
      await expect(service.startRun({ config: { data: 'builtin:nope' } })).rejects.toThrow(/unknown builtin/);
      expect(existsSync(dbPath)).toBe(false);
      expect(await service.listRuns()).toEqual([]);
      expect(existsSync(dbPath)).toBe(true);
      expect(existsSync(`${dbPath}.lab-pid`)).toBe(false);
    } finally {
      await service.close();
    }
    await expect(service.listRuns()).rejects.toMatchObject({ code: 'conflict', message: /database is closed/ });
  });

  it('leaves a queued run of another instance queued, where the lab instance takes it for interrupted', async () => {
    const dbPath = join(dir, 'shared.db');
    const store = RunStore.open(dbPath);
    const id = store.createRun({ name: 'waiting', config: { steps: 3 }, dataSource: 'builtin:copy', dataHash: 'x', status: 'queued' } as Parameters<RunStore['createRun']>[0]);
    store.close();
    const visitor = new LabService({ dbPath, claimDatabase: false });
    expect((await visitor.getRun({ runId: id })).status).toBe('queued');
    await visitor.close();
    const lab = new LabService({ dbPath });
    try {
      expect((await lab.getRun({ runId: id })).status).toBe('interrupted');
    } finally {
      await lab.close();
    }
  });
});
