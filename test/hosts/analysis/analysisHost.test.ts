/**
 * LabService's analysis host: evaluations, probes and recipes run in a process of their own, report `job` events,
 * keep the service answering meanwhile, and their results are stored and listed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LabService } from '../../../src/service/labService';
import type { JobEvent, LabEvent } from '../../../src/shared/api';

const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-analysis-'));
const service = new LabService({ dbPath: join(dir, 'runs.db'), backend: 'wasm', echoHostStderr: false });
afterAll(async () => {
  await service.close();
  rmSync(dir, { recursive: true, force: true });
});

const tiny = { data: 'builtin:copy', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 8, steps: 20, evalEvery: 10, sampleEvery: 0, checkpointEvery: 20 };

describe('the analysis host', () => {
  it('evaluates a run off the service’s thread with job events, stores the result, and reports failures', async () => {
    const events: JobEvent[] = [];
    const done = new Promise<void>((resolve) =>
      service.subscribe((e: LabEvent) => {
        if (e.channel === 'run:status' && e.payload.status === 'completed') resolve();
      }),
    );
    service.subscribe((e: LabEvent) => {
      if (e.channel === 'job') events.push(e.payload);
    });
    const { runId } = await service.startRun({ config: { ...tiny, pos: 'alibi' } });
    await done;

    const evaluation = service.evalLength({ runId });
    // The service answers while the job runs.
    expect((await service.listRuns()).map((r) => r.id)).toContain(runId);
    const result = await evaluation;
    expect(result.results.map((r) => r.length)).toEqual([16, 32, 64, 128]);
    expect(result.results.every((r) => r.applicable && r.loss !== null)).toBe(true);
    expect(events.filter((e) => e.kind === 'evalLength').map((e) => e.state)).toEqual(['queued', 'running', 'done']);
    // A rope scaling reaches the host, which refuses it for an alibi run.
    await expect(service.evalLength({ runId, ropeScaling: 'pi' })).rejects.toThrow(`rope scaling applies to rope runs only; run ${runId} uses the alibi scheme`);

    const task = await service.taskLength({ runId });
    expect(task.task).toBe('copy');
    const stored = await service.latestEvals({ runIds: [runId, 999] });
    expect(stored.length.map((e) => e.runId)).toEqual([runId]);
    expect(stored.taskLength.map((e) => e.task)).toEqual(['copy']);

    const attention = await service.probe({ runId, kind: 'attention', text: 'abc|abc' });
    expect(attention.kind === 'attention' && attention.layers[0]).toHaveLength(2);

    await expect(service.probe({ runId, kind: 'attention', text: 'ZZZ not in the copy vocabulary ☃' })).rejects.toThrow();
    expect(events.at(-1)).toMatchObject({ kind: 'probe', state: 'failed' });
  });

  it('runs a recipe by name and lists it with its result; unknown recipes are refused', async () => {
    const result = await service.runRecipe({ name: 'dog-equivariance', quick: true });
    expect(result.verdict).toBe('held');
    const listed = await service.listRecipes();
    expect(listed.find((r) => r.name === 'dog-equivariance')?.lastResult?.verdict).toBe('held');
    expect(listed.find((r) => r.name === 'extrapolation')?.claim.length).toBeGreaterThan(20);
    await expect(service.runRecipe({ name: 'nope', quick: true })).rejects.toThrow(/no recipe/);
  });

  it('previews a scheme’s tables from its definition', async () => {
    const alibi = await service.schemePreview({ pos: 'alibi', length: 4, nEmbd: 8, nHead: 2 });
    expect(alibi.bias).toHaveLength(2);
    expect(alibi.bias![0][3][0]).toBeCloseTo(-3 * 2 ** -4, 10);
    const sinusoidal = await service.schemePreview({ pos: 'sinusoidal', length: 3, nEmbd: 4, nHead: 1 });
    expect(sinusoidal.table![1][0]).toBeCloseTo(Math.sin(1), 6);
    expect((await service.schemePreview({ pos: 't5', length: 5, nEmbd: 8, nHead: 2 })).buckets![4][0]).toBe(4);
    const rope = (await service.schemePreview({ pos: 'rope', length: 8, nEmbd: 16, nHead: 1 })).decay!;
    expect(rope.onesScore[0]).toBeCloseTo(1, 6);
    expect(rope.bound.at(-1)!).toBeLessThan(rope.bound[0]);
    await expect(service.schemePreview({ pos: 'nope', length: 4, nEmbd: 8, nHead: 2 })).rejects.toThrow();
  });
});
