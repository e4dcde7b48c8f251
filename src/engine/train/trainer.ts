/**
 * The training loop, nanoGPT style: get batch → forward/backward → clip → AdamW step → log,
 * evaluate on the eval interval (and once more when stopped), sample and checkpoint on their own intervals. The trainer talks to the
 * outside world only through callbacks, so the CLI, the training host and tests drive it the same way.
 */
import * as tf from '@tensorflow/tfjs';
import { effectiveWarmup, type RunConfig } from '../config';
import { BatchSampler, sequentialWindows } from '../data/batches';
import type { Corpus } from '../data/corpus';
import type { DropoutKey } from '../model/dropout';
import type { GPT } from '../model/gpt';
import { createRng, type Rng } from '../rng';
import { AdamW, globalNorm } from './adamw';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint';
import { takeValues } from '../read';
import { timePhase, type PhaseProfile } from './profile';
import { generate } from './sample';
import { applyStep, gradientTensors, reduceShards, replicaOptimizerOf, splitRows, type EvalBatch, type GradientHelpers } from './shards';
import { evalInterval, isSampleStep, learningRate } from './schedule';

export interface StepMetrics {
  step: number;
  tokens: number;
  wallMs: number;
  trainLoss: number;
  valLoss: number | null;
  lr: number;
  gradNorm: number;
  tokensPerSecond: number;
}

export interface TrainerCallbacks {
  onStep?(metrics: StepMetrics): void | Promise<void>;
  onSample?(sample: { step: number; prompt: string; text: string }): void | Promise<void>;
  onCheckpoint?(step: number, data: Uint8Array): void | Promise<void>;
  /** A stopped run's last step again, now with its val loss (that step was reported without one). */
  onFinalEval?(metrics: StepMetrics): void | Promise<void>;
}

export type TrainStatus = 'completed' | 'stopped' | 'diverged';

export interface TrainOutcome {
  status: TrainStatus;
  /** Steps completed (the last logged step + 1). */
  steps: number;
  finalTrainLoss: number | null;
  finalValLoss: number | null;
  tokensPerSecond: number;
  /** Why a diverged run stopped. */
  message?: string;
}

export interface TrainerOptions {
  model: GPT;
  config: RunConfig;
  corpus: Corpus;
  callbacks?: TrainerCallbacks;
  /** Checkpoint bytes to continue from (same model, data and config). */
  resumeFrom?: Uint8Array;
  /** Threads that compute part of every batch's gradient (config.threads − 1 of them); the caller disposes them. */
  helpers?: GradientHelpers;
  /** Receives the time of every step phase, evaluation, sample and checkpoint (see profile.ts). */
  profile?: PhaseProfile;
}

export class Trainer {
  private readonly model: GPT;
  private readonly config: RunConfig;
  private readonly corpus: Corpus;
  private readonly callbacks: TrainerCallbacks;
  private readonly optimizer: AdamW;
  private readonly batchRng: Rng;
  private readonly sampler: BatchSampler;
  private readonly valWindows: Int32Array[];
  private readonly helpers: GradientHelpers | undefined;
  private readonly profile: PhaseProfile | undefined;
  /** The reduced gradient of a data-parallel step (reused: a step's buffer is dead once its tensors exist). */
  private reduced: Float32Array | null = null;
  private step = 0;
  private tokens = 0;
  private wallMsBefore = 0;
  private runStartedAt: number | null = null;
  /** Time spent paused in this run() call: not training time, so not in wallMs. */
  private pausedMs = 0;
  private stopRequested = false;
  private resumeWaiter: (() => void) | null = null;
  private pausedPromise: Promise<void> | null = null;

  constructor(opts: TrainerOptions) {
    this.model = opts.model;
    this.config = opts.config;
    this.corpus = opts.corpus;
    this.callbacks = opts.callbacks ?? {};
    this.helpers = opts.helpers;
    this.profile = opts.profile;
    const decayed = new Set(this.model.layout.filter((p) => p.decay).map((p) => p.name));
    this.optimizer = new AdamW(this.model.params, decayed, replicaOptimizerOf(this.config));
    const resumed = opts.resumeFrom ? decodeCheckpoint(opts.resumeFrom) : undefined;
    this.batchRng = createRng(this.config.seed, resumed?.batchRngState);
    if (resumed) {
      this.model.setWeights(resumed.weights);
      this.optimizer.setState(resumed.optimizer);
      this.step = resumed.step;
      this.tokens = resumed.tokens;
      this.wallMsBefore = resumed.wallMs;
    }
    this.sampler = new BatchSampler(this.corpus.train, this.config.blockSize, this.config.batchSize, this.batchRng);
    const evalWindows = this.config.evalBatches * this.config.batchSize;
    this.valWindows = sequentialWindows(this.corpus.val, this.config.blockSize, evalWindows);
  }

  /** The step the next call to run() starts at (non-zero after a resume). */
  get startStep(): number {
    return this.step;
  }

  stop(): void {
    this.stopRequested = true;
    this.resume();
  }

  pause(): void {
    if (!this.pausedPromise) this.pausedPromise = new Promise((resolve) => (this.resumeWaiter = resolve));
  }

  resume(): void {
    this.resumeWaiter?.();
    this.resumeWaiter = null;
    this.pausedPromise = null;
  }

  get paused(): boolean {
    return this.pausedPromise !== null;
  }

  /**
   * Mean loss over the fixed validation windows (deterministic, so runs compare fairly). With helpers, the batches are
   * dealt round-robin to every thread's replica; each batch's loss is the same whichever replica computes it.
   */
  async evaluate(): Promise<number> {
    const batches = evalBatches(this.valWindows, this.config.batchSize);
    const helpers = this.helpers;
    if (!helpers) return meanLoss(batches, await batchLosses(this.model, batches));
    const threads = helpers.count + 1;
    const dealt = Array.from({ length: threads }, (_, t) => batches.filter((_, i) => i % threads === t));
    const [others, own] = await Promise.all([helpers.evaluate(dealt.slice(1)), batchLosses(this.model, dealt[0]!)]);
    const losses = batches.map((_, i) => (i % threads === 0 ? own : others[(i % threads) - 1]!)[Math.floor(i / threads)]!);
    return meanLoss(batches, losses);
  }

  /** One optimisation step; returns the loss and the gradient norm before clipping. */
  private trainStep(x: Int32Array, y: Int32Array, lr: number): Promise<{ loss: number; gradNorm: number }> {
    return this.helpers ? this.dataParallelStep(this.helpers, x, y, lr) : this.singleThreadStep(x, y, lr);
  }

  private async singleThreadStep(x: Int32Array, y: Int32Array, lr: number): Promise<{ loss: number; gradNorm: number }> {
    const computeStarted = performance.now();
    const { batchSize: B, blockSize: T } = this.config;
    const { value, grads } = tf.tidy(() => {
      const idx = tf.tensor2d(x, [B, T], 'int32');
      const targets = tf.tensor2d(y, [B, T], 'int32');
      return tf.variableGrads(() => this.model.loss(idx, targets, { dropout: this.dropoutKey(0) }), [...this.model.params.values()]);
    });
    const byName = Object.fromEntries([...this.model.params].map(([name, variable]) => [name, grads[variable.name]!]));
    try {
      // The step's one read: the loss and the global gradient norm, together.
      const both = tf.tidy(() => tf.stack([value, globalNorm(byName)]));
      const readStarted = this.profile?.add('compute', computeStarted) ?? 0;
      const [loss, gradNorm] = await takeValues(both);
      const applyStarted = this.profile?.add('read', readStarted) ?? 0;
      applyStep(this.optimizer, byName, loss!, gradNorm!, lr, this.config.gradClip);
      this.profile?.add('compute', applyStarted);
      return { loss: loss!, gradNorm: gradNorm! };
    } finally {
      tf.dispose([value, grads]);
    }
  }

  /**
   * The helpers compute the later rows of the batch while this thread computes the first ones; then every thread
   * reduces all the shards and takes the same step on its own replica (shards.ts), this thread on the model.
   */
  private async dataParallelStep(helpers: GradientHelpers, x: Int32Array, y: Int32Array, lr: number): Promise<{ loss: number; gradNorm: number }> {
    const computeStarted = performance.now();
    const { batchSize: B, blockSize: T } = this.config;
    const rows = splitRows(B, helpers.count + 1);
    const mine = rows[0]!;
    let start = mine;
    const shards = rows.slice(1).map((n) => {
      const shard = { x: x.subarray(start * T, (start + n) * T), y: y.subarray(start * T, (start + n) * T), rows: n, dropout: this.dropoutKey(start) };
      start += n;
      return shard;
    });
    helpers.begin(shards, lr);
    const variables = [...this.model.params.values()];
    let byName: Record<string, tf.Tensor> = {};
    try {
      const own = tf.tidy(() => {
        const idx = tf.tensor2d(x.subarray(0, mine * T), [mine, T], 'int32');
        const targets = tf.tensor2d(y.subarray(0, mine * T), [mine, T], 'int32');
        return tf.variableGrads(() => this.model.loss(idx, targets, { dropout: this.dropoutKey(0) }), variables);
      });
      const ownLoss = await this.publishOwnGradient(helpers, own);
      const reduced = (this.reduced ??= new Float32Array(helpers.ownGradient().length));
      const loss = reduceShards(await helpers.exchange({ rows: mine, loss: ownLoss }), B, reduced);
      byName = gradientTensors(this.model.params, reduced);
      const readStarted = this.profile?.add('compute', computeStarted) ?? 0;
      const [gradNorm] = await takeValues(globalNorm(byName));
      const applyStarted = this.profile?.add('read', readStarted) ?? 0;
      applyStep(this.optimizer, byName, loss, gradNorm!, lr, this.config.gradClip);
      this.profile?.add('compute', applyStarted);
      return { loss, gradNorm: gradNorm! };
    } catch (error) {
      helpers.abandon();
      throw error;
    } finally {
      tf.dispose(byName);
    }
  }

  /** This thread's shard: its gradient flattened into the helpers' buffer, then disposed; returns its mean loss. */
  private async publishOwnGradient(helpers: GradientHelpers, own: { value: tf.Scalar; grads: tf.NamedTensorMap }): Promise<number> {
    try {
      const target = helpers.ownGradient();
      let offset = 0;
      for (const variable of this.model.params.values()) {
        target.set((await own.grads[variable.name]!.data()) as Float32Array, offset);
        offset += variable.size;
      }
      return (await own.value.data())[0]!;
    } finally {
      tf.dispose([own.value, own.grads]);
    }
  }

  /** This step's dropout masks for the rows from `firstRow` on: the same whichever thread computes them. */
  private dropoutKey(firstRow: number): DropoutKey {
    return { seed: this.config.seed, step: this.step, firstRow };
  }

  async run(): Promise<TrainOutcome> {
    const { steps, batchSize, blockSize, sampleEvery, checkpointEvery } = this.config;
    const evalEvery = evalInterval(this.config);
    const schedule = { lr: this.config.lr, minLr: this.config.minLr, warmupSteps: effectiveWarmup(this.config), steps };
    // The replicas start from this model and optimizer, whatever they held before (a new run, a resume).
    const helpers = this.helpers;
    if (helpers) await timePhase(this.profile, 'helpers', async () => helpers.sync({ weights: await this.model.getWeights(), optimizer: await this.optimizer.getState() }));
    const started = performance.now();
    this.runStartedAt = started;
    this.pausedMs = 0;
    const startTokens = this.tokens;
    let last: StepMetrics | null = null;
    let lastVal: number | null = null;
    let status: TrainStatus = 'completed';
    let message: string | undefined;
    const tokensPerSecond = (): number => {
      const seconds = (performance.now() - started - this.pausedMs) / 1000;
      return seconds > 0 ? (this.tokens - startTokens) / seconds : 0;
    };

    while (this.step < steps) {
      if (this.pausedPromise) {
        const pausedAt = performance.now();
        await this.pausedPromise;
        this.pausedMs += performance.now() - pausedAt;
      }
      if (this.stopRequested) {
        status = 'stopped';
        break;
      }
      const step = this.step;
      const lr = learningRate(step, schedule);
      const { x, y } = this.sampler.next();
      const { loss, gradNorm } = await this.trainStep(x, y, lr);
      this.tokens += batchSize * blockSize;
      this.step = step + 1;
      const isLast = this.step === steps;
      const diverged = !Number.isFinite(loss) || !Number.isFinite(gradNorm);
      const valLoss = !diverged && ((step + 1) % evalEvery === 0 || isLast) ? await timePhase(this.profile, 'eval', () => this.evaluate()) : null;
      if (valLoss !== null) lastVal = valLoss;
      last = {
        step,
        tokens: this.tokens,
        wallMs: this.wallMs(),
        trainLoss: loss,
        valLoss,
        lr,
        gradNorm,
        tokensPerSecond: tokensPerSecond(),
      };
      await this.callbacks.onStep?.(last);
      if (diverged) {
        status = 'diverged';
        message = `${Number.isFinite(loss) ? 'gradient norm' : 'loss'} became ${Number.isFinite(loss) ? gradNorm : loss} at step ${step}`;
        break;
      }
      if (isSampleStep(step + 1, { sampleEvery, steps, evalInterval: evalEvery })) await this.emitSample(step);
      // Every run ends with a checkpoint, so it can be evaluated and probed; 0 means only that one.
      if (isLast || (checkpointEvery > 0 && (step + 1) % checkpointEvery === 0)) await this.callbacks.onCheckpoint?.(step, await timePhase(this.profile, 'checkpoint', () => this.checkpoint()));
      // Let stop/pause requests and I/O in; training would otherwise hold the event loop for the whole run.
      await timePhase(this.profile, 'yield', () => new Promise<void>((resolve) => setImmediate(resolve)));
    }
    if (status === 'stopped' && last) {
      // A stopped run would otherwise keep the val loss of its last scheduled evaluation, up to evalEvery steps old.
      if (last.valLoss === null) {
        last = { ...last, valLoss: await timePhase(this.profile, 'eval', () => this.evaluate()) };
        lastVal = last.valLoss;
        await this.callbacks.onFinalEval?.(last);
      }
      await this.callbacks.onCheckpoint?.(last.step, await timePhase(this.profile, 'checkpoint', () => this.checkpoint()));
    }
    return {
      status,
      steps: this.step,
      finalTrainLoss: last?.trainLoss ?? null,
      finalValLoss: lastVal,
      tokensPerSecond: tokensPerSecond(),
      message,
    };
  }

  private async emitSample(step: number): Promise<void> {
    const { tokenizer } = this.corpus;
    const prompt = tokenizer.decode(this.corpus.val.subarray(0, Math.min(8, this.corpus.val.length)));
    const sampleStarted = performance.now();
    const ids = await generate(this.model, tokenizer.encode(prompt), {
      maxNewTokens: this.config.sampleLength,
      temperature: 0.8,
      topK: 0,
      rng: createRng(this.config.seed + step),
    });
    this.profile?.add('sample', sampleStarted);
    await this.callbacks.onSample?.({ step, prompt, text: tokenizer.decode(ids) });
  }

  async checkpoint(): Promise<Uint8Array> {
    // The counters and RNG states are taken before the reads wait, so they describe the same step as the weights.
    const position = {
      step: this.step,
      tokens: this.tokens,
      wallMs: this.wallMs(),
      batchRngState: this.batchRng.state(),
    };
    const [weights, optimizer] = await Promise.all([this.model.getWeights(), this.optimizer.getState()]);
    return encodeCheckpoint({ ...position, weights, optimizer });
  }

  /** Training time so far, across resumes, without the time spent paused. */
  private wallMs(): number {
    return this.wallMsBefore + (this.runStartedAt === null ? 0 : performance.now() - this.runStartedAt - this.pausedMs);
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/** Windows of length T+1 as batches of at most `batchSize` inputs and next-token targets. */
export function evalBatches(windows: Int32Array[], batchSize: number): EvalBatch[] {
  const batches: EvalBatch[] = [];
  for (let start = 0; start < windows.length; start += batchSize) {
    const batch = windows.slice(start, start + batchSize);
    const T = batch[0]!.length - 1;
    const x = new Int32Array(batch.length * T);
    const y = new Int32Array(batch.length * T);
    batch.forEach((w, b) => {
      x.set(w.subarray(0, T), b * T);
      y.set(w.subarray(1), b * T);
    });
    batches.push({ x, y, rows: batch.length });
  }
  return batches;
}

/** Each batch's mean loss, read together at the end. */
async function batchLosses(model: GPT, batches: readonly EvalBatch[]): Promise<number[]> {
  if (batches.length === 0) return [];
  const losses = batches.map(({ x, y, rows }) => tf.tidy(() => model.loss(tf.tensor2d(x, [rows, x.length / rows], 'int32'), tf.tensor2d(y, [rows, y.length / rows], 'int32'))));
  const values = await takeValues(tf.tidy(() => tf.stack(losses)));
  tf.dispose(losses);
  return [...values];
}

/** The mean over every row of the batches' mean losses, summed in float64. */
function meanLoss(batches: readonly EvalBatch[], losses: readonly number[]): number {
  let total = 0;
  batches.forEach((batch, i) => (total += losses[i]! * batch.rows));
  return total / batches.reduce((sum, batch) => sum + batch.rows, 0);
}

/** Mean next-token loss over windows of length T+1, in batches of at most `batchSize`; one read at the end. */
export async function evaluateLoss(model: GPT, windows: Int32Array[], batchSize: number): Promise<number> {
  const batches = evalBatches(windows, batchSize);
  return meanLoss(batches, await batchLosses(model, batches));
}
