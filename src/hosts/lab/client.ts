/**
 * The main process's handle on the lab process (entry.ts): a LabApi whose every call is a message to that process,
 * and whose events arrive from it, with the process under the supervisor (restarted after a crash, within its
 * budget). Works without Electron, so it is tested under Node.
 */
import { LabError, type CallName, type CallResult, type LabApi, type LabEvent, type LabEventListener } from '../../shared/api';
import { callProxy } from '../../shared/callProxy';
import { DEFAULT_STOP_GRACE_MS, Supervisor, type ChildExit, type RestartPolicy } from '../supervisor';
import { labProcessEventSchema, type LabCall, type LabProcessEvent } from './protocol';

export interface LabProcessLaunch {
  modulePath: string;
  dbPath: string;
  /** The Node binary to run it with: the one better-sqlite3 was built for (see src/main/labLaunch.ts). */
  nodePath: string;
  execArgv?: string[];
  /** Its environment (default: this process's); ELECTRON_RUN_AS_NODE=1 makes Electron's binary a plain Node. */
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
  restart?: RestartPolicy;
}

export interface RemoteLab {
  api: LabApi;
  subscribe(listener: LabEventListener): () => void;
  /** Resolves once the lab is up; rejects with its startup message if it cannot start. */
  ready: Promise<void>;
  /** The lab process's id while one runs (for tests and diagnostics). */
  readonly pid: number | undefined;
  close(): Promise<void>;
}

const NOT_RUNNING: CallResult = { ok: false, error: { code: 'internal', message: 'the lab process is not running' } };

export function startLabProcess(launch: LabProcessLaunch): RemoteLab {
  const supervisor = new Supervisor<LabCall, LabProcessEvent>({
    name: 'the lab process',
    modulePath: launch.modulePath,
    args: [launch.dbPath],
    execPath: launch.nodePath,
    execArgv: launch.execArgv,
    env: launch.env,
    output: 'inherit',
    events: labProcessEventSchema,
    readyTimeoutMs: launch.readyTimeoutMs,
    restart: launch.restart,
    // Closing the lab stops its analysis host, then lets its training host checkpoint the current run, each within
    // the default grace; killing the lab sooner would leave that run interrupted instead of stopped.
    stopGraceMs: 3 * DEFAULT_STOP_GRACE_MS,
  });
  const pending = new Map<number, { name: CallName; settle: (result: CallResult) => void }>();
  const listeners = new Set<LabEventListener>();
  let nextId = 1;
  let closed = false;

  supervisor.onEvent((message) => {
    if (message.type === 'result') {
      pending.get(message.id)?.settle(message.result);
      pending.delete(message.id);
    } else if (message.type === 'event') for (const listener of listeners) listener(message.event as LabEvent);
  });
  supervisor.onExit((exit: ChildExit) => {
    const why = exit.startupFailure ?? exit.message;
    const after = exit.restarting ? '; it is being restarted, try again' : '';
    for (const { name, settle } of pending.values()) settle({ ok: false, error: { code: 'host-failed', message: `${name} was not answered: ${why}${after}` } });
    pending.clear();
  });

  function call(name: CallName, payload: unknown): Promise<CallResult> {
    if (closed) return Promise.resolve(NOT_RUNNING);
    // After a crash beyond the restart budget the lab starts again here, when it is next needed.
    supervisor.start().catch(() => undefined);
    const id = nextId++;
    return new Promise((settle) => {
      pending.set(id, { name, settle });
      if (!supervisor.send({ type: 'call', id, name, payload })) {
        pending.delete(id);
        settle(NOT_RUNNING);
      }
    });
  }

  return {
    api: callProxy(call, (info) => new LabError(info.code, info.message, info.problems)),
    ready: supervisor.start().then(() => undefined),
    get pid() {
      return supervisor.pid;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      closed = true;
      return supervisor.stop();
    },
  };
}
