/**
 * The training host in the caller's own process: the same TrainingHost (trainingHost.ts) and the same commands and
 * events as the forked host behind TrainingHostClient, without a child process. The CLI trains this way: it is
 * itself a process of its own that nothing else waits on, and forking would only add the host's start-up.
 *
 * Events reach listeners on a later microtask, as a child's messages arrive on a later turn: LabService must never
 * hear a host event while it is still inside the send() that caused it.
 */
import { initBackend, type BackendInfo, type BackendName } from '../../engine/backend';
import { timePhase, type PhaseProfile } from '../../engine/train/profile';
import { RunStore } from '../../store';
import type { ChildExit } from '../supervisor';
import { firstMatching, type TrainingHostPort } from './client';
import type { HostCommand, HostEvent } from './protocol';
import { TrainingHost } from './trainingHost';

export interface InProcessHostOptions {
  dbPath: string;
  /** Force a backend (default: the ladder, best first), as the forked host's argument does. */
  backend?: BackendName;
  /** Times every phase of the runs it trains (the CLI's --profile). */
  profile?: PhaseProfile;
}

interface Running {
  host: TrainingHost;
  store: RunStore;
  ready: Promise<BackendInfo>;
  /** Resolves once a shutdown let the current run finish. */
  shutDown: Promise<void>;
}

export class InProcessTrainingHost implements TrainingHostPort {
  private running: Running | null = null;
  private readonly listeners = new Set<(event: HostEvent) => void>();

  constructor(private readonly options: InProcessHostOptions) {}

  /** This process, once the host runs in it. */
  get pid(): number | undefined {
    return this.running ? process.pid : undefined;
  }

  /** Opens the host's own store on the database (as the forked host does) and loads the backend; resolves with it. */
  start(): Promise<BackendInfo> {
    this.running ??= this.open();
    return this.running.ready;
  }

  send(command: HostCommand): boolean {
    if (!this.running) return false;
    this.running.host.handle(command);
    return true;
  }

  onEvent(listener: (event: HostEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Never called: a host in this process ends only with it. */
  onExit(_listener: (exit: ChildExit) => void): () => void {
    return () => undefined;
  }

  waitFor(match: (event: HostEvent & { runId?: number }) => boolean, timeoutMs: number): Promise<HostEvent | undefined> {
    return firstMatching((listener) => this.onEvent(listener), match, timeoutMs);
  }

  /** Stops the current run cleanly (checkpoint kept), as the forked host's 'shutdown' does, then closes its store. */
  async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = null;
    running.host.handle({ type: 'shutdown' } satisfies HostCommand);
    await running.shutDown;
    running.store.close();
  }

  private open(): Running {
    const store = RunStore.open(this.options.dbPath);
    const backend = timePhase(this.options.profile, 'backend', () => initBackend(this.options.backend));
    let shutDown!: () => void;
    const finished = new Promise<void>((resolve) => (shutDown = resolve));
    const host = new TrainingHost({ store, send: (event) => this.deliver(event), backend, onShutdown: () => shutDown(), profile: this.options.profile });
    const ready = backend.then((info) => {
      this.deliver({ type: 'ready', backend: info });
      return info;
    });
    // A backend that fails to load fails each run through the host; start() callers see the rejection themselves.
    ready.catch(() => undefined);
    return { host, store, ready, shutDown: finished };
  }

  private deliver(event: HostEvent): void {
    queueMicrotask(() => {
      for (const listener of [...this.listeners]) listener(event);
    });
  }
}
