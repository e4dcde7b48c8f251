/**
 * The user's path, measured as the user meets it: `gpt-lab train` in a child process, end to end (start-up, the
 * store, progress, samples and the final evaluation and checkpoint included), with the run's default settings
 * except the model's dimensions, a fixed step count and evaluation only at the end. Its --profile says where the
 * time went, phase by phase.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Phase } from '../src/engine/train/profile';
import type { BenchDims } from './configs';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'gpt-lab.mjs');

export interface UserPathResult {
  steps: number;
  threads: number;
  /** Tokens over the child's whole life, spawn to exit. */
  endToEndTokensPerSecond: number;
  /** The trainer's own figure: tokens over the training loop (evaluation, samples, store writes included). */
  loopTokensPerSecond: number;
  wallMs: number;
  phases: { phase: Phase | 'untimed'; ms: number; share: number }[];
}

export function runUserPath(dims: BenchDims, steps: number, extraArgs: string[] = []): UserPathResult {
  const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-bench-user-'));
  try {
    const args = [cli, 'train', '--db', join(dir, 'runs.db'), '--json', '--profile', '--steps', String(steps), '--eval-every', '1000000'];
    args.push('--layers', String(dims.nLayer), '--heads', String(dims.nHead), '--embd', String(dims.nEmbd), '--block', String(dims.blockSize), '--batch', String(dims.batchSize), ...extraArgs);
    const started = performance.now();
    const out = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 24 });
    const wallMs = performance.now() - started;
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as { tokensPerSecond: number; threads: number; profile: { phases: UserPathResult['phases'] } };
    return {
      steps,
      threads: result.threads,
      endToEndTokensPerSecond: (steps * dims.batchSize * dims.blockSize) / (wallMs / 1000),
      loopTokensPerSecond: result.tokensPerSecond,
      wallMs,
      phases: result.profile.phases,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line of phases with their share of the child's wall time, largest first; phases under 0.5 % left out. */
export function phaseLine(result: UserPathResult): string {
  return [...result.phases]
    .filter((p) => p.share >= 0.005)
    .sort((a, b) => b.ms - a.ms)
    .map((p) => `${p.phase} ${(100 * p.share).toFixed(1)}%`)
    .join(', ');
}
