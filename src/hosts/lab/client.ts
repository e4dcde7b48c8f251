/**
 * The main process's handle on the lab process (src/lab/labProcess.ts): a LabApi whose every call is a message
 * to that process, and whose events arrive from it. Works without Electron, so it is tested under Node.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { CALL_NAMES, LabError, type CallResult, type LabApi, type LabEvent, type LabEventListener } from '../shared/api';
import type { LabProcessMessage } from '../lab/labProcess';

export interface LabProcessLaunch {
  modulePath: string;
  dbPath: string;
  /** The Node binary to run it with: the one better-sqlite3 was built for (see labLaunch.ts). */
  nodePath: string;
  execArgv?: string[];
  /** Its environment (default: this process's); ELECTRON_RUN_AS_NODE=1 makes Electron's binary a plain Node. */
  env?: NodeJS.ProcessEnv;
}

export interface RemoteLab {
  api: LabApi;
  subscribe(listener: LabEventListener): () => void;
  /** Resolves once the lab is up; rejects with its startup message if it cannot start. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function startLabProcess(launch: LabProcessLaunch): RemoteLab {
  const child: ChildProcess = fork(launch.modulePath, [launch.dbPath], { execPath: launch.nodePath, execArgv: launch.execArgv ?? [], env: launch.env ?? process.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, (result: CallResult) => void>();
  const listeners = new Set<LabEventListener>();
  let nextId = 1;
  let exited = false;

  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (raw) => {
      const message = raw as LabProcessMessage;
      if (message.type === 'ready') resolve();
      else if (message.type === 'fatal') reject(new Error(message.message));
      else if (message.type === 'result') {
        pending.get(message.id)?.(message.result as CallResult);
        pending.delete(message.id);
      } else if (message.type === 'event') for (const listener of listeners) listener(message.event as LabEvent);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      exited = true;
      const why = `the lab process ended (${signal ?? `exit code ${code}`})`;
      reject(new Error(why));
      for (const settle of pending.values()) settle({ ok: false, error: { code: 'internal', message: why } });
      pending.clear();
    });
  });

  function call(name: string, payload: unknown): Promise<CallResult> {
    if (exited) return Promise.resolve({ ok: false, error: { code: 'internal', message: 'the lab process is not running' } });
    const id = nextId++;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      child.send({ type: 'call', id, name, payload });
    });
  }

  const api = Object.fromEntries(
    CALL_NAMES.map((name) => [
      name,
      async (request: unknown) => {
        const result = await call(name, request);
        if (!result.ok) throw new LabError(result.error.code, result.error.message, result.error.problems);
        return result.value;
      },
    ]),
  ) as unknown as LabApi;

  return {
    api,
    ready,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      if (exited) return Promise.resolve();
      return new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.disconnect();
      });
    },
  };
}
