/** Learning rate at `step` (0-based): linear warmup to `lr`, then cosine decay to `minLr` at the last step (nanoGPT). */
export function learningRate(step: number, opts: { lr: number; minLr: number; warmupSteps: number; steps: number }): number {
  const { lr, minLr, warmupSteps, steps } = opts;
  if (step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
  const decaySteps = steps - warmupSteps;
  if (decaySteps <= 1) return lr;
  const progress = Math.min(1, (step - warmupSteps) / (decaySteps - 1));
  return minLr + 0.5 * (1 + Math.cos(Math.PI * progress)) * (lr - minLr);
}

/** Validation points a run gets when evalEvery is left automatic (0), whatever its length. */
export const AUTO_EVAL_POINTS = 20;

/** Steps between val losses: evalEvery when set, else about AUTO_EVAL_POINTS evenly spread over the run. */
export function evalInterval(opts: { evalEvery: number; steps: number }): number {
  return opts.evalEvery > 0 ? opts.evalEvery : Math.max(1, Math.round(opts.steps / AUTO_EVAL_POINTS));
}

/**
 * Whether a sample is written after `done` steps: every sampleEvery, at the last step, and once early (at the first
 * val point when that comes sooner), so a run shows what it writes long before its first sampleEvery.
 */
export function isSampleStep(done: number, opts: { sampleEvery: number; steps: number; evalInterval: number }): boolean {
  if (opts.sampleEvery <= 0) return false;
  return done % opts.sampleEvery === 0 || done === opts.steps || done === Math.min(opts.sampleEvery, opts.evalInterval);
}
