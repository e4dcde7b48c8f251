/**
 * The training loop end to end on tiny models: it learns, it does not leak, it is reproducible from a seed
 * and from a checkpoint, it can be stopped, paused and resumed, and it reports divergence instead of throwing.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { resolveConfig, type RunConfig } from '../../../src/engine/config';
import { buildCorpus, sequentialWindows, type Corpus } from '../../../src/engine/data';
import { GPT, modelConfigOf } from '../../../src/engine/model/gpt';
import { Trainer, evaluateLoss, type StepMetrics, type TrainerCallbacks } from '../../../src/engine/train/trainer';
import { useWasmBackend } from '../../helpers/backend';

useWasmBackend();

const TINY: Partial<RunConfig> = {
  data: 'builtin:copy',
  nLayer: 1,
  nHead: 2,
  nEmbd: 16,
  blockSize: 8,
  batchSize: 4,
  steps: 10,
  lr: 1e-2,
  minLr: 1e-3,
  evalEvery: 1000,
  evalBatches: 2,
  sampleEvery: 0,
  sampleLength: 8,
  checkpointEvery: 0,
};

let copyCorpus: Corpus | undefined;
/** builtin:copy, small, shared by the tests that do not care about the text. */
function corpus(): Corpus {
  copyCorpus ??= buildCorpus({ source: 'builtin:copy', blockSize: 8, seed: 7, chars: 20_000 });
  return copyCorpus;
}

interface Setup {
  config: RunConfig;
  model: GPT;
  trainer: Trainer;
  losses: number[];
  metrics: StepMetrics[];
}

function setup(
  overrides: Partial<RunConfig> = {},
  opts: { corpus?: Corpus; callbacks?: TrainerCallbacks; resumeFrom?: Uint8Array } = {},
): Setup {
  const config = resolveConfig({ ...TINY, ...overrides });
  const data = opts.corpus ?? corpus();
  const model = new GPT(modelConfigOf(config, data.tokenizer.size), config.seed);
  const losses: number[] = [];
  const metrics: StepMetrics[] = [];
  const callbacks: TrainerCallbacks = {
    ...opts.callbacks,
    onStep: async (m) => {
      losses.push(m.trainLoss);
      metrics.push(m);
      await opts.callbacks?.onStep?.(m);
    },
  };
  const trainer = new Trainer({ model, config, corpus: data, callbacks, resumeFrom: opts.resumeFrom });
  return { config, model, trainer, losses, metrics };
}

function dispose(s: Setup): void {
  s.trainer.dispose();
  s.model.dispose();
}

describe('Trainer', () => {
  it('overfits a single repeated window to near-zero loss', async () => {
    // 18 characters, half for validation: the training split is 9 tokens = exactly one window of block 8, so
    // every batch row is the same window and every next token is determined by its context.
    const tiny = buildCorpus({ source: 'hello', text: 'hello world! hello', blockSize: 8, valFraction: 0.5 });
    expect(tiny.train.length).toBe(9);
    const s = setup(
      { nLayer: 1, nHead: 2, nEmbd: 32, steps: 200, lr: 1e-2, minLr: 1e-3, weightDecay: 0, valFraction: 0.5, evalEvery: 200 },
      { corpus: tiny },
    );
    const outcome = await s.trainer.run();
    expect(outcome.status).toBe('completed');
    expect(outcome.steps).toBe(200);
    expect(s.losses[0]).toBeGreaterThan(Math.log(tiny.tokenizer.size) - 0.3); // starts near ln(vocab)
    expect(outcome.finalTrainLoss).toBeLessThan(0.1);
    expect(s.losses.at(-1)).toBe(outcome.finalTrainLoss);
    dispose(s);
  });

  it('keeps the tensor count flat while training and frees everything on dispose', async () => {
    const before = tf.memory().numTensors;
    const counts = new Map<number, number>();
    const s = setup(
      { steps: 20, evalEvery: 5, sampleEvery: 5, checkpointEvery: 5, dropoutEmbd: 0.1, dropoutAttn: 0.1, dropoutResid: 0.1 },
      {
        callbacks: {
          onStep: (m) => {
            counts.set(m.step, tf.memory().numTensors);
          },
        },
      },
    );
    const outcome = await s.trainer.run();
    expect(outcome.status).toBe('completed');
    // Steps 4 and 19 both follow an evaluation, a sample and a checkpoint of the previous interval.
    expect(counts.get(4)).toBe(counts.get(19));
    expect(counts.get(9)).toBe(counts.get(19));
    dispose(s);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reproduces the exact loss sequence from the same seed, with dropout on', async () => {
    const dropout = { dropoutEmbd: 0.1, dropoutAttn: 0.1, dropoutResid: 0.1 };
    const a = setup({ ...dropout, seed: 42 });
    const b = setup({ ...dropout, seed: 42 });
    const c = setup({ ...dropout, seed: 43 });
    await a.trainer.run();
    await b.trainer.run();
    await c.trainer.run();
    expect(a.losses).toHaveLength(10);
    expect(b.losses).toEqual(a.losses);
    expect(c.losses).toHaveLength(10);
    for (let i = 0; i < 10; i++) expect(c.losses[i]).not.toBe(a.losses[i]);
    for (const s of [a, b, c]) dispose(s);
  });

  it('uses the dropout stream: dropout on changes the losses relative to dropout off', async () => {
    const on = setup({ dropoutEmbd: 0.1, dropoutAttn: 0.1, dropoutResid: 0.1, steps: 3 });
    const off = setup({ steps: 3 });
    await on.trainer.run();
    await off.trainer.run();
    expect(on.losses[0]).not.toBe(off.losses[0]);
    dispose(on);
    dispose(off);
  });

  for (const dropout of [0, 0.1]) {
    it(`resumes from a checkpoint exactly (dropout ${dropout})`, async () => {
      const knobs = { dropoutEmbd: dropout, dropoutAttn: dropout, dropoutResid: dropout, steps: 10, checkpointEvery: 5, evalEvery: 5 };
      const straight = setup(knobs);
      await straight.trainer.run();

      // First half: stop after step 4 (the checkpoint at step 4 is written before the stop takes effect).
      const checkpoints = new Map<number, Uint8Array>();
      const first = setup(knobs, {
        callbacks: {
          onStep: (m) => {
            if (m.step === 4) first.trainer.stop();
          },
          onCheckpoint: (step, data) => {
            checkpoints.set(step, data);
          },
        },
      });
      const firstOutcome = await first.trainer.run();
      expect(firstOutcome.status).toBe('stopped');
      expect(firstOutcome.steps).toBe(5);
      expect(first.losses).toEqual(straight.losses.slice(0, 5));
      const saved = checkpoints.get(4);
      expect(saved).toBeDefined();
      // trainer.checkpoint() after the run is at the same point.
      const direct = await first.trainer.checkpoint();
      dispose(first);

      for (const bytes of [saved!, direct]) {
        const second = setup(knobs, { resumeFrom: bytes });
        expect(second.trainer.startStep).toBe(5);
        const outcome = await second.trainer.run();
        expect(outcome.status).toBe('completed');
        expect(outcome.steps).toBe(10);
        expect(second.metrics.map((m) => m.step)).toEqual([5, 6, 7, 8, 9]);
        expect(second.losses).toEqual(straight.losses.slice(5));
        expect(second.metrics.map((m) => m.tokens)).toEqual(straight.metrics.slice(5).map((m) => m.tokens));
        expect(second.metrics.map((m) => m.lr)).toEqual(straight.metrics.slice(5).map((m) => m.lr));
        expect(outcome.finalValLoss).toBe(straight.metrics[9].valLoss);
        dispose(second);
      }
      dispose(straight);
    });
  }

  it('stop() from onStep at step 3 ends after 4 steps with status stopped and a final checkpoint', async () => {
    const checkpointSteps: number[] = [];
    const s = setup(
      { steps: 50 },
      {
        callbacks: {
          onStep: (m) => {
            if (m.step === 3) s.trainer.stop();
          },
          onCheckpoint: (step) => {
            checkpointSteps.push(step);
          },
        },
      },
    );
    const outcome = await s.trainer.run();
    expect(outcome.status).toBe('stopped');
    expect(outcome.steps).toBe(4);
    expect(s.metrics.map((m) => m.step)).toEqual([0, 1, 2, 3]);
    expect(outcome.finalTrainLoss).toBe(s.losses[3]);
    expect(checkpointSteps).toEqual([3]);
    dispose(s);
  });

  it('pause() holds the loop until resume()', async () => {
    const s = setup(
      { steps: 6 },
      {
        callbacks: {
          onStep: (m) => {
            if (m.step === 2) {
              s.trainer.pause();
              expect(s.trainer.paused).toBe(true);
            }
          },
        },
      },
    );
    const running = s.trainer.run();
    // Wait until step 2 has been reported, then give the loop plenty of turns: it must not advance.
    while (s.metrics.length < 3) await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 50));
    expect(s.metrics.length).toBe(3);
    expect(s.trainer.paused).toBe(true);
    s.trainer.resume();
    expect(s.trainer.paused).toBe(false);
    const outcome = await running;
    expect(outcome.status).toBe('completed');
    expect(s.metrics.map((m) => m.step)).toEqual([0, 1, 2, 3, 4, 5]);
    dispose(s);
  });

  it('stop() while paused ends the run as stopped', async () => {
    const s = setup(
      { steps: 20 },
      {
        callbacks: {
          onStep: (m) => {
            if (m.step === 1) s.trainer.pause();
          },
        },
      },
    );
    const running = s.trainer.run();
    while (s.metrics.length < 2) await new Promise((r) => setTimeout(r, 5));
    s.trainer.stop();
    const outcome = await running;
    expect(outcome.status).toBe('stopped');
    expect(outcome.steps).toBe(2);
    dispose(s);
  });

  it('evaluates a stopped run once more at its last step, so its val loss is not up to evalEvery steps old', async () => {
    const finalEvals: StepMetrics[] = [];
    const s = setup(
      { steps: 50, evalEvery: 5 },
      {
        callbacks: {
          onStep: (m) => {
            if (m.step === 6) s.trainer.stop();
          },
          onFinalEval: (m) => void finalEvals.push(m),
        },
      },
    );
    const outcome = await s.trainer.run();
    expect(s.metrics.map((m) => m.step)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(finalEvals).toHaveLength(1);
    expect(finalEvals[0]).toEqual({ ...s.metrics[6], valLoss: await s.trainer.evaluate() });
    expect(outcome.finalValLoss).toBe(finalEvals[0].valLoss);
    expect(outcome.finalValLoss).not.toBe(s.metrics[4].valLoss);
    dispose(s);
  });

  it('does not evaluate again when the stopped step already has its val loss', async () => {
    const finalEvals: StepMetrics[] = [];
    const s = setup({ steps: 50, evalEvery: 5 }, { callbacks: { onStep: (m) => void (m.step === 4 && s.trainer.stop()), onFinalEval: (m) => void finalEvals.push(m) } });
    const outcome = await s.trainer.run();
    expect(finalEvals).toEqual([]);
    expect(outcome.finalValLoss).toBe(s.metrics[4].valLoss);
    dispose(s);
  });

  it('leaves paused time out of wallMs', async () => {
    // A fake clock that only moves while the run is paused: every step then takes 0 ms.
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const s = setup({ steps: 4 }, { callbacks: { onStep: (m) => void (m.step === 1 && s.trainer.pause()) } });
      const running = s.trainer.run();
      while (s.metrics.length < 2) await new Promise((r) => setImmediate(r));
      // Turns enough for the loop to reach its pause (as in the pause test above), then a minute passes.
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      expect(s.trainer.paused).toBe(true);
      vi.advanceTimersByTime(60_000);
      s.trainer.resume();
      await running;
      expect(s.metrics.map((m) => m.wallMs)).toEqual([0, 0, 0, 0]);
      dispose(s);
    } finally {
      vi.useRealTimers();
    }
  });

  it('evaluates about 20 times over the run when evalEvery is 0 (automatic)', async () => {
    const s = setup({ steps: 40, evalEvery: 0 });
    await s.trainer.run();
    expect(s.metrics.filter((m) => m.valLoss !== null).map((m) => m.step)).toEqual(Array.from({ length: 20 }, (_, i) => 2 * i + 1));
    dispose(s);
  });

  it('reports divergence (NaN weights) as status diverged naming the step, without throwing', async () => {
    const s = setup(
      { steps: 20, evalEvery: 1 },
      {
        callbacks: {
          onStep: async (m) => {
            if (m.step === 2) {
              const weights = await s.model.getWeights();
              weights['lm_head.w'] = weights['lm_head.w'].map(() => Number.NaN);
              s.model.setWeights(weights);
            }
          },
        },
      },
    );
    const outcome = await s.trainer.run();
    expect(outcome.status).toBe('diverged');
    expect(outcome.steps).toBe(4);
    expect(outcome.message).toMatch(/step 3\b/);
    expect(outcome.message).toMatch(/NaN/);
    expect(s.metrics.map((m) => m.step)).toEqual([0, 1, 2, 3]);
    expect(Number.isNaN(s.metrics[3].trainLoss)).toBe(true);
    // No evaluation on the diverged step; the last good one is kept.
    expect(s.metrics[3].valLoss).toBeNull();
    expect(outcome.finalValLoss).toBe(s.metrics[2].valLoss);
    dispose(s);
  });

  it('reports divergence from NaN weights at step 0', async () => {
    const s = setup({ steps: 5 });
    const weights = await s.model.getWeights();
    weights.wte = weights.wte.map(() => Number.NaN);
    s.model.setWeights(weights);
    const outcome = await s.trainer.run();
    expect(outcome.status).toBe('diverged');
    expect(outcome.steps).toBe(1);
    expect(outcome.message).toMatch(/step 0\b/);
    dispose(s);
  });

  it('reports val loss at every evalEvery steps and at the last step, equal to evaluateLoss on the same windows', async () => {
    const s = setup({ steps: 12, evalEvery: 5, evalBatches: 2, batchSize: 4 });
    const outcome = await s.trainer.run();
    const withVal = s.metrics.filter((m) => m.valLoss !== null).map((m) => m.step);
    expect(withVal).toEqual([4, 9, 11]);
    const last = s.metrics[11].valLoss!;
    expect(outcome.finalValLoss).toBe(last);
    // The trainer evaluates the first evalBatches·batchSize non-overlapping windows of the validation split.
    const windows = sequentialWindows(corpus().val, 8, 2 * 4);
    expect(windows).toHaveLength(8);
    expect(await evaluateLoss(s.model, windows, 4)).toBe(last);
    expect(await s.trainer.evaluate()).toBe(last);
    // Batching does not change the mean (up to float rounding).
    expect(await evaluateLoss(s.model, windows, 3)).toBeCloseTo(last, 5);
    dispose(s);
  });

  it('evaluateLoss is the mean of the per-window losses', async () => {
    const s = setup();
    const windows = sequentialWindows(corpus().val, 8, 5);
    const perWindow = await Promise.all(windows.map((w) => evaluateLoss(s.model, [w], 1)));
    const mean = perWindow.reduce((a, b) => a + b, 0) / perWindow.length;
    expect(await evaluateLoss(s.model, windows, 2)).toBeCloseTo(mean, 5);
    // At initialisation the predictions are near uniform: about ln(vocab) per token.
    expect(mean).toBeCloseTo(Math.log(corpus().tokenizer.size), 0);
    dispose(s);
  });

  it('emits samples on sampleEvery and at the last step', async () => {
    const samples: { step: number; prompt: string; text: string }[] = [];
    const s = setup({ steps: 7, sampleEvery: 3, sampleLength: 5 }, { callbacks: { onSample: (x) => void samples.push(x) } });
    await s.trainer.run();
    expect(samples.map((x) => x.step)).toEqual([2, 5, 6]);
    for (const x of samples) {
      expect([...x.text]).toHaveLength(5);
      for (const ch of x.text) expect(corpus().tokenizer.vocab).toContain(ch);
      expect(x.prompt).toBe(corpus().tokenizer.decode(corpus().val.subarray(0, 8)));
    }
    dispose(s);
  });

  it('counts tokens as steps × batch × block', async () => {
    const s = setup({ steps: 3, batchSize: 4, blockSize: 8 });
    await s.trainer.run();
    expect(s.metrics.map((m) => m.tokens)).toEqual([32, 64, 96]);
    dispose(s);
  });
});
