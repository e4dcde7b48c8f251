/** What a command that trains shows while and after it trains: the progress line, the result, the --profile table. */
import cliProgress from 'cli-progress';
import { BACKEND_NAMES, backendLabel } from '../engine/backend';
import type { PhaseProfile } from '../engine/train/profile';
import type { StepMetrics } from '../engine/train/trainer';
import type { RunEvents, RunResult } from '../lab/runner';

/** One step as the progress line shows it: a trainer's metrics, or a row of the service's `run:metrics` (null: not finite). */
type ProgressRow = Pick<StepMetrics, 'step' | 'valLoss' | 'tokensPerSecond'> & { trainLoss: number | null };

/** A progress bar on a terminal; a line per evaluation otherwise (logs, CI). */
export function progressReporter(totalSteps: number, startStep: number): RunEvents & { step(row: ProgressRow): void; finish(): void } {
  const interactive = process.stderr.isTTY === true;
  const bar = interactive
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: 'train |{bar}| {value}/{total} loss {loss} val {val} {tps} tok/s ETA {eta_formatted}', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let lastVal = '–';
  bar?.start(totalSteps, startStep, { loss: '–', val: lastVal, tps: '–' });
  const step = (m: ProgressRow): void => {
    if (m.valLoss !== null) lastVal = m.valLoss.toFixed(3);
    const payload = { loss: (m.trainLoss ?? Number.NaN).toFixed(3), val: lastVal, tps: Math.round(m.tokensPerSecond) };
    if (bar) bar.update(m.step + 1, payload);
    else if (m.valLoss !== null) process.stderr.write(`step ${m.step + 1}/${totalSteps} loss ${payload.loss} val ${payload.val} ${payload.tps} tok/s\n`);
  };
  return {
    step,
    onStep: (_runId: number, m: StepMetrics) => step(m),
    finish: () => bar?.stop(),
  };
}

/** What `--json` prints for a run; a diverged run says why (e.g. "loss became NaN at step 41"). */
export function resultSummary(result: RunResult): Record<string, unknown> {
  const { runId, status, steps, finalTrainLoss, finalValLoss, tokensPerSecond, backend, params, message } = result;
  const summary = { runId, status, steps, finalTrainLoss, finalValLoss, tokensPerSecond, backend: backend.name, threads: backend.threads, gpu: backend.gpu, adapter: backend.adapter, matmul: backend.matmul, notes: backend.notes, params };
  return message ? { ...summary, message } : summary;
}

export type ProfileReport = ReturnType<PhaseProfile['report']>;

export function printResult(result: RunResult, json: boolean, profile?: ProfileReport): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...resultSummary(result), ...(profile && { profile }) })}\n`);
    return;
  }
  if (profile) printProfile(profile);
  const val = result.finalValLoss === null ? '–' : result.finalValLoss.toFixed(4);
  process.stdout.write(`run ${result.runId} ${result.status} after ${result.steps} steps: val loss ${val}, ${Math.round(result.tokensPerSecond)} tok/s on ${backendLabel(result.backend)}${result.backend.gpu ? ' (GPU)' : ''}\n`);
  if (result.message) process.stdout.write(`${result.message}\n`);
  // What the chosen backend falls short of (a GPU package on the CPU, no BLAS); which rungs were skipped and why
  // ("name: reason") stays in --json and the app's badge, or every run on a CPU machine would list them.
  for (const note of result.backend.notes.filter((n) => !BACKEND_NAMES.some((name) => n.startsWith(`${name}: `)))) process.stderr.write(`note: ${note}\n`);
}

/** The --profile table, on stderr: each phase's milliseconds and share of the process's wall time. */
function printProfile({ wallMs, phases }: ProfileReport): void {
  process.stderr.write(`profile: ${(wallMs / 1000).toFixed(2)} s of wall time\n`);
  for (const { phase, ms, share } of phases) if (ms >= 0.5) process.stderr.write(`  ${phase.padEnd(11)}${ms.toFixed(0).padStart(8)} ms ${(100 * share).toFixed(1).padStart(6)} %\n`);
}

