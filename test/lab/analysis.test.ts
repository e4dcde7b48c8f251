/** Evaluation of a stored run reads the held-out split: the numbers equal an evaluation on val, not on train. */
import { describe, expect, it } from 'vitest';
import { evalAtLengths } from '../../src/engine/eval/extrapolation';
import { evalLengthForRun, loadTrainedRun } from '../../src/lab/analysis';
import { prepareRun, trainNewRun } from '../../src/lab/runner';
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
});
