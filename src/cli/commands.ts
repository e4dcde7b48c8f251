/** The actions behind each `gpt-lab` subcommand. */
import { writeFileSync } from 'node:fs';
import type { BackendName } from '../engine/backend';
import { resumeRun, trainNewRun, type RunResult } from '../lab/runner';
import { prepareRun, type PreparedRun } from '../lab/prepare';
import { MAX_SEEDS, seedRuns, summariseSeeds, type SeedOutcome } from '../lab/seedGroup';
import { formatSpread } from '../lab/stats';
import type { TextLookup } from '../lab/uploadedTexts';
import { RunStore, type RunRecord } from '../store';
import { metricsCsv } from '../lab/export';
import { DECIMAL_INTEGER } from '../shared/limits';
import { UsageError, parseName, trainOverrides, type TrainOptionValues } from './args';
import { SignalStop } from './interrupt';
import { printResult, progressReporter, resultSummary } from './runOutput';
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

export type TrainCommandOptions = TrainOptionValues & { db?: string; name?: string; json?: boolean; backend?: BackendName; seeds?: string; profile?: boolean };

/** `train --seeds k` (one run trains through the service: trainCommand.ts). */
export async function trainSeedsCommand(opts: TrainCommandOptions & { seeds: string }): Promise<void> {
  const seeds = parseSeeds(opts.seeds);
  const prepared = prepareRun({ config: { ...trainOverrides(opts), ...(opts.backend && { backend: opts.backend }) }, name: parseName('name', opts.name) }, storedTexts(opts));
  return trainSeeds(seedRuns(prepared, seeds), opts);
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
