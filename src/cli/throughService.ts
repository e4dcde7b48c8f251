/**
 * The CLI's way into the lab: the same facade (LabService) as Electron main and the web server, with the training
 * host in this process (src/hosts/training/inProcess.ts) instead of a forked one, so a command starts no child and
 * trains on the same path, with the same checks, as the app.
 */
import type { BackendInfo, BackendName } from '../engine/backend';
import type { PhaseProfile } from '../engine/train/profile';
import { InProcessTrainingHost } from '../hosts/training/inProcess';
import type { RunResult } from '../lab/runner';
import { LabService } from '../service/labService';
import type { RunInfo, RunStatus } from '../shared/api';
import type { SignalStop } from './interrupt';
import { dbPathOf } from './paths';

const FINAL: readonly RunStatus[] = ['completed', 'stopped', 'diverged', 'failed', 'interrupted'];

/**
 * A service on the database of `--db`. It does not claim the database: a GPT Lab may be open on the same file, and
 * its live runs are its own.
 */
export function openService(opts: { db?: string }, host: { backend?: BackendName; profile?: PhaseProfile } = {}): LabService {
  const dbPath = dbPathOf(opts);
  return new LabService({ dbPath, trainingHost: new InProcessTrainingHost({ dbPath, ...host }), claimDatabase: false });
}

/** What a command hears of its run while it trains. */
export interface RunWatcher {
  step(row: { step: number; trainLoss: number | null; valLoss: number | null; tokensPerSecond: number }): void;
}

/**
 * Starts a run with `start` (a service call that queues one and answers its id) and follows its events to its end:
 * rows to `watcher`, a signal to stopRun (the run stops at the end of its step with a checkpoint). Resolves with the
 * result as the runner returns it; a run that failed rejects with its error, as the runner throws it.
 */
export async function followRun(service: LabService, start: () => Promise<number>, watcher: RunWatcher, interrupt: SignalStop): Promise<RunResult> {
  let runId: number | undefined;
  let settle!: (end: { status: RunStatus; lastStep?: number; error?: string | null }) => void;
  const ended = new Promise<{ status: RunStatus; lastStep?: number; error?: string | null }>((resolve) => (settle = resolve));
  // Training begins only once the backend has loaded, after start() answered: nothing of the run is missed.
  const unsubscribe = service.subscribe((event) => {
    if (event.channel === 'run:metrics' && event.payload.runId === runId) for (const row of event.payload.rows) watcher.step(row);
    if (event.channel === 'run:status' && event.payload.runId === runId && FINAL.includes(event.payload.status)) settle(event.payload);
  });
  try {
    runId = await start();
    const id = runId;
    interrupt.stopWith(() => void service.stopRun({ runId: id }).catch(() => undefined));
    const end = await ended;
    return resultOf(await service.getRun({ runId: id }), end);
  } finally {
    unsubscribe();
  }
}

/** The runner's RunResult, read back from the stored run and the event that ended it. */
function resultOf(run: RunInfo, end: { status: RunStatus; lastStep?: number; error?: string | null }): RunResult {
  const error = end.error ?? run.error;
  if (end.status === 'failed' || end.status === 'interrupted') throw new Error(error ?? `run ${run.id} ${end.status}`);
  const result: RunResult = {
    runId: run.id,
    status: end.status as RunResult['status'],
    steps: (end.lastStep ?? run.lastStep) + 1,
    finalTrainLoss: run.finalTrainLoss,
    finalValLoss: run.finalValLoss,
    tokensPerSecond: run.tokensPerSecond ?? 0,
    backend: run.backend as BackendInfo,
    params: run.params ?? 0,
  };
  return error ? { ...result, message: error } : result;
}
