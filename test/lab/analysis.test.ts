/** Evaluation of a stored run reads the held-out split: the numbers equal an evaluation on val, not on train. */
import { describe, expect, it } from 'vitest';
import { evalAtLengths } from '../../src/engine/eval/extrapolation';
import { evalLengthForRun, loadTrainedRun } from '../../src/lab/analysis';
import { trainNewRun } from '../../src/lab/runner';
import { prepareRun } from '../../src/lab/prepare';
import { RunStore } from '../../src/store';
import { useWasmBackend } from '../helpers/backend';

useWasmBackend();

describe('evalLengthForRun', () => {
  it('evaluates on the validation split', async () => {
    const store = RunStore.open(':memory:');
    const prepared = prepareRun({ config: { data: 'builtin:toy-english', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8, batchSize: 4, steps: 5, evalEvery: 5, evalBatches: 2, sampleEvery: 0, checkpointEvery: 0 } });
    const { runId } = await trainNewRun(store, prepared);
    const stored = await evalLengthForRun(store, runId, [8, 16]);

    const { config, corpus, model } = await loadTrainedRun(store, runId);
    const tokenBudget = config.evalBatches * config.batchSize * config.blockSize;
    const onVal = await evalAtLengths(model, corpus.val, [8, 16], { tokenBudget });
    const onTrain = await evalAtLengths(model, corpus.train, [8, 16], { tokenBudget });
    model.dispose();
    expect(stored.results.map((r) => r.loss)).toEqual(onVal.map((r) => r.loss));
    expect(stored.results.map((r) => r.perPositionLoss)).toEqual(onVal.map((r) => r.perPositionLoss));
    // The two splits give different numbers, so the check above tells them apart.
    expect(Math.abs(onTrain[0]!.loss! - onVal[0]!.loss!)).toBeGreaterThan(1e-4);
    store.close();
  });

  it('evaluates a rope run with a rope scaling (same as plain at the block, different past it) and refuses other schemes', async () => {
    const store = RunStore.open(':memory:');
    const small = { data: 'builtin:toy-english', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8, batchSize: 4, steps: 5, evalEvery: 5, evalBatches: 2, sampleEvery: 0, checkpointEvery: 0 };
    const { runId } = await trainNewRun(store, prepareRun({ config: { ...small, pos: 'rope', steps: 30, lr: 1e-2 } })); // long enough to use position
    const plain = await evalLengthForRun(store, runId, [8, 32]);
    const yarn = await evalLengthForRun(store, runId, [8, 32], 'yarn');
    expect(plain.ropeScaling).toBeUndefined();
    expect(yarn.ropeScaling).toBe('yarn');
    expect(yarn.results[0]!.loss).toBe(plain.results[0]!.loss);
    expect(Math.abs(yarn.results[1]!.loss! - plain.results[1]!.loss!)).toBeGreaterThan(1e-6);
    expect((await evalLengthForRun(store, runId, [8, 32], 'none')).ropeScaling).toBeUndefined();
    expect(store.evals(runId, 'length').map((row) => (row.payload as { ropeScaling?: string }).ropeScaling)).toEqual([undefined, 'yarn', undefined]);

    const other = await trainNewRun(store, prepareRun({ config: { ...small, pos: 'alibi', steps: 1 } }));
    await expect(evalLengthForRun(store, other.runId, [8], 'pi')).rejects.toThrow(`rope scaling applies to rope runs only; run ${other.runId} uses the alibi scheme`);
    expect(store.evals(other.runId, 'length')).toEqual([]);
    store.close();
  });
});
