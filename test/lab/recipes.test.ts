import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RECIPES, getRecipe, runRecipe } from '../../src/lab/recipes';
import { RunStore } from '../../src/store';
import { useWasmBackend } from '../helpers/backend';

useWasmBackend();

const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-recipes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('recipes', () => {
  it('each states its claim up front and has a unique name', () => {
    expect(new Set(RECIPES.map((r) => r.name)).size).toBe(RECIPES.length);
    expect(RECIPES.length).toBeGreaterThanOrEqual(7);
    for (const r of RECIPES) expect(r.claim.length).toBeGreaterThan(20);
  });

  it('learned-vs-sinusoidal --quick trains both, judges from the measured numbers, and reuses its runs when re-run', async () => {
    const store = RunStore.open(join(dir, 'runs.db'));
    const log: string[] = [];
    const recipe = getRecipe('learned-vs-sinusoidal')!;
    const result = await runRecipe(recipe, { store, quick: true, log: (m) => log.push(m) });
    expect(result.runs.map((r) => r.label)).toEqual(['learned', 'sinusoidal']);
    expect(result.runs.every((r) => r.status === 'completed')).toBe(true);
    const learned = result.figures.learnedEarlyMeanLoss as number;
    const sinusoidal = result.figures.sinusoidalEarlyMeanLoss as number;
    expect(result.verdict).toBe(learned < sinusoidal ? 'held' : 'did not hold');
    expect(result.chart.series).toHaveLength(2);
    expect(result.chart.series[0].x).toHaveLength(150);
    expect(store.evals(result.runs[0].runId, 'recipe')).toHaveLength(1);

    const runsBefore = store.listRuns().length;
    const again = await runRecipe(recipe, { store, quick: true, log: (m) => log.push(m) });
    expect(store.listRuns().length).toBe(runsBefore);
    expect(again.figures).toEqual(result.figures);
    expect(log.some((m) => /reusing run/.test(m))).toBe(true);
    store.close();
  });

  it('dog-equivariance holds exactly on fresh weights', async () => {
    const store = RunStore.open(':memory:');
    const result = await runRecipe(getRecipe('dog-equivariance')!, { store, quick: true, log: () => {} });
    expect(result.verdict).toBe('held');
    expect(result.figures['none unmasked']).toBe(0);
    store.close();
  });
});
