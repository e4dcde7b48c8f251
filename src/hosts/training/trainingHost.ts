/**
 * What the training host process does with each message, separate from the process wiring in entry.ts so tests
 * can drive it directly. One run at a time: LabService keeps the queue and sends the next run when this one is done.
 */
import type { BackendInfo } from '../../engine/backend';
import type { RunConfig } from '../../engine/config';
import type { StepMetrics, Trainer } from '../../engine/train/trainer';
import type { RunStore } from '../../store';
import type { LiveMetricRow } from '../../shared/api';
import { hostCommandSchema, METRICS_EVENT_INTERVAL_MS, type HostCommand, type HostEvent } from './protocol';
import { resumeRun, trainQueuedRun, type RunEvents, type RunResult } from '../../lab/runner';
import { prepareRun } from '../../lab/prepare';

/** Why a run whose app went away mid-step is interrupted; it kept a checkpoint of that step. */
export const PARENT_GONE = 'GPT Lab closed unexpectedly while this run was training; it kept a checkpoint and can continue';

interface CurrentRun {
  runId: number;
  trainer: Trainer | null;
  /** Requests that arrived before the trainer existed (while data loads), applied when it starts. */
  stopRequested: boolean;
  pauseRequested: boolean;
}

export interface TrainingHostOptions {
  store: RunStore;
  send: (event: HostEvent) => void;
  /** Resolves once the backend is loaded; training waits for it. */
  backend: Promise<BackendInfo>;
  /** Called once a shutdown request has let the current run finish. */
  onShutdown?: () => void;
  metricsIntervalMs?: number;
}

export class TrainingHost {
  private current: CurrentRun | null = null;
  private shuttingDown = false;
  private orphaned = false;
  private pendingRows: LiveMetricRow[] = [];
  private lastMetricsSent = 0;

  constructor(private readonly options: TrainingHostOptions) {}

  get busy(): boolean {
    return this.current !== null;
  }

  /**
   * The parent is gone without asking for a shutdown (it crashed or was killed): stop the current run at the end of
   * its step with a checkpoint, record it as interrupted rather than stopped (nobody stopped it), and shut down.
   */
  parentGone(): void {
    this.orphaned = true;
    this.apply({ type: 'shutdown' });
  }

  /** Validates and acts on one message from the parent; a malformed one is answered with 'rejected'. */
  handle(message: unknown): void {
    const parsed = hostCommandSchema.safeParse(message);
    if (!parsed.success) {
      const claimed = (message as { runId?: unknown } | null)?.runId;
      const runId = typeof claimed === 'number' && Number.isInteger(claimed) && claimed > 0 ? claimed : undefined;
      this.reject(`malformed message: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ')}`, runId);
      return;
    }
    this.apply(parsed.data);
  }

  private apply(command: HostCommand): void {
    switch (command.type) {
      case 'train':
        this.start(command.runId, () => trainQueuedRun(this.options.store, command.runId, prepareRun(command.input, this.options.store), this.events()));
        return;
      case 'continue':
        this.start(command.runId, () => this.continueRun(command.runId));
        return;
      case 'stop':
      case 'pause':
      case 'resume':
        this.control(command.type, command.runId);
        return;
      case 'shutdown':
        this.shuttingDown = true;
        if (this.current) this.control('stop', this.current.runId);
        else this.options.onShutdown?.();
    }
  }

  private continueRun(runId: number): Promise<RunResult> {
    const { store } = this.options;
    if (store.latestCheckpoint(runId)) return resumeRun(store, runId, this.events());
    const run = store.getRun(runId);
    if (!run) throw new Error(`run ${runId} does not exist`);
    return trainQueuedRun(store, runId, prepareRun({ config: run.config as RunConfig, name: run.name }, store), this.events());
  }

  private start(runId: number, work: () => Promise<RunResult>): void {
    if (this.current) {
      this.reject(`busy with run ${this.current.runId}; run ${runId} was not started`, runId);
      return;
    }
    if (this.shuttingDown) {
      this.reject(`shutting down; run ${runId} was not started`, runId);
      return;
    }
    this.current = { runId, trainer: null, stopRequested: false, pauseRequested: false };
    void this.run(runId, work);
  }

  private async run(runId: number, work: () => Promise<RunResult>): Promise<void> {
    const { send, store } = this.options;
    send({ type: 'started', runId });
    try {
      await this.options.backend;
      const result = await work();
      this.flushMetrics(runId);
      if (this.orphaned && result.status === 'stopped') {
        store.updateRun(runId, { status: 'interrupted', error: PARENT_GONE });
        send({ type: 'done', runId, status: 'interrupted', lastStep: result.steps - 1, error: PARENT_GONE });
      } else send({ type: 'done', runId, status: result.status, lastStep: result.steps - 1, error: result.message ?? null });
    } catch (error) {
      this.flushMetrics(runId);
      const message = error instanceof Error ? error.message : String(error);
      // Errors before training began (bad data, missing checkpoint) have not been recorded by the runner.
      try {
        const run = store.getRun(runId);
        if (run && run.status !== 'failed') store.updateRun(runId, { status: 'failed', finishedAt: Date.now(), error: message });
      } catch {
        // The store itself failed; the parent still hears about the run below.
      }
      send({ type: 'done', runId, status: 'failed', lastStep: store.getRun(runId)?.lastStep ?? -1, error: message });
    } finally {
      this.current = null;
      if (this.shuttingDown) this.options.onShutdown?.();
    }
  }

  private control(kind: 'stop' | 'pause' | 'resume', runId: number): void {
    const current = this.current;
    if (!current || current.runId !== runId) {
      this.reject(`run ${runId} is not training here; cannot ${kind} it`);
      return;
    }
    const { trainer } = current;
    if (kind === 'stop') {
      current.stopRequested = true;
      trainer?.stop();
      return;
    }
    current.pauseRequested = kind === 'pause';
    if (!trainer) return;
    if (kind === 'pause') trainer.pause();
    else trainer.resume();
    this.reportPause(runId, kind === 'pause');
  }

  private reportPause(runId: number, paused: boolean): void {
    this.flushMetrics(runId);
    const status = paused ? 'paused' : 'running';
    this.options.store.updateRun(runId, { status });
    this.options.send({ type: 'status', runId, status });
  }

  private events(): RunEvents {
    return {
      onStart: (runId, trainer) => {
        const current = this.current;
        if (!current || current.runId !== runId) return;
        current.trainer = trainer;
        this.options.send({ type: 'status', runId, status: 'running' });
        if (current.stopRequested) trainer.stop();
        else if (current.pauseRequested) {
          trainer.pause();
          this.reportPause(runId, true);
        }
      },
      onStep: (runId, metrics) => this.queueMetrics(runId, metrics),
      onSample: (runId, sample) => {
        this.flushMetrics(runId);
        this.options.send({ type: 'sample', runId, ...sample });
      },
    };
  }

  private queueMetrics(runId: number, m: StepMetrics): void {
    const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
    this.pendingRows.push({
      step: m.step,
      tokens: m.tokens,
      wallMs: m.wallMs,
      trainLoss: finite(m.trainLoss),
      valLoss: m.valLoss === null ? null : finite(m.valLoss),
      lr: m.lr,
      gradNorm: finite(m.gradNorm),
      tokensPerSecond: m.tokensPerSecond,
    });
    const interval = this.options.metricsIntervalMs ?? METRICS_EVENT_INTERVAL_MS;
    if (m.valLoss !== null || performance.now() - this.lastMetricsSent >= interval) this.flushMetrics(runId);
  }

  private flushMetrics(runId: number): void {
    if (this.pendingRows.length === 0) return;
    const rows = this.pendingRows;
    this.pendingRows = [];
    this.lastMetricsSent = performance.now();
    this.options.send({ type: 'metrics', runId, rows });
  }

  private reject(reason: string, runId?: number): void {
    this.options.send(runId === undefined ? { type: 'rejected', reason } : { type: 'rejected', reason, runId });
  }
}
