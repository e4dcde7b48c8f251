/**
 * Sweeps: one grid expansion and one meaning of sweep key, for `gpt-lab sweep`, the Sweeps view (on this machine or
 * on workers), `train --seeds` and the recipes.
 *
 * A sweep key names what a group of runs holds fixed: `<namespace>:<hash of every setting except the grid's axes>`,
 * where a run trains (backend, thread count) left out. The cells of a group are told apart by their own settings
 * (`sameCell`). So the same grid, queued from the CLI or from the UI, makes the same runs under the same key; a
 * re-run of a sweep, or a wider grid over the same settings, finds the cells it already finished; `train --seeds`
 * is the grid over the seed axis; and a recipe's cell is a grid with no axis, its key naming the one run.
 */
import type { NormPlacement, RunConfig, RunConfigInput } from '../engine/config';
import { hashText } from '../engine/data/corpus';
import { getScheme } from '../engine/model/positional/registry';
import { MAX_SWEEP_RUNS } from '../shared/limits';
import type { PreparedRun } from './prepare';

/** What the pos × norm × dropout grid varies; posOptions goes with pos (each scheme keeps only its own knobs). */
export const GRID_AXES = ['pos', 'posOptions', 'norm', 'dropoutEmbd', 'dropoutAttn', 'dropoutResid'] as const satisfies readonly (keyof RunConfig)[];
/** What `train --seeds` varies. */
export const SEED_AXES = ['seed'] as const satisfies readonly (keyof RunConfig)[];

/** JSON with sorted keys, so equal configs always serialise (and hash) the same. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(value);
}

/**
 * What a run trains, without where: the same cell run on another backend or thread count (threads 'auto' follows
 * the machine's cores) is the same result, to float error.
 */
function cellSettings(config: Record<string, unknown>): Record<string, unknown> {
  const { backend: _where, threads: _threads, attnLogScaling, ...rest } = config;
  // Cells from before log-n scaling existed had none: leaving 'none' out keeps their keys, so they are found again.
  return (attnLogScaling ?? 'none') === 'none' ? rest : { ...rest, attnLogScaling };
}

/** The key of the group `config` belongs to when the grid varies `axes` (none: the key names this one cell). */
export function sweepKeyOf(config: RunConfig, namespace = 'sweep', axes: readonly (keyof RunConfig)[] = GRID_AXES): string {
  const held = Object.fromEntries(Object.entries(cellSettings({ ...config })).filter(([field]) => !(axes as readonly string[]).includes(field)));
  return `${namespace}:${hashText(stableJson(held))}`;
}

/** Whether a stored run's config is this cell (a row read back from the store is compared as stored). */
export function sameCell(stored: unknown, config: RunConfig): boolean {
  return stored !== null && typeof stored === 'object' && stableJson(cellSettings(stored as Record<string, unknown>)) === stableJson(cellSettings({ ...config }));
}

/** A finished run of this cell under this key, if any: a re-run sweep skips it. */
export function finishedCell(runs: readonly { id: number; status: string; config: unknown }[], config: RunConfig): number | undefined {
  return runs.find((run) => run.status === 'completed' && sameCell(run.config, config))?.id;
}

export interface SweepGrid {
  pos: readonly string[];
  norm: readonly NormPlacement[];
  /** Each value sets the embedding, attention and residual dropout together. */
  dropout: readonly number[];
}

/** One cell of a grid before validation: its axis values, its name, and the overrides that make it. */
export interface GridCell {
  pos: string;
  norm: NormPlacement;
  dropout: number;
  name: string;
  overrides: RunConfigInput;
}

/** A grid with an empty axis, or larger than MAX_SWEEP_RUNS (the counts per axis are in the message). */
export class SweepGridError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepGridError';
  }
}

/**
 * The grid's cells, pos-major then norm then dropout, each the base overrides with its axis values and the base's
 * scheme knobs kept only where its scheme has them. Named `<name> · <pos> · <norm>-norm · dropout <p>` (name
 * defaults to 'sweep').
 */
export function expandGrid(base: RunConfigInput, grid: SweepGrid, name = 'sweep'): GridCell[] {
  const empty = (['pos', 'norm', 'dropout'] as const).find((axis) => grid[axis].length === 0);
  if (empty) throw new SweepGridError(`the grid has no ${empty} value: give at least one`);
  const runs = grid.pos.length * grid.norm.length * grid.dropout.length;
  if (runs > MAX_SWEEP_RUNS) throw new SweepGridError(`the grid makes ${runs} runs (${grid.pos.length} × ${grid.norm.length} × ${grid.dropout.length}); at most ${MAX_SWEEP_RUNS} per sweep`);
  return grid.pos.flatMap((pos) =>
    grid.norm.flatMap((norm) =>
      grid.dropout.map((dropout) => ({
        pos,
        norm,
        dropout,
        name: `${name} · ${pos} · ${norm}-norm · dropout ${dropout}`,
        overrides: { ...base, pos, norm, dropoutEmbd: dropout, dropoutAttn: dropout, dropoutResid: dropout, posOptions: knobsOf(pos, base.posOptions) },
      })),
    ),
  );
}

/** A cell validated and its data loaded, with the key of its group. */
export interface SweepCell extends GridCell {
  prepared: PreparedRun;
  sweepKey: string;
}

/** The cells that failed validation, each with its error (a ConfigError or DataError, as `prepare` threw it). */
export class SweepCellsError extends Error {
  constructor(readonly failures: readonly { cell: GridCell; error: unknown }[]) {
    super(`${failures.length} cell${failures.length === 1 ? '' : 's'} of the sweep are invalid`);
    this.name = 'SweepCellsError';
  }
}

/**
 * Validates every cell with the caller's `prepare` (given the cell's overrides and name; the CLI's and the service's
 * differ only in where a data file may be and how it is read) before anything trains; throws SweepCellsError naming
 * every failing cell.
 * `isCellProblem` tells a cell's bad settings (collected) from anything else (thrown at once). `axes`: what the grid
 * varies (a sweep over seeds adds SEED_AXES), left out of the group's key.
 */
export async function prepareSweep(
  cells: readonly GridCell[],
  prepare: (cell: GridCell) => PreparedRun | Promise<PreparedRun>,
  isCellProblem: (error: unknown) => boolean,
  axes: readonly (keyof RunConfig)[] = GRID_AXES,
): Promise<SweepCell[]> {
  const prepared: SweepCell[] = [];
  const failures: { cell: GridCell; error: unknown }[] = [];
  for (const cell of cells) {
    try {
      const run = await prepare(cell);
      const sweepKey = sweepKeyOf(run.config, 'sweep', axes);
      prepared.push({ ...cell, prepared: { ...run, sweepKey, sweepSize: cells.length }, sweepKey });
    } catch (error) {
      if (!isCellProblem(error)) throw error;
      failures.push({ cell, error });
    }
  }
  if (failures.length) throw new SweepCellsError(failures);
  return prepared;
}

/** A sweep's common posOptions, kept only where the scheme has that knob. */
function knobsOf(pos: string, posOptions: Record<string, number> | undefined): Record<string, number> | undefined {
  if (!posOptions) return undefined;
  const scheme = getScheme(pos);
  if (!scheme) return posOptions;
  return Object.fromEntries(Object.entries(posOptions).filter(([key]) => scheme.knobs.some((k) => k.key === key)));
}
