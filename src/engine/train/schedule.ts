/** Learning rate at `step` (0-based): linear warmup to `lr`, then cosine decay to `minLr` at the last step (nanoGPT). */
export function learningRate(step: number, opts: { lr: number; minLr: number; warmupSteps: number; steps: number }): number {
  const { lr, minLr, warmupSteps, steps } = opts;
  if (step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
  const decaySteps = steps - warmupSteps;
  if (decaySteps <= 1) return lr;
  const progress = Math.min(1, (step - warmupSteps) / (decaySteps - 1));
  return minLr + 0.5 * (1 + Math.cos(Math.PI * progress)) * (lr - minLr);
}
