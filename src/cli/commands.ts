/** The actions behind each `gpt-lab` subcommand. */
import { writeFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { backendLabel, type BackendName } from '../engine/backend';
import { PhaseProfile, timePhase } from '../engine/train/profile';
import type { StepMetrics } from '../engine/train/trainer';
import { resumeRun, trainNewRun, type RunEvents, type RunResult } from '../lab/runner';
import { prepareRun, type PreparedRun } from '../lab/prepare';
import { MAX_SEEDS, seedRuns, summariseSeeds, type SeedOutcome } from '../lab/seedGroup';
import { formatSpread } from '../lab/stats';
import type { TextLookup } from '../lab/uploadedTexts';
import { RunStore, type RunRecord } from '../store';
import { metricsCsv } from '../lab/export';
import { DECIMAL_INTEGER } from '../shared/limits';
import { UsageError, parseName, trainOverrides, type TrainOptionValues } from './args';
import { SignalStop } from './interrupt';
import { checkOutputPath, dbPathOf } from './paths';

/** `mustExist` for commands that only read or continue runs: a mistyped path must not create a database. */
export function openStore(opts: { db?: string }, mustExist = false): RunStore {
  return RunStore.open(dbPathOf(opts), { mustExist });
}

/** Uploaded texts (`--data text:<sha256>`), read from the database only when a run names one. */
export function storedTexts(opts: { db?: string }): TextLookup {
  return {
    getText(id) {
      const store = openStore(opts, true);
      try {
        return store.getText(id);
      } finally {
        store.close();
      }
    },
  };
}

export function parseRunId(raw: string): number {
  const id = Number(raw);
  if (!DECIMAL_INTEGER.test(raw) || !Number.isSafeInteger(id) || id < 1) throw new UsageError(`RUN_ID must be a positive decimal integer, got ${JSON.stringify(raw)}`);
  return id;
}

function requireRun(store: RunStore, id: number): RunRecord {
  const run = store.getRun(id);
  if (!run) throw new UsageError(`run ${id} does not exist in this database`);
  return run;
}

/** A progress bar on a terminal; a line per evaluation otherwise (logs, CI). */
export function progressReporter(totalSteps: number, startStep: number): RunEvents & { finish(): void } {
  const interactive = process.stderr.isTTY === true;
  const bar = interactive
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: 'train |{bar}| {value}/{total} loss {loss} val {val} {tps} tok/s ETA {eta_formatted}', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let lastVal = '–';
  bar?.start(totalSteps, startStep, { loss: '–', val: lastVal, tps: '–' });
  return {
    onStep: (_runId: number, m: StepMetrics) => {
      if (m.valLoss !== null) lastVal = m.valLoss.toFixed(3);
      const payload = { loss: m.trainLoss.toFixed(3), val: lastVal, tps: Math.round(m.tokensPerSecond) };
      if (bar) bar.update(m.step + 1, payload);
      else if (m.valLoss !== null) process.stderr.write(`step ${m.step + 1}/${totalSteps} loss ${payload.loss} val ${payload.val} ${payload.tps} tok/s\n`);
    },
    finish: () => bar?.stop(),
  };
}

/** What `--json` prints for a run; a diverged run says why (e.g. "loss became NaN at step 41"). */
export function resultSummary(result: RunResult): Record<string, unknown> {
  const { runId, status, steps, finalTrainLoss, finalValLoss, tokensPerSecond, backend, params, message } = result;
  const summary = { runId, status, steps, finalTrainLoss, finalValLoss, tokensPerSecond, backend: backend.name, threads: backend.threads, gpu: backend.gpu, adapter: backend.adapter, params };
  return message ? { ...summary, message } : summary;
}

type ProfileReport = ReturnType<PhaseProfile['report']>;

export function printResult(result: RunResult, json: boolean, profile?: ProfileReport): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...resultSummary(result), ...(profile && { profile }) })}\n`);
    return;
  }
  if (profile) printProfile(profile);
  const val = result.finalValLoss === null ? '–' : result.finalValLoss.toFixed(4);
  process.stdout.write(`run ${result.runId} ${result.status} after ${result.steps} steps: val loss ${val}, ${Math.round(result.tokensPerSecond)} tok/s on ${backendLabel(result.backend)}${result.backend.gpu ? ' (GPU)' : ''}\n`);
  if (result.message) process.stdout.write(`${result.message}\n`);
}

/** The --profile table, on stderr: each phase's milliseconds and share of the process's wall time. */
function printProfile({ wallMs, phases }: ProfileReport): void {
  process.stderr.write(`profile: ${(wallMs / 1000).toFixed(2)} s of wall time\n`);
  for (const { phase, ms, share } of phases) if (ms >= 0.5) process.stderr.write(`  ${phase.padEnd(11)}${ms.toFixed(0).padStart(8)} ms ${(100 * share).toFixed(1).padStart(6)} %\n`);
}

type TrainCommandOptions = TrainOptionValues & { db?: string; name?: string; json?: boolean; backend?: BackendName; seeds?: string; profile?: boolean };

export async function trainCommand(opts: TrainCommandOptions): Promise<void> {
  // performance.now() counts from the process's start: what came before this line is start-up the user waited for.
  const profile = opts.profile ? new PhaseProfile() : undefined;
  profile?.add('boot', 0);
  const seeds = opts.seeds === undefined ? undefined : parseSeeds(opts.seeds);
  const prepared = await timePhase(profile, 'prepare', () =>
    prepareRun({ config: { ...trainOverrides(opts), ...(opts.backend && { backend: opts.backend }) }, name: parseName('name', opts.name) }, storedTexts(opts)),
  );
  if (seeds !== undefined) return trainSeeds(seedRuns(prepared, seeds), opts);
  const store = await timePhase(profile, 'store', () => openStore(opts));
  const progress = progressReporter(prepared.config.steps, 0);
  const interrupt = new SignalStop();
  try {
    const result = await trainNewRun(store, prepared, { ...interrupt.wrap(progress), profile });
    progress.finish();
    printResult(result, opts.json === true, profile?.report());
    if (result.status === 'diverged') process.exitCode = 1;
  } finally {
    interrupt.dispose();
    progress.finish();
    store.close();
  }
}

/** `--seeds k`: 1 … MAX_SEEDS (train and sweep). */
export function parseSeeds(raw: string): number {
  const k = Number(raw);
  if (!DECIMAL_INTEGER.test(raw) || k < 1 || k > MAX_SEEDS) throw new UsageError(`--seeds: expected an integer from 1 to ${MAX_SEEDS}, got ${JSON.stringify(raw)}`);
  return k;
}

/** `train --seeds k`: the group's runs one after another; Ctrl-C stops the current one and starts no further one. */
async function trainSeeds(runs: PreparedRun[], opts: TrainCommandOptions): Promise<void> {
  const store = openStore(opts);
  const interrupt = new SignalStop();
  const outcomes: (SeedOutcome & { result: RunResult })[] = [];
  try {
    for (const run of runs) {
      const progress = progressReporter(run.config.steps, 0);
      const result = await trainNewRun(store, run, interrupt.wrap(progress)).finally(() => progress.finish());
      outcomes.push({ seed: run.config.seed, runId: result.runId, status: result.status, finalValLoss: result.finalValLoss, result });
      if (!opts.json) printResult(result, false);
      interrupt.check(`train --seeds stopped after ${outcomes.length} of ${runs.length} seeds`);
    }
  } finally {
    interrupt.dispose();
    store.close();
  }
  const summary = summariseSeeds(runs[0]!.sweepKey!, outcomes.map(({ result: _result, ...outcome }) => outcome));
  if (opts.json) {
    const perSeed = outcomes.map(({ seed, result }) => ({ seed, ...resultSummary(result) }));
    process.stdout.write(`${JSON.stringify({ group: summary.group, perSeed, finalValLoss: summary.finalValLoss })}\n`);
  } else {
    const spreadText = summary.finalValLoss
      ? `${formatSpread(summary.finalValLoss, 4)} (mean ± std; 95% interval [${summary.finalValLoss.low.toFixed(4)}, ${summary.finalValLoss.high.toFixed(4)}])`
      : 'needs at least 2 seeds with a final val loss';
    process.stdout.write(`group ${summary.group}: final val loss over ${summary.finalValLoss?.n ?? 0} of ${runs.length} seeds: ${spreadText}\n`);
  }
  if (outcomes.some((o) => o.status === 'diverged')) process.exitCode = 1;
}

export async function resumeCommand(rawId: string, opts: { db?: string; json?: boolean; threads?: string }): Promise<void> {
  const id = parseRunId(rawId);
  const threads = opts.threads === undefined ? undefined : trainOverrides({ threads: opts.threads }).threads;
  const store = openStore(opts, true);
  try {
    const run = requireRun(store, id);
    // resumeRun checks the checkpoint, the data and who owns the run before it loads a backend.
    const progress = progressReporter((run.config as { steps: number }).steps, run.lastStep + 1);
    const interrupt = new SignalStop();
    try {
      const result = await resumeRun(store, run.id, interrupt.wrap(progress), threads);
      progress.finish();
      printResult(result, opts.json === true);
      if (result.status === 'diverged') process.exitCode = 1;
    } finally {
      interrupt.dispose();
      progress.finish();
    }
  } finally {
    store.close();
  }
}

export function runsCommand(opts: { db?: string; json?: boolean }): void {
  const store = openStore(opts, true);
  try {
    // A run whose training process was killed is shown as what it is.
    store.markInterrupted();
    const runs = store.listRuns();
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(runs.map(({ id, ...rest }) => ({ runId: id, ...rest })), null, 2)}\n`);
      return;
    }
    if (runs.length === 0) {
      process.stdout.write('no runs yet: try `gpt-lab train --preset nano --data builtin:toy-english --steps 300`\n');
      return;
    }
    // A row that cannot be read back is listed with what is wrong, not allowed to hide the others.
    const rows = runs.map((r) => [String(r.id), r.status, r.finalValLoss === null ? '–' : r.finalValLoss.toFixed(4), String(r.lastStep), r.damaged ? `${r.name} [damaged: ${r.damaged}]` : r.name]);
    const header = ['id', 'status', 'val loss', 'step', 'name'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const row of [header, ...rows]) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()}\n`);
  } finally {
    store.close();
  }
}

export function exportCommand(rawId: string, opts: { db?: string; format: 'csv' | 'json'; out?: string }): void {
  const id = parseRunId(rawId);
  if (opts.out) checkOutputPath(opts.out, dbPathOf(opts));
  const store = openStore(opts, true);
  try {
    const run = requireRun(store, id);
    const metrics = store.metrics(run.id);
    const text = opts.format === 'csv' ? metricsCsv(metrics) : `${JSON.stringify({ runId: run.id, name: run.name, config: run.config, metrics }, null, 2)}\n`;
    if (opts.out) writeFileSync(opts.out, text);
    else process.stdout.write(text);
  } finally {
    store.close();
  }
}
