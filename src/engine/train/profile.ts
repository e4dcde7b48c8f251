/**
 * Where a run's wall time goes, phase by phase: an opt-in profile (`gpt-lab train --profile`) that the trainer, the
 * runner and the CLI add to. Each phase is timed where it happens and the phases do not overlap, so their sum is
 * the profiled time and `wall − sum` is what nobody timed.
 */
export const PHASES = [
  'boot', // process start → the command's first line: Node, tsx, module loading
  'prepare', // config validation and loading the data
  'backend', // choosing and initialising the tfjs backend
  'model', // building the model's weights
  'helpers', // starting the gradient helper threads
  'compute', // the training steps' forward, backward and optimizer (helpers' shards included)
  'read', // awaiting the step's loss and gradient norm
  'eval', // validation losses
  'sample', // generating samples
  'checkpoint', // reading weights and optimizer state and encoding them
  'store', // database writes: the run row, metric batches, samples, checkpoints
  'progress', // the CLI's progress output (and any other step listener)
  'yield', // letting the event loop in between steps
  'teardown', // disposing the model, optimizer and helper threads
] as const;
export type Phase = (typeof PHASES)[number];

export class PhaseProfile {
  readonly ms = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;

  /** Adds the time since `startedAt` (a performance.now() reading) to `phase`; returns now, to chain phases. */
  add(phase: Phase, startedAt: number): number {
    const now = performance.now();
    this.ms[phase] += now - startedAt;
    return now;
  }

  async time<T>(phase: Phase, work: () => T | Promise<T>): Promise<T> {
    const startedAt = performance.now();
    try {
      return await work();
    } finally {
      this.add(phase, startedAt);
    }
  }

  /** Every phase with its share of `wallMs` (the process's time so far unless given), and the untimed rest. */
  report(wallMs = performance.now()): { wallMs: number; phases: { phase: Phase | 'untimed'; ms: number; share: number }[] } {
    const timed = PHASES.reduce((sum, p) => sum + this.ms[p], 0);
    const phases = [...PHASES.map((phase) => ({ phase, ms: this.ms[phase] })), { phase: 'untimed' as const, ms: wallMs - timed }];
    return { wallMs, phases: phases.map((p) => ({ ...p, share: wallMs > 0 ? p.ms / wallMs : 0 })) };
  }
}

/** `work`, timed into `profile`'s `phase` when there is a profile. */
export function timePhase<T>(profile: PhaseProfile | undefined, phase: Phase, work: () => T | Promise<T>): Promise<T> {
  return profile ? profile.time(phase, work) : Promise.resolve(work());
}
