/** The training queue as people read it: each waiting run's position and when it should start (pure). */

export interface QueuedRunSize {
  runId: number;
  steps: number;
  batchSize: number;
  blockSize: number;
}

export interface QueueEstimate {
  runId: number;
  /** 1 = next to train. */
  position: number;
  /** Milliseconds from now until it starts; null while the speed or the running run's ETA is unknown. */
  startsInMs: number | null;
}

/**
 * Start estimates, at the current training speed: the running run's remaining time, then each run ahead's
 * tokens (steps × batch × block) at `tokensPerSecond`. Runs of another size train at another speed, so these are
 * rough, and the view says so.
 */
export function queueEstimates(queued: readonly QueuedRunSize[], runningEtaMs: number | null, tokensPerSecond: number | null): QueueEstimate[] {
  const known = runningEtaMs !== null && tokensPerSecond !== null && tokensPerSecond > 0;
  let startsInMs = runningEtaMs ?? 0;
  return queued.map((run, i) => {
    const estimate = { runId: run.runId, position: i + 1, startsInMs: known ? startsInMs : null };
    if (known) startsInMs += ((run.steps * run.batchSize * run.blockSize) / tokensPerSecond!) * 1000;
    return estimate;
  });
}
