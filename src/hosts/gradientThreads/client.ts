/**
 * Gradient helpers on worker threads: tfjs-wasm computes on one thread under Node, so a run with `threads` > 1 starts
 * threads − 1 workers, each with its own wasm instance, replica of the model and replica of the optimizer.
 *
 * A step, all through one SharedArrayBuffer (no messages, no copies of the weights):
 *   1. the trainer writes each helper's rows and the learning rate, bumps the generation and notifies;
 *   2. every thread (the trainer too) computes its rows' loss and gradient, writes them into its own gradient slot and
 *      publishes its generation there;
 *   3. every thread waits for all the others' slots, reduces them in the same order (`reduceShards`) and applies the
 *      same clipped AdamW step to its own replica, so the replicas stay bit-identical to the trainer's model.
 * Gradient slots alternate between two halves by step parity: a thread writes step n + 1's gradient while a slower
 * one may still be reading step n's, and nobody can reach step n + 2 before everyone has finished reading step n.
 *
 * Rare requests (sync the replicas to the trainer's weights and optimizer, evaluate batches, report the replica's
 * weights) go as messages: the trainer posts one to each helper and bumps the generation with op MESSAGE; the
 * helper, blocked in Atomics.wait, takes it with receiveMessageOnPort and replies with postMessage.
 *
 * The buffer's layout and the request types: protocol.ts.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BackendName } from '../../engine/backend';
import type { ModelConfig } from '../../engine/model/gpt';
import { matmulKernels } from '../../engine/model/nativeGemm';
import type { EvalBatch, GradientHelpers, ReplicaOptimizer, ReplicaState, Shard, ShardGradient } from '../../engine/train/shards';
import { FAILED, helperBufferBytes, helperViews, OP_MESSAGE, OP_QUIT, OP_STEP, PUBLISHED, shardOf, type HelperReply, type HelperRequest, type HelperStart, type HelperViews } from './protocol';

/**
 * The worker's module. Bundled (out/main), the lab process (src/hosts/lab/entry.ts) sets GPT_LAB_GRADIENT_WORKER to gradientWorker.js beside it;
 * from source the worker runs the .ts file through tsx, whose loader worker threads do not inherit.
 */
function startWorker(workerData: HelperStart): Worker {
  const bundled = process.env.GPT_LAB_GRADIENT_WORKER;
  if (bundled) return new Worker(bundled, { workerData });
  const source = pathToFileURL(fileURLToPath(new URL('./entry.ts', import.meta.url))).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const shim = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(shim, { eval: true, workerData });
}

/** Waits until control[index] reaches `target` (or FAILED), without blocking the event loop. */
async function reached(control: Int32Array, index: number, target: number): Promise<boolean> {
  for (;;) {
    const value = Atomics.load(control, index);
    if (value === FAILED) return false;
    if (value >= target) return true;
    const wait = Atomics.waitAsync(control, index, value);
    if (wait.async) await wait.value;
  }
}

export interface HelperOptions {
  /** Helper threads to start (the run's threads − 1). */
  count: number;
  model: ModelConfig;
  /** The model's parameter count. */
  params: number;
  /** The most rows any helper gets of a batch. */
  maxRows: number;
  backend: BackendName;
  optimizer: ReplicaOptimizer;
}

export class ThreadHelpers implements GradientHelpers {
  readonly count: number;
  private readonly views: HelperViews;
  private readonly workers: Worker[];
  private generation = 0;
  private steps = 0;
  private failure: Error | null = null;
  private onFailure: ((error: Error) => void) | null = null;
  private closing = false;

  private constructor(count: number, views: HelperViews, workers: Worker[]) {
    this.count = count;
    this.views = views;
    this.workers = workers;
    workers.forEach((worker, k) => {
      const fail = (error: Error): void => {
        this.failure ??= error;
        this.onFailure?.(this.failure);
      };
      worker.on('error', (error) => fail(new Error(`gradient helper thread ${k + 1} failed: ${error.message}`)));
      worker.on('exit', (code) => {
        if (!this.closing) fail(new Error(`gradient helper thread ${k + 1} exited (code ${code})`));
      });
    });
  }

  /** Starts the helper threads; resolves once each has loaded its backend and built its replica. */
  static async start({ count, model, params, maxRows, backend, optimizer }: HelperOptions): Promise<ThreadHelpers> {
    const layout = { helpers: count, params, maxRows, blockSize: model.blockSize };
    const buffer = new SharedArrayBuffer(helperBufferBytes(layout));
    const views = helperViews(buffer, layout);
    const matmul = matmulKernels();
    const workers = Array.from({ length: count }, (_, k) => startWorker({ index: k + 1, buffer, layout, model, backend, optimizer, matmul }));
    const ready = workers.map(
      (worker, k) =>
        new Promise<void>((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', (error) => reject(new Error(`gradient helper thread ${k + 1} could not start: ${error.message}`)));
          worker.once('exit', (code) => reject(new Error(`gradient helper thread ${k + 1} exited while starting (code ${code})`)));
        }),
    );
    try {
      await Promise.all(ready);
    } catch (error) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw error;
    }
    return new ThreadHelpers(count, views, workers);
  }

  async sync(state: ReplicaState): Promise<void> {
    await this.request(() => ({ kind: 'sync', state }));
  }

  begin(shards: readonly Shard[], lr: number): void {
    if (this.failure) throw this.failure;
    if (shards.length !== this.count) throw new Error(`expected ${this.count} shards, got ${shards.length}`);
    shards.forEach((shard, i) => {
      const input = this.views.input(i + 1);
      input.header.set([shard.rows, shard.dropout.seed, shard.dropout.step, shard.dropout.firstRow]);
      input.lr[0] = lr;
      input.x.set(shard.x);
      input.y.set(shard.y);
    });
    this.steps++;
    this.signal(OP_STEP);
  }

  ownGradient(): Float32Array {
    return this.views.gradient(0, this.steps % 2).grads;
  }

  async exchange(own: { rows: number; loss: number }): Promise<ShardGradient[]> {
    const { control } = this.views;
    const target = this.generation;
    const parity = this.steps % 2;
    const mine = this.views.gradient(0, parity);
    mine.rows[0] = own.rows;
    mine.loss[0] = own.loss;
    Atomics.store(control, PUBLISHED, target);
    Atomics.notify(control, PUBLISHED);
    const finished = Promise.all(Array.from({ length: this.count }, (_, i) => reached(control, PUBLISHED + 1 + i, target)));
    const ok = await this.unlessFailed(finished);
    const broken = ok.indexOf(false);
    if (broken >= 0) throw (this.failure ??= new Error(`gradient helper thread ${broken + 1} failed computing its rows (its error is on stderr)`));
    return Array.from({ length: 1 + this.count }, (_, t) => shardOf(this.views.gradient(t, parity)));
  }

  /** Lets the helpers drop a step the trainer could not finish (so none waits for its gradient forever). */
  abandon(): void {
    Atomics.store(this.views.control, PUBLISHED, FAILED);
    Atomics.notify(this.views.control, PUBLISHED);
    this.failure ??= new Error('a data-parallel step was abandoned; the replicas may differ from the trainer');
  }

  async evaluate(perHelper: readonly (readonly EvalBatch[])[]): Promise<number[][]> {
    const replies = await this.request((k) => ({ kind: 'evaluate', batches: perHelper[k] ?? [] }));
    return replies.map((reply) => (reply.kind === 'evaluated' ? reply.losses : []));
  }

  /** Each helper's replica of the weights, flattened in parameter order (to check they match the trainer's). */
  async replicaWeights(): Promise<Float32Array[]> {
    const replies = await this.request(() => ({ kind: 'weights' }));
    return replies.map((reply) => (reply.kind === 'weights' ? reply.weights : new Float32Array()));
  }

  async dispose(): Promise<void> {
    this.closing = true;
    this.abandon();
    this.signal(OP_QUIT);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private signal(op: number): void {
    Atomics.store(this.views.control, 1, op);
    Atomics.store(this.views.control, 0, ++this.generation);
    Atomics.notify(this.views.control, 0);
  }

  /** Posts `requestFor(k)` to every helper k, wakes them and waits for every reply (a 'failed' one throws). */
  private async request(requestFor: (k: number) => HelperRequest): Promise<HelperReply[]> {
    if (this.failure) throw this.failure;
    const replies = this.workers.map((worker) => new Promise<HelperReply>((resolve) => worker.once('message', resolve)));
    this.workers.forEach((worker, k) => worker.postMessage(requestFor(k)));
    this.signal(OP_MESSAGE);
    const answered = await this.unlessFailed(Promise.all(replies));
    const failed = answered.findIndex((reply) => reply.kind === 'failed');
    if (failed >= 0) throw (this.failure ??= new Error(`gradient helper thread ${failed + 1} failed: ${(answered[failed] as { message: string }).message}`));
    return answered;
  }

  /** `work`, or the first failure of a helper thread (its exit or error) while waiting for it. */
  private async unlessFailed<T>(work: Promise<T>): Promise<T> {
    const failed = new Promise<never>((_, reject) => {
      this.onFailure = reject;
      if (this.failure) reject(this.failure);
    });
    try {
      return await Promise.race([work, failed]);
    } finally {
      this.onFailure = null;
    }
  }
}
