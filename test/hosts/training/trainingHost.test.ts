/** The training host process on its own: it validates every message and answers malformed ones without dying. */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostEventSchema, type HostEvent } from '../../../src/hosts/training/protocol';
import { sourceHostLaunch } from '../../../src/hosts/launch';
import { TrainingHost } from '../../../src/hosts/training/trainingHost';
import { RunStore } from '../../../src/store';

let dir: string;
let host: ChildProcess;
const received: HostEvent[] = [];

const waiters = new Set<() => void>();

/** The first event at or after index `from` of `received` that matches. */
function nextHostEvent(match: (event: HostEvent) => boolean, from = 0, timeoutMs = 60_000): Promise<HostEvent> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const found = received.slice(from).find(match);
      if (!found) return;
      clearTimeout(timer);
      waiters.delete(check);
      resolve(found);
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error('timed out waiting for the host'));
    }, timeoutMs);
    waiters.add(check);
    check();
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpt-lab-host-'));
  const launch = sourceHostLaunch();
  host = fork(launch.modulePath, [join(dir, 'runs.db'), 'wasm'], { execArgv: launch.execArgv, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  host.on('message', (raw) => {
    received.push(hostEventSchema.parse(raw));
    for (const check of [...waiters]) check();
  });
  await nextHostEvent((e) => e.type === 'ready');
});

afterAll(async () => {
  if (host.exitCode === null) {
    const exited = new Promise((resolve) => host.once('exit', resolve));
    host.send({ type: 'shutdown' });
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('the training host process', () => {
  it.each([
    ['not an object', 'train'],
    ['an unknown type', { type: 'explode' }],
    ['a bad run id', { type: 'stop', runId: 'one' }],
    ['a config of the wrong type', { type: 'train', runId: 7, input: { config: { nLayer: 'many' } } }],
    ['extra fields', { type: 'pause', runId: 1, now: true }],
  ])('rejects %s and stays alive', async (_label, message) => {
    const before = received.length;
    host.send(message);
    const answer = await nextHostEvent((e) => e.type === 'rejected', before, 10_000);
    expect(answer).toMatchObject({ type: 'rejected', reason: expect.stringContaining('malformed') });
    expect(host.exitCode).toBeNull();
  });

  it('names the run in a rejected train message, so the service can fail it', async () => {
    const before = received.length;
    host.send({ type: 'train', runId: 7, input: { config: { nLayer: 'many' } } });
    expect(await nextHostEvent((e) => e.type === 'rejected', before, 10_000)).toMatchObject({ runId: 7 });
  });

  it('trains a valid run after the malformed ones', async () => {
    const store = RunStore.open(join(dir, 'runs.db'));
    const runId = store.createRun({ name: 'ok', config: {}, dataSource: 'builtin:copy', status: 'queued' });
    store.close();
    host.send({ type: 'train', runId, input: { config: { data: 'builtin:copy', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 8, steps: 3, sampleEvery: 0 } } });
    expect(await nextHostEvent((e) => e.type === 'done' && e.runId === runId)).toMatchObject({ status: 'completed', lastStep: 2 });
  });

  it('refuses to control a run it is not training', async () => {
    const before = received.length;
    host.send({ type: 'stop', runId: 999 });
    expect(await nextHostEvent((e) => e.type === 'rejected', before, 10_000)).toMatchObject({ reason: expect.stringContaining('not training') });
  });
});

describe('TrainingHost', () => {
  it('answers a malformed message without touching the store', () => {
    const sent: HostEvent[] = [];
    const store = new Proxy({} as RunStore, {
      get: () => {
        throw new Error('the store must not be used');
      },
    });
    const host = new TrainingHost({ store, send: (e) => sent.push(e), backend: new Promise(() => undefined) });
    host.handle({ type: 'train', runId: 1, input: { config: { pos: 42 } } });
    host.handle(undefined);
    expect(sent.map((e) => e.type)).toEqual(['rejected', 'rejected']);
    expect(host.busy).toBe(false);
  });
});
