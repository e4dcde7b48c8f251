/**
 * The lab's run queue: runs wait in the order they came and one trains at a time. It knows nothing of hosts or the
 * store: `pump` hands the next run's command to `start` when nothing trains, and the service says when a run is
 * done (`finished`) or lost with its host (`abandon`).
 */
import type { QueueState } from '../shared/api';

export class RunQueue<Command> {
  private readonly waiting: { runId: number; command: Command }[] = [];
  private current: number | null = null;
  private closed = false;

  constructor(private readonly start: (runId: number, command: Command) => void) {}

  /** The run training now, if any. */
  get running(): number | null {
    return this.current;
  }

  get state(): QueueState {
    return { running: this.current, queued: this.waiting.map((item) => item.runId) };
  }

  isWaiting(runId: number): boolean {
    return this.waiting.some((item) => item.runId === runId);
  }

  /** Puts a run at the end of the queue; `pump` starts it when its turn comes. */
  add(runId: number, command: Command): void {
    if (this.closed) throw new Error(`the run queue is closed; run ${runId} was not queued`);
    this.waiting.push({ runId, command });
  }

  /** Takes a waiting run out of the queue; false when it was not waiting (training, or never queued). */
  remove(runId: number): boolean {
    const index = this.waiting.findIndex((item) => item.runId === runId);
    if (index < 0) return false;
    this.waiting.splice(index, 1);
    return true;
  }

  /** Starts the next waiting run when none trains; returns the run started, if any. */
  pump(): number | null {
    if (this.current !== null) return null;
    const next = this.waiting.shift();
    if (!next) return null;
    this.current = next.runId;
    this.start(next.runId, next.command);
    return next.runId;
  }

  /** The run that trained is done: the next one may start (a `done` for another run changes nothing). */
  finished(runId: number): void {
    if (this.current === runId) this.current = null;
  }

  /** The host went away with the current run: returns it (the caller marks it), nothing trains now. */
  abandon(): number | null {
    const runId = this.current;
    this.current = null;
    return runId;
  }

  /** Empties the queue and returns the runs that were waiting, in order (the caller marks why they never ran). */
  drain(): number[] {
    return this.waiting.splice(0).map((item) => item.runId);
  }

  /** No run is queued from now on (so none starts); returns the runs that were waiting. */
  close(): number[] {
    this.closed = true;
    return this.drain();
  }
}
