/**
 * Data-parallel training on helper threads: the same steps as one thread (up to float summation order), even
 * splits and uneven ones, with dropout too, resumable to the same numbers on any thread count, no leaked tensors, and a
 * helper that dies fails the step instead of hanging it.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, type RunConfig } from '../../../src/engine/config';
import { GPT, modelConfigOf } from '../../../src/engine/model/gpt';
import { sequentialWindows } from '../../../src/engine/data/batches';
import { replicaOptimizerOf, splitRows } from '../../../src/engine/train/shards';
import { evaluateLoss, Trainer, type TrainerCallbacks } from '../../../src/engine/train/trainer';
import { matmulKernels } from '../../../src/engine/model/nativeGemm';
import { ThreadHelpers } from '../../../src/hosts/gradientThreads/client';
import { resumeRun, trainNewRun } from '../../../src/lab/runner';
import { prepareRun } from '../../../src/lab/prepare';
import { RunStore, type MetricRow } from '../../../src/store';
import { useWasmBackend } from '../../helpers/backend';

useWasmBackend();

const SMALL: Partial<RunConfig> = {
  data: 'builtin:toy-english',
  nLayer: 2,
  nHead: 2,
  nEmbd: 16,
  blockSize: 16,
  batchSize: 6,
  steps: 12,
  lr: 3e-3,
  evalEvery: 6,
  evalBatches: 2,
  sampleEvery: 0,
  checkpointEvery: 4,
};

let dir: string;
let store: RunStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpt-lab-threads-'));
  store = RunStore.open(join(dir, 'runs.db'));
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function train(config: Partial<RunConfig>): Promise<{ id: number; rows: MetricRow[] }> {
  const { runId } = await trainNewRun(store, prepareRun({ config: { ...SMALL, ...config } }));
  return { id: runId, rows: store.metrics(runId) };
}

/** Trains `config`, stops it after step 5, resumes it on `resumeThreads` threads; the run's metric rows. */
async function stopAndResume(config: Partial<RunConfig>, resumeThreads: number): Promise<MetricRow[]> {
  let trainer: Trainer | undefined;
  const stopped = await trainNewRun(store, prepareRun({ config: { ...SMALL, ...config } }), {
    onStart: (_id, t) => (trainer = t),
    onStep: (_id, m) => {
      if (m.step === 5) trainer!.stop();
    },
  });
  expect(stopped.status).toBe('stopped');
  const resumed = await resumeRun(store, stopped.runId, {}, resumeThreads);
  expect(resumed.status).toBe('completed');
  expect(store.getRun(stopped.runId)!.backend).toMatchObject({ threads: resumeThreads });
  return store.metrics(stopped.runId);
}

function expectSameSteps(a: MetricRow[], b: MetricRow[]): void {
  expect(a.map((r) => r.step)).toEqual(b.map((r) => r.step));
  a.forEach((row, i) => {
    expect(row.trainLoss).toBeCloseTo(b[i]!.trainLoss!, 4);
    expect(row.gradNorm).toBeCloseTo(b[i]!.gradNorm!, 4);
    if (row.valLoss !== null) expect(row.valLoss).toBeCloseTo(b[i]!.valLoss!, 4);
  });
}

describe('data-parallel training on helper threads', () => {
  let single: MetricRow[];

  it('two threads take the steps one thread takes, and the run records that it used two', async () => {
    single = (await train({ threads: 1 })).rows;
    const before = tf.memory().numTensors;
    const two = await train({ threads: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(store.getRun(two.id)!.backend).toMatchObject({ name: 'wasm', threads: 2 });
    expectSameSteps(two.rows, single);
    // The loss fell: the helpers' gradients were used, not just computed.
    expect(two.rows.at(-1)!.trainLoss!).toBeLessThan(two.rows[0]!.trainLoss! - 0.1);
  });

  it('an uneven split (6 rows over 4 threads: 2, 2, 1, 1) weights each shard by its rows', async () => {
    expectSameSteps((await train({ threads: 4 })).rows, single);
  });

  it('with dropout, 1, 2 and 4 threads take the same steps (masks follow the global row), and dropout changed them', async () => {
    const dropout = { dropoutResid: 0.2, dropoutAttn: 0.2, dropoutEmbd: 0.1 };
    const one = await train({ threads: 1, ...dropout });
    expectSameSteps((await train({ threads: 2, ...dropout })).rows, one.rows);
    expectSameSteps((await train({ threads: 4, ...dropout })).rows, one.rows);
    expect(one.rows[3]!.trainLoss).not.toBeCloseTo(single[3]!.trainLoss!, 4);
  });

  it('a run stopped on two threads resumes to exactly the numbers of a straight two-thread run', async () => {
    const config = { ...SMALL, threads: 2, dropoutResid: 0.1 };
    const straight = await train(config);
    const rows = await stopAndResume(config, 2);
    expect(rows.map((r) => r.step)).toEqual(straight.rows.map((r) => r.step));
    expect(rows.map((r) => r.trainLoss)).toEqual(straight.rows.map((r) => r.trainLoss));
  });

  it('a run stopped on one thread and resumed on four matches a straight one-thread run', async () => {
    const config = { ...SMALL, dropoutResid: 0.1, dropoutAttn: 0.1 };
    const straight = (await train({ ...config, threads: 1 })).rows;
    expectSameSteps(await stopAndResume({ ...config, threads: 1 }, 4), straight);
  });

  it('after k steps every replica holds bit-identical weights to the trainer, and evaluates the same loss', async () => {
    const { model, helpers, trainer, close } = await replicaTrainer({ threads: 3, steps: 5, dropoutResid: 0.1, evalBatches: 3 });
    try {
      const initial = flatten(await model.getWeights(), model);
      await trainer.run();
      const weights = flatten(await model.getWeights(), model);
      const replicas = await helpers.replicaWeights();
      expect(replicas).toHaveLength(2);
      for (const replica of replicas) expect(replica).toEqual(weights);
      // The weights moved: the replicas followed the steps, not just their starting copy.
      expect(weights).not.toEqual(initial);
      // Evaluation dealt over the three replicas (one batch each) gives the trainer's own number to the bit.
      const windows = sequentialWindows(corpus.val, SMALL.blockSize!, 3 * SMALL.batchSize!);
      expect(await trainer.evaluate()).toBe(await evaluateLoss(model, windows, SMALL.batchSize!));
    } finally {
      await close();
    }
  });

  it('a resumed trainer syncs fresh replicas to its checkpoint: bit-identical weights and the losses of a straight run', async () => {
    const config = { threads: 2, steps: 6, dropoutAttn: 0.1 };
    const lossesOf = async (run: Awaited<ReturnType<typeof replicaTrainer>>, losses: number[]): Promise<void> => {
      try {
        await run.trainer.run();
        expect((await run.helpers.replicaWeights())[0]).toEqual(flatten(await run.model.getWeights(), run.model));
      } finally {
        await run.close();
      }
    };
    const straight: number[] = [];
    await lossesOf(await replicaTrainer(config, { onStep: (m) => void straight.push(m.trainLoss) }), straight);
    let checkpoint: Uint8Array | undefined;
    let stop = (): void => {};
    const first = await replicaTrainer(config, { onStep: (m) => (m.step === 2 ? stop() : undefined), onCheckpoint: (_step, data) => void (checkpoint = data) });
    stop = () => first.trainer.stop();
    await lossesOf(first, []);
    const resumed: number[] = [];
    const again = await replicaTrainer(config, { onStep: (m) => void resumed.push(m.trainLoss) }, checkpoint);
    expect(again.trainer.startStep).toBe(3);
    await lossesOf(again, resumed);
    expect(resumed).toEqual(straight.slice(3));
  });

  it('a helper thread that dies fails the step with its name instead of hanging it', async () => {
    const model = new GPT({ vocabSize: 8, nLayer: 1, nHead: 1, nEmbd: 4, blockSize: 4, pos: 'none', posOptions: {}, norm: 'pre', normType: 'layer', causal: true, dropoutEmbd: 0, dropoutAttn: 0, dropoutResid: 0 }, 0);
    const optimizer = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 };
    const helpers = await ThreadHelpers.start({ count: 1, model: model.cfg, params: model.parameterCount, maxRows: 1, backend: 'wasm', optimizer });
    try {
      const shard = { x: new Int32Array(4), y: new Int32Array(4), rows: 1, dropout: { seed: 1, step: 0, firstRow: 0 } };
      helpers.begin([shard], 1e-3);
      const [mine, theirs] = await helpers.exchange({ rows: 1, loss: 0 });
      expect(mine!.rows).toBe(1);
      expect(theirs).toMatchObject({ rows: 1 });
      expect(Number.isFinite(theirs!.loss)).toBe(true);
      expect(() => helpers.begin([], 1e-3)).toThrow(/expected 1 shards, got 0/);
      await (helpers as unknown as { workers: { terminate(): Promise<number> }[] }).workers[0]!.terminate();
      expect(() => helpers.begin([shard], 1e-3)).toThrow(/gradient helper thread 1 exited/);
    } finally {
      await helpers.dispose();
      model.dispose();
    }
  });

  it.runIf(matmulKernels() !== null)('a helper whose matmuls would run on other kernels than the trainer\'s refuses to start, naming both', async () => {
    const model = new GPT({ vocabSize: 8, nLayer: 1, nHead: 1, nEmbd: 4, blockSize: 4, pos: 'none', posOptions: {}, norm: 'pre', normType: 'layer', causal: true, dropoutEmbd: 0, dropoutAttn: 0, dropoutResid: 0 }, 0);
    const optimizer = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 };
    process.env.GPT_LAB_BLAS = 'off'; // read by the helper's fresh module; this process has loaded its BLAS already
    try {
      await expect(ThreadHelpers.start({ count: 1, model: model.cfg, params: model.parameterCount, maxRows: 1, backend: 'wasm', optimizer })).rejects.toThrow(
        `gradient helper thread 1 could not start: its matmuls would run on XNNPACK but the trainer's on ${matmulKernels()}: the replicas would drift apart`,
      );
    } finally {
      delete process.env.GPT_LAB_BLAS;
      model.dispose();
    }
  });
});

const { corpus } = prepareRun({ config: SMALL });

/** A Trainer on helper threads over SMALL's corpus, outside the runner, so a test can look at the replicas. */
async function replicaTrainer(overrides: Partial<RunConfig>, callbacks: TrainerCallbacks = {}, resumeFrom?: Uint8Array) {
  const config = resolveConfig({ ...SMALL, ...overrides });
  const model = new GPT(modelConfigOf(config, corpus.tokenizer.size), config.seed);
  const rows = splitRows(config.batchSize, config.threads);
  const helpers = await ThreadHelpers.start({ count: config.threads - 1, model: model.cfg, params: model.parameterCount, maxRows: Math.max(...rows), backend: 'wasm', optimizer: replicaOptimizerOf(config) });
  const trainer = new Trainer({ model, config, corpus, helpers, callbacks, resumeFrom });
  const close = async (): Promise<void> => {
    trainer.dispose();
    await helpers.dispose();
    model.dispose();
  };
  return { model, helpers, trainer, close };
}

function flatten(weights: Record<string, Float32Array>, model: GPT): Float32Array {
  const flat = new Float32Array(model.parameterCount);
  let offset = 0;
  for (const [name, v] of model.params) {
    flat.set(weights[name]!, offset);
    offset += v.size;
  }
  return flat;
}
