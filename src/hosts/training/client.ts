/**
 * LabService's handle on its training host (entry.ts): the host under the supervisor, commands out, parsed events
 * in, and "wait for the event that answers this command".
 */
import type { BackendInfo, BackendName } from '../../engine/backend';
import type { HostLaunch } from '../launch';
import { Supervisor, type ChildExit } from '../supervisor';
import { hostEventSchema, type HostCommand, type HostEvent } from './protocol';

export interface TrainingHostOptions {
  launch: HostLaunch;
  dbPath: string;
  /** Force a backend in the host (default: the ladder, best first). */
  backend?: BackendName;
  echoStderr?: boolean;
  readyTimeoutMs?: number;
  /** How long stop() lets a running step finish and its checkpoint be written before killing the host. */
  shutdownTimeoutMs?: number;
}

export class TrainingHostClient {
  private readonly supervisor: Supervisor<HostCommand, HostEvent>;
  private readonly waiters = new Set<(event: HostEvent) => void>();

  constructor(options: TrainingHostOptions) {
    this.supervisor = new Supervisor<HostCommand, HostEvent>({
      name: 'the training host',
      modulePath: options.launch.modulePath,
      args: [options.dbPath, options.backend ?? ''],
      execArgv: options.launch.execArgv,
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      events: hostEventSchema,
      echoStderr: options.echoStderr,
      readyTimeoutMs: options.readyTimeoutMs,
      // Stop the current run cleanly (checkpoint kept), then exit; 'disconnect' would mean the app crashed.
      stopMessage: { type: 'shutdown' } satisfies HostCommand,
      stopGraceMs: options.shutdownTimeoutMs,
    });
    this.supervisor.onEvent((event) => {
      for (const waiter of [...this.waiters]) waiter(event);
    });
  }

  get pid(): number | undefined {
    return this.supervisor.pid;
  }

  /** Starts the host unless it runs; resolves with the backend it loaded. */
  async start(): Promise<BackendInfo> {
    return (await this.supervisor.start()).backend;
  }

  /** Sends a command to the running host (starting none); false when no host runs to hear it. */
  send(command: HostCommand): boolean {
    return this.supervisor.send(command);
  }

  onEvent(listener: (event: HostEvent) => void): () => void {
    return this.supervisor.onEvent(listener);
  }

  onExit(listener: (exit: ChildExit) => void): () => void {
    return this.supervisor.onExit(listener);
  }

  /** Resolves with the first host event that matches, or undefined after timeoutMs. */
  waitFor(match: (event: HostEvent & { runId?: number }) => boolean, timeoutMs: number): Promise<HostEvent | undefined> {
    return new Promise((resolve) => {
      const finish = (event: HostEvent | undefined): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(event);
      };
      const waiter = (event: HostEvent): void => {
        if (match(event as HostEvent & { runId?: number })) finish(event);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      this.waiters.add(waiter);
    });
  }

  stop(): Promise<void> {
    return this.supervisor.stop();
  }
}
