/**
 * Sweeps: the grid expansion every caller shares, and the sweep key that names what a grid holds fixed (not where
 * it trains: the backend choice and thread count are left out).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/engine/config';
import { prepareRun } from '../../src/lab/prepare';
import { SweepCellsError, SweepGridError, expandGrid, finishedCell, prepareSweep, sameCell, sweepKeyOf } from '../../src/lab/sweeps';

describe('sweepKeyOf', () => {
  const base = resolveConfig({ pos: 'rope', steps: 10 });

  it('is the same on every backend, so a cell finished on wasm is found when re-run on webgpu', () => {
    expect(sweepKeyOf({ ...base, backend: 'webgpu' })).toBe(sweepKeyOf(base));
    expect(sweepKeyOf({ ...base, backend: 'wasm' }, 'recipe:x', [])).toBe(sweepKeyOf(base, 'recipe:x', []));
  });

  it("is the same on every thread count, so a cell trained with threads 'auto' on 2 cores is found on 8", () => {
    expect(sweepKeyOf(resolveConfig({ pos: 'rope', steps: 10 }, 8))).toBe(sweepKeyOf(resolveConfig({ pos: 'rope', steps: 10 }, 2)));
  });

  it("is one key for every cell of a grid: the grid's axes do not count, every other field does", () => {
    expect(sweepKeyOf(resolveConfig({ pos: 'alibi', norm: 'post', dropoutEmbd: 0.1, dropoutAttn: 0.1, dropoutResid: 0.1, steps: 10 }))).toBe(sweepKeyOf(base));
    expect(sweepKeyOf({ ...base, posOptions: { base: 100 } })).toBe(sweepKeyOf(base));
    expect(sweepKeyOf({ ...base, steps: 11 })).not.toBe(sweepKeyOf(base));
    expect(sweepKeyOf({ ...base, seed: 7 })).not.toBe(sweepKeyOf(base));
    expect(sweepKeyOf({ ...base, attnLogScaling: 'fixed' })).not.toBe(sweepKeyOf(base));
    expect(sweepKeyOf(base)).toMatch(/^sweep:[0-9a-f]+$/);
  });

  it('keeps the keys of cells stored before log-n scaling existed (no field means none)', () => {
    const { attnLogScaling: _none, ...before } = base;
    expect(sweepKeyOf(before as typeof base)).toBe(sweepKeyOf(base));
    expect(sweepKeyOf(before as typeof base, 'recipe:x', [])).toBe(sweepKeyOf(base, 'recipe:x', []));
  });

  it('names one cell when the grid has no axis (a recipe cell)', () => {
    expect(sweepKeyOf({ ...base, pos: 'alibi' }, 'recipe:x', [])).not.toBe(sweepKeyOf(base, 'recipe:x', []));
    expect(sweepKeyOf(base, 'recipe:x', [])).toMatch(/^recipe:x:/);
  });
});

describe('sameCell and finishedCell', () => {
  const config = resolveConfig({ pos: 'rope', steps: 10 });

  it('tells the cells of a key apart by their settings, not by where they trained', () => {
    expect(sameCell(JSON.parse(JSON.stringify({ ...config, threads: 3, backend: 'cpu' })), config)).toBe(true);
    expect(sameCell({ ...config, pos: 'alibi' }, config)).toBe(false);
    const { attnLogScaling: _none, ...stored } = config;
    expect(sameCell(stored, config)).toBe(true);
    expect(sameCell({ ...config, attnLogScaling: 'fixed' }, config)).toBe(false);
    expect(sameCell(null, config)).toBe(false);
  });

  it('finds only a completed run of this very cell', () => {
    const runs = [
      { id: 1, status: 'completed', config: { ...config, pos: 'alibi' } },
      { id: 2, status: 'stopped', config },
      { id: 3, status: 'completed', config },
    ];
    expect(finishedCell(runs, config)).toBe(3);
    expect(finishedCell(runs.slice(0, 2), config)).toBeUndefined();
  });
});

describe('expandGrid', () => {
  it('makes pos × norm × dropout cells in that order, each with its axis values and name', () => {
    const cells = expandGrid({ steps: 5 }, { pos: ['rope', 'alibi'], norm: ['pre', 'post'], dropout: [0, 0.1] }, 'grid');
    expect(cells.map((c) => c.name)).toEqual([
      'grid · rope · pre-norm · dropout 0',
      'grid · rope · pre-norm · dropout 0.1',
      'grid · rope · post-norm · dropout 0',
      'grid · rope · post-norm · dropout 0.1',
      'grid · alibi · pre-norm · dropout 0',
      'grid · alibi · pre-norm · dropout 0.1',
      'grid · alibi · post-norm · dropout 0',
      'grid · alibi · post-norm · dropout 0.1',
    ]);
    expect(cells[3]!.overrides).toEqual({ steps: 5, pos: 'rope', norm: 'post', dropoutEmbd: 0.1, dropoutAttn: 0.1, dropoutResid: 0.1, posOptions: undefined });
    expect(expandGrid({}, { pos: ['none'], norm: ['pre'], dropout: [0] })[0]!.name).toBe('sweep · none · pre-norm · dropout 0');
  });

  it("keeps a base knob only on the cells whose scheme has it", () => {
    const cells = expandGrid({ posOptions: { base: 100 } }, { pos: ['rope', 'alibi'], norm: ['pre'], dropout: [0] });
    expect(cells.map((c) => c.overrides.posOptions)).toEqual([{ base: 100 }, {}]);
  });

  it('refuses more than 64 cells, with the count per axis, and an empty axis', () => {
    expect(() => expandGrid({}, { pos: ['a', 'b', 'c', 'd', 'e'], norm: ['pre', 'post', 'none'], dropout: [0, 0.1, 0.2, 0.3, 0.4] })).toThrow(
      new SweepGridError('the grid makes 75 runs (5 × 3 × 5); at most 64 per sweep'),
    );
    expect(() => expandGrid({}, { pos: ['rope'], norm: [], dropout: [0] })).toThrow(new SweepGridError('the grid has no norm value: give at least one'));
    expect(() => expandGrid({}, { pos: Array(16).fill('rope'), norm: ['pre', 'post'], dropout: [0, 0.1] })).not.toThrow();
  });
});

describe('prepareSweep', () => {
  const TINY = { data: 'builtin:copy', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8, steps: 3 };
  const prepare = (cell: { overrides: object; name: string }) => prepareRun({ config: cell.overrides, name: cell.name });
  const isProblem = (error: unknown) => error instanceof ConfigError;

  it('gives every cell the one key of its grid and keeps its name', async () => {
    const cells = await prepareSweep(expandGrid(TINY, { pos: ['none', 'alibi'], norm: ['pre', 'post'], dropout: [0] }), prepare, isProblem);
    expect(new Set(cells.map((c) => c.sweepKey))).toEqual(new Set([sweepKeyOf(cells[0]!.prepared.config)]));
    expect(cells.every((c) => c.prepared.sweepKey === c.sweepKey && c.prepared.name === c.name)).toBe(true);
    expect(cells.map((c) => `${c.prepared.config.pos}/${c.prepared.config.norm}`)).toEqual(['none/pre', 'none/post', 'alibi/pre', 'alibi/post']);
  });

  it('names every failing cell before anything trains, and lets other errors through', async () => {
    const failing = prepareSweep(expandGrid(TINY, { pos: ['none', 'nope', 'also-not'], norm: ['pre'], dropout: [0] }), prepare, isProblem);
    await expect(failing).rejects.toBeInstanceOf(SweepCellsError);
    const error = (await failing.catch((e: unknown) => e)) as SweepCellsError;
    expect(error.failures.map((f) => f.cell.pos)).toEqual(['nope', 'also-not']);
    const broken = new Error('disk on fire');
    await expect(prepareSweep(expandGrid(TINY, { pos: ['none'], norm: ['pre'], dropout: [0] }), () => { throw broken; }, isProblem)).rejects.toBe(broken);
  });
});
