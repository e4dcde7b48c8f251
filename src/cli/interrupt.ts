/**
 * Ctrl-C (SIGINT) and SIGTERM for commands that train: the run in progress stops cleanly (checkpoint written, status
 * 'stopped') instead of the process dying mid-write, and a command that trains several runs (sweep, recipe) starts
 * no further one. The command then exits 130, as a shell expects of an interrupted program.
 */
import type { RunEvents } from '../lab/runner';

/** Thrown by a multi-run command once it stopped on a signal; main maps it to exit code 130. */
export class InterruptedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterruptedError';
  }
}

export class SignalStop {
  private stopCurrent: (() => void) | undefined;
  private signal: NodeJS.Signals | undefined;
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.signal ??= signal;
    this.stopCurrent?.();
  };

  constructor() {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  get stopped(): boolean {
    return this.signal !== undefined;
  }

  /** `events` with the run's trainer registered, so a signal stops it (at once, if one already came). */
  wrap(events: RunEvents = {}): RunEvents {
    return {
      ...events,
      onStart: (runId, trainer) => {
        this.stopWith(() => trainer.stop());
        events.onStart?.(runId, trainer);
      },
    };
  }

  /** `stop` ends the run in progress on a signal (at once, if one already came): a trainer's, or the service's stopRun. */
  stopWith(stop: () => void): void {
    this.stopCurrent = stop;
    if (this.stopped) stop();
  }

  /** Throws InterruptedError when a signal came: call between runs. */
  check(what: string): void {
    if (this.signal) throw new InterruptedError(`${what} (${this.signal}); finished runs are kept, the stopped one keeps its checkpoint`);
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}
