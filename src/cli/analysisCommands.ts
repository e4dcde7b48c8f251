/** `gpt-lab eval-length`, `task-length`, `probe` and `sweep`: evaluation of stored runs. */
import { initBackend } from '../engine/backend';
import { ConfigError, DEFAULT_CONFIG, resolveConfig, type NormPlacement, type RunConfig } from '../engine/config';
import { DataError } from '../engine/data/errors';
import { PROBE_KINDS, type ProbeKind } from '../engine/eval/probes';
import { getScheme } from '../engine/model/positional/registry';
import type { RopeScaling } from '../engine/model/positional/rope';
import { accuracyInterval } from '../engine/eval/taskAccuracy';
import { evalLengthForRun, probeForRun, taskLengthForRun, type EvalLengthResult } from '../lab/analysis';
import { trainNewRun } from '../lab/runner';
import { prepareRun } from '../lab/prepare';
import { GRID_AXES, SEED_AXES, SweepCellsError, SweepGridError, expandGrid, finishedCell, prepareSweep, type GridCell, type SweepCell, type SweepGrid } from '../lab/sweeps';
import { SweepCoordinator, storeTagOf, type CellOutcome } from '../lab/queuedSweep';
import { RECIPES, getRecipe, runRecipe } from '../lab/recipes';
import { describeQueue, redisOptionsOf } from '../worker/connection';
import { RunStore } from '../store';
import { DECIMAL_INTEGER, MAX_SWEEP_RUNS } from '../shared/limits';
import { FLAG_OF_FIELD, UsageError, parseName, trainOverrides, type TrainOptionValues } from './args';
import { parseRunId, parseSeeds, storedTexts } from './commands';
import { overSeeds } from '../lab/seedGroup';
import { SignalStop } from './interrupt';
import { dbPathOf } from './paths';

function parseIntList(flag: string, raw: string): number[] {
  const values = raw.split(',').map((s) => s.trim());
  const numbers = values.map(Number);
  const bad = values.filter((s, i) => !DECIMAL_INTEGER.test(s) || !Number.isSafeInteger(numbers[i]) || numbers[i] < 1);
  if (bad.length) throw new UsageError(`--${flag}: expected positive integers separated by commas, got ${JSON.stringify(raw)}`);
  return numbers;
}

/** `mustExist` unless the command creates runs (sweep, recipe): evaluating a mistyped path must not create a database. */
async function withStore<T>(db: string | undefined, fn: (store: RunStore) => Promise<T>, mustExist = true): Promise<T> {
  const store = RunStore.open(dbPathOf({ db }), { mustExist });
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

function requireRun(store: RunStore, id: number): void {
  if (!store.getRun(id)) throw new UsageError(`run ${id} does not exist in this database`);
}

const fmt = (v: number | null, digits = 4): string => (v === null ? 'n/a' : v.toFixed(digits));

function printLengthTable(result: EvalLengthResult): void {
  const scaling = result.ropeScaling ? `, rope scaling ${result.ropeScaling}` : '';
  process.stdout.write(`run ${result.runId} (${result.scheme}${scaling}, trained at ${result.block})\n`);
  process.stdout.write('length  loss     ppl       accuracy  ms      peak MB\n');
  for (const r of result.results) {
    const cells = r.applicable
      ? [fmt(r.loss), fmt(r.ppl, 2), fmt(r.accuracy, 3), r.ms.toFixed(0), (r.peakBytes / 2 ** 20).toFixed(1)]
      : [`not applicable: ${r.reason}`];
    process.stdout.write(`${String(r.length).padEnd(8)}${cells.map((c) => c.padEnd(9)).join(' ').trimEnd()}\n`);
  }
}

export async function evalLengthCommand(rawId: string, opts: { db?: string; lengths?: string; ropeScaling?: RopeScaling; json?: boolean }): Promise<void> {
  const id = parseRunId(rawId);
  const lengths = opts.lengths === undefined ? undefined : parseIntList('lengths', opts.lengths);
  await withStore(opts.db, async (store) => {
    requireRun(store, id);
    const { pos } = resolveConfig(store.getRun(id)!.config as Partial<RunConfig>);
    if (opts.ropeScaling !== undefined && !getScheme(pos)?.extensions) throw new UsageError(`--rope-scaling needs a rope run; run ${id} uses the ${pos} scheme`);
    const result = await evalLengthForRun(store, id, lengths, opts.ropeScaling);
    if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else printLengthTable(result);
  });
}

const MAX_TASK_EXAMPLES = 10_000;

export async function taskLengthCommand(rawId: string, opts: { db?: string; sizes?: string; examples?: string; json?: boolean }): Promise<void> {
  const id = parseRunId(rawId);
  const sizes = opts.sizes === undefined ? undefined : parseIntList('sizes', opts.sizes);
  const examples = opts.examples === undefined ? undefined : Number(opts.examples);
  if (examples !== undefined && !(DECIMAL_INTEGER.test(opts.examples!) && Number.isInteger(examples) && examples >= 1 && examples <= MAX_TASK_EXAMPLES))
    throw new UsageError(`--examples: expected an integer from 1 to ${MAX_TASK_EXAMPLES}, got ${JSON.stringify(opts.examples)}`);
  await withStore(opts.db, async (store) => {
    requireRun(store, id);
    const result = await taskLengthForRun(store, id, sizes, examples);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    process.stdout.write(`run ${id}: ${result.task}, trained on sizes up to ${result.trainingMaxSize}\nsize  chars  exact-match  95% interval  prompts\n`);
    for (const r of result.results) {
      const measured = r.applicable && r.accuracy !== null;
      const [low, high] = measured ? accuracyInterval(r.accuracy!, r.examples) : [0, 0];
      const interval = measured ? `${fmt(low, 2)}–${fmt(high, 2)}` : '';
      process.stdout.write(`${String(r.size).padEnd(6)}${String(r.sequenceLength).padEnd(7)}${(measured ? fmt(r.accuracy, 3) : 'not applicable').padEnd(13)}${interval.padEnd(14)}${measured ? r.examples : ''}\n`);
    }
  });
}

export async function probeCommand(rawId: string | undefined, opts: { db?: string; kind: string; text?: string; json?: boolean }): Promise<void> {
  if (!(PROBE_KINDS as readonly string[]).includes(opts.kind))
    throw new UsageError(`--kind: must be one of ${PROBE_KINDS.join(', ')}, got ${JSON.stringify(opts.kind)}`);
  const kind = opts.kind as ProbeKind;
  const id = rawId === undefined ? null : parseRunId(rawId);
  if (id === null && kind !== 'equivariance') throw new UsageError(`probe --kind ${kind} needs a RUN_ID (only equivariance runs on fresh weights)`);
  const result =
    id === null
      ? await probeForRun(null, null, kind, opts.text)
      : await withStore(opts.db, async (store) => {
          requireRun(store, id);
          return probeForRun(store, id, kind, opts.text);
        });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  if (kind === 'equivariance') {
    const { rows, text } = result as { text: string; rows: { scheme: string; causal: boolean; difference: number; tied: boolean }[] };
    process.stdout.write(`"${text}": max |output(dog₁) − output(dog₂)|\nscheme        mask     difference  tied\n`);
    for (const r of rows) process.stdout.write(`${r.scheme.padEnd(14)}${(r.causal ? 'causal' : 'none').padEnd(9)}${r.difference.toExponential(3).padEnd(12)}${r.tied ? 'yes' : 'no'}\n`);
    return;
  }
  process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
}

/** `a,b,c` → ['a','b','c'], rejecting empty entries. */
function parseList(flag: string, raw: string | undefined, fallback: string[]): string[] {
  if (raw === undefined) return fallback;
  const items = raw.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new UsageError(`--${flag}: empty entry in ${JSON.stringify(raw)}`);
  return items;
}

type SweepOptions = TrainOptionValues & { db?: string; evalLengths?: string; json?: boolean; name?: string; queue?: string; seeds?: string };

const DEFAULT_SWEEP_SCHEMES = ['none', 'sinusoidal', 'learned', 'rope', 't5', 'alibi'];
const SINGLE_DROPOUTS = ['dropoutEmbd', 'dropoutAttn', 'dropoutResid'] as const;

/**
 * The grid's cells, as the Sweeps view expands them (src/lab/sweeps.ts), each validated (and its data loaded) before
 * anything trains; a local and a queued sweep share them.
 */
export async function sweepCells(opts: SweepOptions): Promise<SweepCell[]> {
  const given = SINGLE_DROPOUTS.find((field) => opts[field] !== undefined);
  if (given) throw new UsageError(`--${FLAG_OF_FIELD[given]}: a sweep sets the three dropouts together; give them as --dropout p1,p2,…`);
  const pos = parseList('pos', opts.pos as string | undefined, DEFAULT_SWEEP_SCHEMES);
  const grid: SweepGrid = {
    pos,
    norm: parseList('norm', opts.norm as string | undefined, ['pre']) as NormPlacement[],
    dropout: parseList('dropout', opts.dropout as string | undefined, ['0']).map((p) => trainOverrides({ dropout: p }).dropoutEmbd!),
  };
  const base = trainOverrides({ ...opts, pos: undefined, norm: undefined, dropout: undefined }, pos);
  let cells: GridCell[];
  try {
    cells = expandGrid(base, grid, parseName('name', opts.name));
  } catch (error) {
    throw error instanceof SweepGridError ? new UsageError(error.message) : error;
  }
  // The seed axis: each cell on seeds seed … seed + k − 1, the runs `train --seeds` makes (Compare bands them).
  const axes = opts.seeds === undefined ? GRID_AXES : [...GRID_AXES, ...SEED_AXES];
  if (opts.seeds !== undefined) {
    const seeds = parseSeeds(opts.seeds);
    if (cells.length * seeds > MAX_SWEEP_RUNS)
      throw new UsageError(`the grid makes ${cells.length * seeds} runs (${grid.pos.length} × ${grid.norm.length} × ${grid.dropout.length} × ${seeds} seeds); at most ${MAX_SWEEP_RUNS} per sweep`);
    cells = overSeeds(cells, base.seed ?? DEFAULT_CONFIG.seed, seeds);
  }
  const texts = storedTexts(opts);
  try {
    return await prepareSweep(cells, (cell) => prepareRun({ config: cell.overrides, name: cell.name }, texts), (error) => error instanceof ConfigError || error instanceof DataError, axes);
  } catch (error) {
    // The CLI names the flag of the first bad setting, as `train` does.
    throw error instanceof SweepCellsError ? error.failures[0]!.error : error;
  }
}

/** Trains the cells on `gpt-lab worker` processes through the queue at `url`; this process writes the store. */
async function trainOnQueue(store: RunStore, dbPath: string, url: string, cells: readonly SweepCell[]): Promise<Map<SweepCell, CellOutcome>> {
  const redis = redisOptionsOf(url);
  const coordinator = await SweepCoordinator.connect(store, { redis, storeTag: storeTagOf(dbPath), log: (m) => process.stderr.write(`queue: ${m}\n`) });
  const stop = (): void => {
    process.stderr.write('gpt-lab: the sweep stays in the queue; run the same command again to collect it\n');
    process.exit(130);
  };
  process.once('SIGINT', stop);
  try {
    process.stderr.write(`queue: ${cells.length} cells to ${describeQueue(redis)}; workers now: ${(await coordinator.workers()).map((w) => w.name).join(', ') || 'none yet'}\n`);
    const outcomes = await coordinator.run(cells);
    return new Map(cells.map((cell, i) => [cell, outcomes[i]]));
  } finally {
    process.off('SIGINT', stop);
    await coordinator.close();
  }
}

export async function sweepCommand(opts: SweepOptions): Promise<void> {
  const lengths = opts.evalLengths === undefined ? undefined : parseIntList('eval-lengths', opts.evalLengths);
  const cells = await sweepCells(opts);
  if (opts.queue !== undefined) redisOptionsOf(opts.queue);
  await initBackend();
  const interrupt = new SignalStop();
  const dbPath = dbPathOf(opts);
  await withStore(dbPath, async (store) => {
    const done = new Map(cells.flatMap((cell) => {
      const runId = finishedCell(store.findRunsBySweepKey(cell.sweepKey), cell.prepared.config);
      return runId === undefined ? [] : [[cell, runId] as const];
    }));
    const queued = opts.queue === undefined ? null : await trainOnQueue(store, dbPath, opts.queue, cells.filter((cell) => !done.has(cell)));
    const rows: { pos: string; norm: string; dropout: string; seed: number; runId: number; sweepKey: string; worker: string | null; status: string; finalValLoss: number | null; skipped: boolean; eval: EvalLengthResult | null }[] = [];
    for (const [n, cell] of cells.entries()) {
      const label = `[${n + 1}/${cells.length}] ${cell.pos} / ${cell.norm} / dropout ${cell.dropout} / seed ${cell.prepared.config.seed}`;
      let runId = done.get(cell);
      if (runId !== undefined) process.stderr.write(`${label}: already done as run ${runId}, skipped\n`);
      else if (queued) runId = queued.get(cell)!.runId;
      else {
        interrupt.check(`sweep stopped before ${label}`);
        process.stderr.write(`${label}: training…\n`);
        const result = await trainNewRun(store, cell.prepared, interrupt.wrap());
        runId = result.runId;
        process.stderr.write(`${label}: run ${runId} ${result.status}, val loss ${fmt(result.finalValLoss)}\n`);
        interrupt.check(`sweep stopped during ${label}: run ${runId} ${result.status}`);
      }
      const run = store.getRun(runId)!;
      const wanted = lengths ?? null;
      const previous = store
        .evals(runId, 'length')
        .map((e) => e.payload as EvalLengthResult)
        .find((e) => wanted === null || e.results.map((r) => r.length).join() === wanted.join());
      const evaluation = run.status === 'failed' ? null : (previous ?? (await evalLengthForRun(store, runId, lengths)));
      const worker = (run.backend as { worker?: string } | null)?.worker ?? null;
      rows.push({ pos: cell.pos, norm: cell.norm, dropout: String(cell.dropout), seed: cell.prepared.config.seed, runId, sweepKey: cell.sweepKey, worker, status: run.status, finalValLoss: run.finalValLoss, skipped: done.has(cell), eval: evaluation });
    }
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ cells: rows })}\n`);
      return;
    }
    const evalLengths = rows.find((r) => r.eval)?.eval?.results.map((r) => r.length) ?? [];
    const bySeed = new Set(rows.map((r) => r.seed)).size > 1;
    const header = ['pos', 'norm', 'dropout', ...(bySeed ? ['seed'] : []), 'run', ...(queued ? ['worker'] : []), ...evalLengths.map((l) => `loss@${l}`)];
    const table = rows.map((r) => [
      r.pos, r.norm, r.dropout, ...(bySeed ? [String(r.seed)] : []), String(r.runId), ...(queued ? [r.worker ?? 'n/a'] : []),
      ...(r.eval ? r.eval.results.map((x) => (x.applicable ? fmt(x.loss, 3) : 'n/a')) : [`${r.status}: ${store.getRun(r.runId)?.error ?? ''}`]),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]?.length ?? 0)));
    for (const row of [header, ...table]) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`);
  }, false).finally(() => interrupt.dispose());
}

export function recipeListCommand(opts: { json?: boolean }): void {
  const list = RECIPES.map(({ name, version, title, claim }) => ({ name, version, title, claim }));
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(list)}\n`);
    return;
  }
  for (const r of list) process.stdout.write(`${r.name} (v${r.version}): ${r.title}\n  claim: ${r.claim}\n`);
}

export async function recipeRunCommand(name: string, opts: { db?: string; quick?: boolean; json?: boolean }): Promise<void> {
  const recipe = getRecipe(name);
  if (!recipe) throw new UsageError(`unknown recipe ${JSON.stringify(name)}; choose one of ${RECIPES.map((r) => r.name).join(', ')}`);
  const interrupt = new SignalStop();
  await withStore(opts.db, async (store) => {
    const result = await runRecipe(recipe, {
      store,
      quick: opts.quick === true,
      log: (message) => process.stderr.write(`${recipe.name}: ${message}\n`),
      events: interrupt.wrap(),
      beforeRun: () => interrupt.check(`recipe ${recipe.name} stopped`),
    });
    interrupt.check(`recipe ${recipe.name} stopped`);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    process.stdout.write(`${recipe.title}\nclaim:   ${result.claim}\nverdict: ${result.verdict.toUpperCase()}: ${result.summary}\n`);
  }, false).finally(() => interrupt.dispose());
}
