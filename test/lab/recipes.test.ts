/**
 * The recipe plumbing: every configuration trains on each of RECIPE_SEEDS and a re-run reuses those runs; the
 * equivariance recipe end to end (it trains nothing). The verdicts themselves are tested on fabricated metrics in
 * recipeVerdicts.test.ts, so no recipe trains at its real size here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunConfig } from '../../src/engine/config';
import { RECIPES, RECIPE_SEEDS, getRecipe, runRecipe, trainCells, type Recipe } from '../../src/lab/recipes';
import { TIED_WITHOUT_MASK } from '../../src/lab/recipeVerdicts';
import { RunStore } from '../../src/store';
import { useWasmBackend } from '../helpers/backend';

useWasmBackend();

const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-recipes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NANO = { data: 'builtin:copy', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8, batchSize: 4, steps: 3, evalEvery: 3, evalBatches: 1, sampleEvery: 0, checkpointEvery: 0 };

/** A recipe of two nano cells whose "verdict" is whatever its figures say, to watch the plumbing. */
const plumbing: Recipe = {
  name: 'plumbing',
  version: 1,
  title: 'plumbing',
  claim: 'trains every cell on every seed',
  async run(ctx) {
    const cells = await trainCells(ctx, this.name, [
      { label: 'learned', config: { ...NANO, pos: 'learned' } },
      { label: 'none', config: { ...NANO, pos: 'none' } },
    ]);
    return {
      verdict: 'inconclusive',
      summary: '',
      figures: Object.fromEntries(cells.flatMap((c) => c.runs.map((r) => [`${c.label} ${r.seed}`, r.finalValLoss]))),
      runs: cells.flatMap((c) => c.runs.map((r) => ({ label: `${c.label}, seed ${r.seed}`, runId: r.runId, status: r.status, finalValLoss: r.finalValLoss }))),
      chart: { title: '', xLabel: '', yLabel: '', series: [] },
    };
  },
};

describe('recipes', () => {
  it('each states its claim up front and has a unique name', () => {
    expect(new Set(RECIPES.map((r) => r.name)).size).toBe(RECIPES.length);
    expect(RECIPES.length).toBeGreaterThanOrEqual(7);
    for (const r of RECIPES) expect(r.claim.length).toBeGreaterThan(20);
  });

  it('trains every cell on each of the 3 seeds, with distinct weights per seed, and reuses the runs when re-run', async () => {
    expect(RECIPE_SEEDS.length).toBeGreaterThanOrEqual(3);
    const store = RunStore.open(join(dir, 'runs.db'));
    const log: string[] = [];
    const result = await runRecipe(plumbing, { store, quick: true, log: (m) => log.push(m) });
    expect(result.runs.map((r) => r.label)).toEqual(['learned', 'none'].flatMap((c) => RECIPE_SEEDS.map((s) => `${c}, seed ${s}`)));
    expect(result.runs.every((r) => r.status === 'completed')).toBe(true);
    expect(RECIPE_SEEDS.map((s) => (store.getRun(result.runs[s - 1]!.runId)!.config as RunConfig).seed)).toEqual([...RECIPE_SEEDS]);
    // Different seeds are different runs: their losses differ.
    expect(new Set(RECIPE_SEEDS.map((s) => result.figures[`learned ${s}`])).size).toBe(RECIPE_SEEDS.length);
    expect(store.evals(result.runs[0]!.runId, 'recipe')).toHaveLength(1);

    const runsBefore = store.listRuns().length;
    const again = await runRecipe(plumbing, { store, quick: true, log: (m) => log.push(m) });
    expect(store.listRuns().length).toBe(runsBefore);
    expect(again.figures).toEqual(result.figures);
    expect(log.filter((m) => /reusing run/.test(m))).toHaveLength(6);
    store.close();
  });

  it('dog-equivariance holds on fresh weights of every seed, and its claim names every scheme that ties', async () => {
    const store = RunStore.open(':memory:');
    const recipe = getRecipe('dog-equivariance')!;
    const result = await runRecipe(recipe, { store, quick: true, log: () => {} });
    expect(result.verdict).toBe('held');
    expect(result.figures['none unmasked']).toBe(0);
    expect(result.figures['sinusoidal unmasked']).toBeGreaterThan(0.01);
    for (const scheme of ['ALiBi', 'integer', 'integer-norm', 'no PE']) expect(recipe.claim).toContain(scheme);
    expect(TIED_WITHOUT_MASK).toEqual(['none', 'alibi', 'integer', 'integer-norm']);
    store.close();
  });

  it('finetune-2x and rope-scaling-4x run in quick mode: 3 shared rope parents, a PI and a plain child of each, a verdict from each', async () => {
    const store = RunStore.open(join(dir, 'context.db'));
    const log: string[] = [];
    const tuned = await runRecipe(getRecipe('finetune-2x')!, { store, quick: true, log: (m) => log.push(m) });
    expect(tuned.runs).toHaveLength(9);
    const parents = tuned.runs.slice(0, 3).map((r) => store.getRun(r.runId)!);
    const children = tuned.runs.slice(3).map((r) => store.getRun(r.runId)!);
    expect(parents.map((p) => [(p.config as RunConfig).seed, (p.config as RunConfig).blockSize])).toEqual(RECIPE_SEEDS.map((seed) => [seed, 16]));
    // Each parent's PI child, then each one's plain child, in seed order, at twice its block.
    expect(children.map((c) => [c.parentId, (c.config as RunConfig).blockSize, (c.config as RunConfig).posExtension?.method ?? 'plain'])).toEqual(
      ['pi', 'plain'].flatMap((method) => parents.map((p) => [p.id, 32, method])),
    );
    expect(['held', 'did not hold', 'inconclusive']).toContain(tuned.verdict);
    expect(tuned.figures['before loss2x/loss1x mean']).toBeGreaterThan(0.5);
    expect(tuned.chart.series.map((s) => s.x)).toEqual([[16, 32], [16, 32], [16, 32]]);

    const runsBefore = store.listRuns().length;
    const scaled = await runRecipe(getRecipe('rope-scaling-4x')!, { store, quick: true, log: (m) => log.push(m) });
    const again = await runRecipe(getRecipe('finetune-2x')!, { store, quick: true, log: (m) => log.push(m) });
    expect(store.listRuns().length).toBe(runsBefore);
    expect(again.figures).toEqual(tuned.figures);
    expect(scaled.runs.map((r) => r.runId)).toEqual(parents.map((p) => p.id));
    expect(scaled.chart.series.map((s) => s.label)).toEqual(['plain', 'PI', 'YaRN', 'NTK'].map((m) => `${m} (mean of 3 seeds)`));
    expect(['held', 'did not hold', 'inconclusive']).toContain(scaled.verdict);
    // Plain RoPE and every method agree at the block (s = 1), so the curves start at one point.
    expect(new Set(scaled.chart.series.map((s) => s.y[0]!.toFixed(6))).size).toBe(1);
    store.close();
  });

  it('random-positions and nope-vs-absolute run in quick mode: 3 seeds per configuration, the randomized runs store their range, a verdict each', async () => {
    const store = RunStore.open(join(dir, 'tasks.db'));
    const randomized = await runRecipe(getRecipe('random-positions')!, { store, quick: true, log: () => {} });
    const labels = randomized.runs.map((r) => r.label);
    expect(labels).toEqual(['count', 'copy'].flatMap((task) => ['plain', 'randomized'].flatMap((c) => RECIPE_SEEDS.map((s) => `${task}, ${c}, seed ${s}`))));
    const ranges = randomized.runs.map((r) => (store.getRun(r.runId)!.config as RunConfig).randomPositions ?? 0);
    expect(ranges).toEqual(labels.map((l) => (l.includes('randomized') ? 256 : 0)));
    expect(['held', 'did not hold', 'inconclusive']).toContain(randomized.verdict);
    expect(randomized.chart.series).toHaveLength(4);
    for (const series of randomized.chart.series) for (const y of series.y) expect(y).toBeGreaterThanOrEqual(0);

    const nope = await runRecipe(getRecipe('nope-vs-absolute')!, { store, quick: true, log: () => {} });
    expect(nope.runs.map((r) => (store.getRun(r.runId)!.config as RunConfig).pos)).toEqual(['none', 'learned', 'sinusoidal'].flatMap((pos) => RECIPE_SEEDS.map(() => pos)));
    expect(['held', 'did not hold', 'inconclusive']).toContain(nope.verdict);
    expect(store.evals(nope.runs[0]!.runId, 'recipe')).toHaveLength(1);
    store.close();
  });
});
