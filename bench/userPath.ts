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
import { RunStore } from '../src/store';
import type { BenchDims } from './configs';

/** The phases every step passes through; the rest of a run's time is its fixed cost. */
const PER_STEP = new Set<Phase | 'untimed'>(['compute', 'read', 'store', 'progress', 'yield']);

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'gpt-lab.mjs');

export interface UserPathResult {
  steps: number;
  threads: number;
  /** Tokens over the child's whole life, spawn to exit. */
  endToEndTokensPerSecond: number;
  /** The trainer's own figure: tokens over the training loop (evaluation, samples, store writes included). */
  loopTokensPerSecond: number;
  /**
   * Steady state: one step's tokens over the median step of the run's second half, from the wall times it stored
   * (each step's row includes its store write, progress and yield): what a long run approaches.
   */
  steadyTokensPerSecond: number;
  wallMs: number;
  /**
   * What the run cost beyond its steps: every phase of its profile but the per-step ones (compute, read, store,
   * progress, yield), i.e. start-up, evaluation, samples, checkpoints, exit and the untimed rest.
   */
  fixedMs: number;
  phases: { phase: Phase | 'untimed'; ms: number; share: number }[];
}

/** `threads`: the CLI's --threads (default: its own default, auto). */
export function runUserPath(dims: BenchDims, steps: number, threads?: string): UserPathResult {
  const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-bench-user-'));
  try {
    const args = [cli, 'train', '--db', join(dir, 'runs.db'), '--json', '--profile', '--steps', String(steps), '--eval-every', '1000000'];
    args.push('--layers', String(dims.nLayer), '--heads', String(dims.nHead), '--embd', String(dims.nEmbd), '--block', String(dims.blockSize), '--batch', String(dims.batchSize));
    if (threads) args.push('--threads', threads);
    const started = performance.now();
    const out = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 24 });
    const wallMs = performance.now() - started;
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as { runId: number; tokensPerSecond: number; threads: number; profile: { phases: UserPathResult['phases'] } };
    return {
      steadyTokensPerSecond: (dims.batchSize * dims.blockSize) / (medianLateStepMs(join(dir, 'runs.db'), result.runId) / 1000),
      fixedMs: result.profile.phases.filter((p) => !PER_STEP.has(p.phase)).reduce((sum, p) => sum + p.ms, 0),
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

/** The median time between consecutive stored steps over the second half of the run (no evaluation in it). */
function medianLateStepMs(db: string, runId: number): number {
  const store = RunStore.open(db);
  try {
    const walls = store.metrics(runId).map((row) => row.wallMs);
    const late = walls.slice(Math.floor(walls.length / 2)).map((wall, i, all) => (i === 0 ? NaN : wall - all[i - 1]!)).slice(1, -1);
    late.sort((a, b) => a - b);
    return late[Math.floor(late.length / 2)] ?? NaN;
  } finally {
    store.close();
  }
}

/** The milliseconds of one phase of the run's profile (0 when it did not occur). */
export function phaseMs(result: UserPathResult, phase: Phase): number {
  return result.phases.find((p) => p.phase === phase)?.ms ?? 0;
}

/** One line of phases with their share of the child's wall time, largest first; phases under 0.5 % left out. */
export function phaseLine(result: UserPathResult): string {
  return [...result.phases]
    .filter((p) => p.share >= 0.005)
    .sort((a, b) => b.ms - a.ms)
    .map((p) => `${p.phase} ${(100 * p.share).toFixed(1)}%`)
    .join(', ');
}
