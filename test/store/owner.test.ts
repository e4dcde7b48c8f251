import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore, StoreError, currentOwner, ownerIsAlive } from '../../src/store';
import { processStartTime } from '../../src/store/owner';
import { useTempDir } from './helpers';

const child = spawn('sleep', ['60'], { stdio: 'ignore' });
afterAll(() => child.kill());
/** A pid no process has (above Linux's pid_max of 2^22). */
const DEAD_PID = 2 ** 22 + 4711;

describe('run owners', () => {
  it('a process is identified by its pid, host and start time', () => {
    const me = currentOwner();
    expect(me.pid).toBe(process.pid);
    expect(me.tag).toBe(`${hostname()}/${processStartTime(process.pid)}`);
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    expect(processStartTime(DEAD_PID)).toBe('');
  });

  it('is alive only while that pid runs with that start time; another host counts as alive; no tag falls back to the pid', () => {
    const tag = `${hostname()}/${processStartTime(child.pid!)}`;
    expect(ownerIsAlive(child.pid!, tag)).toBe(true);
    expect(ownerIsAlive(child.pid!, `${hostname()}/1`)).toBe(false); // the pid was reused by a later process
    expect(ownerIsAlive(DEAD_PID, `${hostname()}/1`)).toBe(false);
    expect(ownerIsAlive(DEAD_PID, 'another-machine/1')).toBe(true);
    expect(ownerIsAlive(child.pid!, null)).toBe(true);
    expect(ownerIsAlive(DEAD_PID, null)).toBe(false);
    expect(ownerIsAlive(null, null)).toBe(false);
  });
});

describe('RunStore.claimRun and truncateAfter', () => {
  const tempDir = useTempDir();

  it('refuses a run a live process owns, from any connection; takes it over from a dead one', () => {
    const path = join(tempDir(), 'runs.db');
    const a = RunStore.open(path);
    const b = RunStore.open(path);
    try {
      const id = a.createRun({ name: 'r', config: {}, dataSource: 'd', status: 'stopped' });
      const live = { pid: child.pid!, tag: `${hostname()}/${processStartTime(child.pid!)}` };
      a.claimRun(id, live);
      expect(a.getRun(id)).toMatchObject({ status: 'running', ownerPid: live.pid, ownerTag: live.tag });
      expect(() => b.claimRun(id, currentOwner())).toThrow(new StoreError('RUN_BUSY', `run ${id} is running in process ${live.pid}; stop it there first`));
      // The same owner claiming again (a continue in the same host) is fine.
      a.claimRun(id, live, { error: null });
      b.updateRun(id, { ownerPid: DEAD_PID });
      b.claimRun(id, currentOwner());
      expect(a.getRun(id)).toMatchObject({ status: 'running', ownerPid: process.pid });
    } finally {
      a.close();
      b.close();
    }
  });

  it('truncateAfter drops the metrics and samples past a step and moves last_step back', () => {
    const store = RunStore.open(join(tempDir(), 'runs.db'));
    try {
      const id = store.createRun({ name: 'r', config: {}, dataSource: 'd' });
      store.appendMetrics(id, Array.from({ length: 30 }, (_, step) => ({ step, tokens: step, wallMs: step, trainLoss: 1, valLoss: null, lr: 1, gradNorm: 1 })));
      for (const step of [9, 19, 29]) store.addSample(id, step, `s${step}`);
      store.truncateAfter(id, 19);
      expect(store.metrics(id).map((m) => m.step)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(store.samples(id).map((s) => s.step)).toEqual([9, 19]);
      expect(store.getRun(id)!.lastStep).toBe(19);
      store.truncateAfter(id, -1);
      expect(store.metrics(id)).toEqual([]);
      expect(store.getRun(id)!.lastStep).toBe(0);
    } finally {
      store.close();
    }
  });
});
