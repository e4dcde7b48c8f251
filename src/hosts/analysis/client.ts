/**
 * LabService's handle on its analysis host (entry.ts): the host under the supervisor, one job in, its progress,
 * tokens and result out. A job ends in its result, its own error, or the host's exit, whichever comes first.
 */
import type { BackendName } from '../../engine/backend';
import type { HostLaunch } from '../launch';
import { Supervisor, type ChildExit } from '../supervisor';
import { analysisEventSchema, type AnalysisCommand, type AnalysisEvent, type AnalysisJob } from './protocol';

export interface AnalysisHostOptions {
  launch: HostLaunch;
  dbPath: string;
  backend?: BackendName;
  echoStderr?: boolean;
  readyTimeoutMs?: number;
  stopGraceMs?: number;
}

/** What a caller hears while its job runs. */
export interface JobListener {
  started(): void;
  progress(message: string): void;
  token(index: number, token: Extract<AnalysisEvent, { type: 'token' }>['token']): void;
}

/** Why a job has no result: the job itself failed in the host, or the host went away while it waited or ran. */
export class JobError extends Error {
  constructor(
    message: string,
    readonly hostGone: boolean,
  ) {
    super(message);
    this.name = 'JobError';
  }
}

interface PendingJob {
  listener: JobListener;
  resolve(value: unknown): void;
  reject(error: JobError): void;
}

export class AnalysisHostClient {
  private readonly supervisor: Supervisor<AnalysisCommand, AnalysisEvent>;
  private readonly pending = new Map<string, PendingJob>();
  private jobCount = 0;

  constructor(options: AnalysisHostOptions) {
    this.supervisor = new Supervisor<AnalysisCommand, AnalysisEvent>({
      name: 'the analysis host',
      modulePath: options.launch.analysisModulePath,
      args: [options.dbPath, options.backend ?? ''],
      execArgv: options.launch.execArgv,
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      events: analysisEventSchema,
      echoStderr: options.echoStderr,
      readyTimeoutMs: options.readyTimeoutMs,
      stopGraceMs: options.stopGraceMs,
    });
    this.supervisor.onEvent((event) => this.onEvent(event));
    this.supervisor.onExit((exit) => this.onExit(exit));
  }

  get pid(): number | undefined {
    return this.supervisor.pid;
  }

  /** The id the next submitted job gets (its `job` events carry it before it is sent). */
  nextId(): string {
    return `job-${++this.jobCount}`;
  }

  /** Hands a job to the host (starting it if needed); resolves with the host's result, unchecked. */
  run(id: string, job: AnalysisJob, listener: JobListener): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending.set(id, { listener, resolve, reject });
      // A host that cannot start rejects the job through onExit, which names why.
      this.supervisor.start().catch(() => undefined);
      this.supervisor.send({ type: 'job', id, job });
    });
  }

  stop(): Promise<void> {
    return this.supervisor.stop();
  }

  private onEvent(event: AnalysisEvent): void {
    if (event.type === 'ready' || event.type === 'fatal') return;
    const job = this.pending.get(event.id);
    if (!job) return;
    switch (event.type) {
      case 'started':
        job.listener.started();
        return;
      case 'progress':
        job.listener.progress(event.message);
        return;
      case 'token':
        job.listener.token(event.index, event.token);
        return;
      case 'result':
        this.pending.delete(event.id);
        job.resolve(event.value);
        return;
      case 'error':
        this.pending.delete(event.id);
        job.reject(new JobError(event.message, false));
    }
  }

  /** Every job the host had is lost with it; a replacement starts with none. */
  private onExit(exit: ChildExit): void {
    const message = exit.startupFailure ?? exit.message;
    for (const job of this.pending.values()) job.reject(new JobError(message, true));
    this.pending.clear();
  }
}
