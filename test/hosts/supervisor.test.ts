/**
 * The one supervisor, against stand-in children (fixtures/child.mjs, plain JS): the ready handshake and its time
 * limit, a child that cannot start, malformed messages, restarts after crashes within the budget, and stop().
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ChildStartError, Supervisor, type ChildExit, type ChildSpec } from '../../src/hosts/supervisor';

const events = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  z.object({ type: z.literal('fatal'), message: z.string() }),
  z.object({ type: z.literal('pong'), n: z.number() }),
]);
type TestEvent = z.infer<typeof events>;
type TestCommand = { type: 'ping'; n: number } | { type: 'crash' };

const running: Supervisor<TestCommand, TestEvent>[] = [];

function supervise(mode: string, spec: Partial<ChildSpec<TestEvent>> = {}): Supervisor<TestCommand, TestEvent> {
  const supervisor = new Supervisor<TestCommand, TestEvent>({
    name: 'the test child',
    modulePath: fileURLToPath(new URL('./fixtures/child.mjs', import.meta.url)),
    args: [mode],
    events,
    echoStderr: false,
    ...spec,
  });
  running.push(supervisor);
  return supervisor;
}

/** The next exit the supervisor reports. */
function nextExit(supervisor: Supervisor<TestCommand, TestEvent>): Promise<ChildExit> {
  return new Promise((resolve) => {
    const off = supervisor.onExit((exit) => {
      off();
      resolve(exit);
    });
  });
}

function nextPong(supervisor: Supervisor<TestCommand, TestEvent>, n: number): Promise<void> {
  return new Promise((resolve) => {
    const off = supervisor.onEvent((event) => {
      if (event.type === 'pong' && event.n === n) {
        off();
        resolve();
      }
    });
  });
}

afterEach(async () => {
  for (const supervisor of running.splice(0)) await supervisor.stop();
  vi.restoreAllMocks();
});

describe('the ready handshake', () => {
  it('resolves with the ready message and lets the child work', async () => {
    const child = supervise('echo');
    const ready = await child.start();
    expect(ready).toEqual({ type: 'ready', pid: child.pid });
    expect(child.isAlive).toBe(true);
    const pong = nextPong(child, 42);
    expect(child.send({ type: 'ping', n: 42 })).toBe(true);
    await pong;
  });

  it('fails a child that never becomes ready within the limit, names it, and kills it', async () => {
    const child = supervise('never-ready', { readyTimeoutMs: 300 });
    const exited = nextExit(child);
    await expect(child.start()).rejects.toThrow(new ChildStartError('the test child did not become ready within 0.3 s'));
    const exit = await exited;
    expect(exit).toMatchObject({ wasReady: false, restarting: false, startupFailure: 'the test child did not become ready within 0.3 s' });
    expect(child.isAlive).toBe(false);
    expect(() => process.kill(exit.pid!, 0)).toThrow();
  });

  it("fails a child that reports it cannot start with the child's own reason, and does not restart it", async () => {
    const child = supervise('fatal');
    const exited = nextExit(child);
    await expect(child.start()).rejects.toThrow('the test child could not start: no database here');
    expect(await exited).toMatchObject({ startupFailure: 'the test child could not start: no database here', restarting: false });
    expect(child.isAlive).toBe(false);
    expect(child.pid).toBeUndefined();
  });

  it('names a child whose program cannot be spawned', async () => {
    const child = supervise('echo', { execPath: '/nonexistent/node' });
    await expect(child.start()).rejects.toThrow(/^the test child could not start: spawn \/nonexistent\/node ENOENT/);
  });

  it('drops malformed messages with a log line and still hears the valid ready after them', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const child = supervise('garbage');
    const seen: TestEvent[] = [];
    child.onEvent((event) => seen.push(event));
    await child.start();
    const logged = stderr.mock.calls.map(([text]) => String(text)).filter((text) => text.includes('ignored a malformed message from the test child'));
    expect(logged).toHaveLength(4);
    expect(seen).toEqual([{ type: 'ready', pid: child.pid }]);
  });
});

describe('crashes and restarts', () => {
  it('restarts a crashed child, within the budget, then leaves it down until it is started again', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const child = supervise('echo', { restart: { max: 1, windowMs: 60_000 } });
    await child.start();
    const firstPid = child.pid;

    let exited = nextExit(child);
    child.send({ type: 'crash' });
    const first = await exited;
    expect(first).toMatchObject({ pid: firstPid, why: 'exited with code 3', message: 'the test child exited with code 3', wasReady: true, requested: false, restarting: true, startupFailure: null });
    await child.start();
    const secondPid = child.pid;
    expect(secondPid).not.toBe(firstPid);
    const pong = nextPong(child, 1);
    child.send({ type: 'ping', n: 1 });
    await pong;

    exited = nextExit(child);
    child.send({ type: 'crash' });
    expect(await exited).toMatchObject({ pid: secondPid, restarting: false });
    expect(child.isAlive).toBe(false);
    expect(child.send({ type: 'ping', n: 2 })).toBe(false);
    expect(stderr.mock.calls.some(([text]) => String(text).includes('the test child crashed 2 times within 60 s; it is not restarted until it is needed again'))).toBe(true);

    await child.start();
    expect(child.isAlive).toBe(true);
  });

  it('lets an exit listener start the replacement itself, and starts no second one', async () => {
    const child = supervise('echo');
    await child.start();
    const pids: (number | undefined)[] = [];
    const off = child.onExit(() => {
      void child.start();
      pids.push(child.pid);
    });
    const exited = nextExit(child);
    child.send({ type: 'crash' });
    await exited;
    off();
    await child.start();
    expect(child.pid).toBe(pids[0]);
  });
});

describe('stop', () => {
  it('closes the channel of a child with no stop message: it exits on its own, and is not restarted', async () => {
    const child = supervise('echo');
    await child.start();
    const exited = nextExit(child);
    await child.stop();
    expect(await exited).toMatchObject({ why: 'exited with code 0', requested: true, restarting: false });
    expect(child.isAlive).toBe(false);
  });

  it('kills a child that ignores its stop message after the grace period', async () => {
    const child = supervise('stubborn', { stopMessage: { type: 'shutdown' }, stopGraceMs: 200 });
    await child.start();
    const pid = child.pid!;
    const exited = nextExit(child);
    await child.stop();
    expect(await exited).toMatchObject({ pid, why: 'was killed (SIGKILL)', requested: true, restarting: false });
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
