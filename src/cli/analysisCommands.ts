/** `gpt-lab eval-length`, `task-length`, `probe` and `sweep`: evaluation of stored runs. */
import { initBackend } from '../engine/backend';
import { PROBE_KINDS, type ProbeKind } from '../engine/eval/probes';
import { accuracyInterval } from '../engine/eval/taskAccuracy';
import { evalLengthForRun, probeForRun, taskLengthForRun, type EvalLengthResult } from '../lab/analysis';
import { prepareRun, trainNewRun, type PreparedRun } from '../lab/runner';
import { sweepKeyOf } from '../lab/sweepKey';
import { RECIPES, getRecipe, runRecipe } from '../lab/recipes';
import { defaultDbPath, RunStore } from '../store';
import { UsageError, trainOverrides, type TrainOptionValues } from './args';
import { parseRunId, storedTexts } from './commands';

function parseIntList(flag: string, raw: string): number[] {
  const values = raw.split(',').map((s) => s.trim());
  const numbers = values.map(Number);
  const bad = values.filter((s, i) => s === '' || !Number.isInteger(numbers[i]) || numbers[i] < 1);
  if (bad.length) throw new UsageError(`--${flag}: expected positive integers separated by commas, got ${JSON.stringify(raw)}`);
  return numbers;
}

/** `mustExist` unless the command creates runs (sweep, recipe): evaluating a mistyped path must not create a database. */
function withStore<T>(db: string | undefined, fn: (store: RunStore) => Promise<T>, mustExist = true): Promise<T> {
  const store = RunStore.open(db ?? defaultDbPath(), { mustExist });
  return fn(store).finally(() => store.close());
}

function requireRun(store: RunStore, id: number): void {
  if (!store.getRun(id)) throw new UsageError(`run ${id} does not exist in this database`);
}

const fmt = (v: number | null, digits = 4): string => (v === null ? 'n/a' : v.toFixed(digits));

function printLengthTable(result: EvalLengthResult): void {
  process.stdout.write(`run ${result.runId} (${result.scheme}, trained at ${result.block})\n`);
  process.stdout.write('length  loss     ppl       accuracy  ms      peak MB\n');
  for (const r of result.results) {
    const cells = r.applicable
      ? [fmt(r.loss), fmt(r.ppl, 2), fmt(r.accuracy, 3), r.ms.toFixed(0), (r.peakBytes / 2 ** 20).toFixed(1)]
      : [`not applicable: ${r.reason}`];
    process.stdout.write(`${String(r.length).padEnd(8)}${cells.map((c) => c.padEnd(9)).join(' ').trimEnd()}\n`);
  }
}

export async function evalLengthCommand(rawId: string, opts: { db?: string; lengths?: string; json?: boolean }): Promise<void> {
  const id = parseRunId(rawId);
  const lengths = opts.lengths === undefined ? undefined : parseIntList('lengths', opts.lengths);
  await withStore(opts.db, async (store) => {
    requireRun(store, id);
    const result = await evalLengthForRun(store, id, lengths);
    if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else printLengthTable(result);
  });
}

const MAX_TASK_EXAMPLES = 10_000;

export async function taskLengthCommand(rawId: string, opts: { db?: string; sizes?: string; examples?: string; json?: boolean }): Promise<void> {
  const id = parseRunId(rawId);
  const sizes = opts.sizes === undefined ? undefined : parseIntList('sizes', opts.sizes);
  const examples = opts.examples === undefined ? undefined : Number(opts.examples);
  if (examples !== undefined && !(Number.isInteger(examples) && examples >= 1 && examples <= MAX_TASK_EXAMPLES))
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

interface SweepCell {
  pos: string;
  norm: string;
  dropout: string;
  prepared: PreparedRun;
  sweepKey: string;
}

export async function sweepCommand(opts: TrainOptionValues & { db?: string; evalLengths?: string; json?: boolean; name?: string }): Promise<void> {
  const positions = parseList('pos', opts.pos as string | undefined, ['none', 'sinusoidal', 'learned', 'rope', 't5', 'alibi']);
  const norms = parseList('norm', opts.norm as string | undefined, ['pre']);
  const dropouts = parseList('dropout', opts.dropout as string | undefined, ['0']);
  const lengths = opts.evalLengths === undefined ? undefined : parseIntList('eval-lengths', opts.evalLengths);
  // Every cell is validated (and its data loaded) before the first run starts.
  const cells: SweepCell[] = [];
  for (const pos of positions)
    for (const norm of norms)
      for (const dropout of dropouts) {
        const prepared = prepareRun({ config: trainOverrides({ ...opts, pos, norm, dropout }) }, storedTexts(opts));
        if (opts.name) prepared.name = `${opts.name} · ${pos}/${norm}/p${dropout}`;
        cells.push({ pos, norm, dropout, prepared, sweepKey: sweepKeyOf(prepared.config) });
      }
  await initBackend();
  await withStore(opts.db, async (store) => {
    const rows: { pos: string; norm: string; dropout: string; runId: number; finalValLoss: number | null; skipped: boolean; eval: EvalLengthResult }[] = [];
    for (const [n, cell] of cells.entries()) {
      const done = store.findRunsBySweepKey(cell.sweepKey).find((r) => r.status === 'completed');
      const label = `[${n + 1}/${cells.length}] ${cell.pos} / ${cell.norm} / dropout ${cell.dropout}`;
      let runId: number;
      if (done) {
        process.stderr.write(`${label}: already done as run ${done.id}, skipped\n`);
        runId = done.id;
      } else {
        process.stderr.write(`${label}: training…\n`);
        const result = await trainNewRun(store, { ...cell.prepared, sweepKey: cell.sweepKey });
        runId = result.runId;
        process.stderr.write(`${label}: run ${runId} ${result.status}, val loss ${fmt(result.finalValLoss)}\n`);
      }
      const wanted = lengths ?? null;
      const previous = store
        .evals(runId, 'length')
        .map((e) => e.payload as EvalLengthResult)
        .find((e) => wanted === null || e.results.map((r) => r.length).join() === wanted.join());
      const evaluation = previous ?? (await evalLengthForRun(store, runId, lengths));
      rows.push({ pos: cell.pos, norm: cell.norm, dropout: cell.dropout, runId, finalValLoss: store.getRun(runId)!.finalValLoss, skipped: !!done, eval: evaluation });
    }
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ cells: rows })}\n`);
      return;
    }
    const evalLengths = rows[0].eval.results.map((r) => r.length);
    const header = ['pos', 'norm', 'dropout', 'run', ...evalLengths.map((l) => `loss@${l}`)];
    const table = rows.map((r) => [r.pos, r.norm, r.dropout, String(r.runId), ...r.eval.results.map((x) => (x.applicable ? fmt(x.loss, 3) : 'n/a'))]);
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
    for (const row of [header, ...table]) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()}\n`);
  }, false);
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
  await withStore(opts.db, async (store) => {
    const result = await runRecipe(recipe, { store, quick: opts.quick === true, log: (message) => process.stderr.write(`${recipe.name}: ${message}\n`) });
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    process.stdout.write(`${recipe.title}\nclaim:   ${result.claim}\nverdict: ${result.verdict.toUpperCase()}: ${result.summary}\n`);
  }, false);
}
