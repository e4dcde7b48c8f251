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
 * Layout (P parameters, R rows at most per helper, T tokens per row, H helpers; threads 0 = trainer, 1..H), 8-byte
 * aligned blocks:
 *   control  Int32 × (2 + 1 + H): [0] generation, [1] op, [2 + t] generation thread t published its gradient (−1: failed)
 *   per helper k: header Int32 × 4 (rows, dropout seed, step, first row) · lr Float64 · x Int32 × R·T · y Int32 × R·T
 *   per thread t, per parity: rows Int32 · loss Float64 · grads Float32 × P
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BackendName } from '../../engine/backend';
import type { ModelConfig } from '../../engine/model/gpt';
import type { EvalBatch, GradientHelpers, ReplicaOptimizer, ReplicaState, Shard, ShardGradient } from '../../engine/train/shards';

export interface HelperLayoutInput {
  helpers: number;
  params: number;
  maxRows: number;
  blockSize: number;
}

export const OP_STEP = 0;
export const OP_MESSAGE = 1;
export const OP_QUIT = 2;
/** control[PUBLISHED + t]: the generation at which thread t's gradient is in its slot. */
export const PUBLISHED = 2;
/** Written into a published slot by a thread that failed or abandoned the step. */
export const FAILED = -1;

export interface GradientSlot {
  rows: Int32Array;
  loss: Float64Array;
  grads: Float32Array;
}

/** Views of one shared buffer, the same on both sides. */
export interface HelperViews {
  control: Int32Array;
  /** Helper k's inputs (k from 1). */
  input(k: number): { header: Int32Array; lr: Float64Array; x: Int32Array; y: Int32Array };
  /** Thread t's gradient slot for steps of this parity. */
  gradient(t: number, parity: number): GradientSlot;
}

const align8 = (bytes: number): number => Math.ceil(bytes / 8) * 8;

type ViewOf<T> = new (buffer: SharedArrayBuffer, byteOffset: number, length: number) => T;

/** Hands out consecutive 8-byte aligned views of the buffer; without one it only counts the bytes. */
class Cursor {
  bytes = 0;
  constructor(private readonly buffer: SharedArrayBuffer | null) {}
  take<T>(View: ViewOf<T> & { BYTES_PER_ELEMENT: number }, length: number): T {
    const view = this.buffer ? new View(this.buffer, this.bytes, length) : (null as T);
    this.bytes += align8(length * View.BYTES_PER_ELEMENT);
    return view;
  }
}

function carve(cursor: Cursor, { helpers, params, maxRows, blockSize }: HelperLayoutInput): HelperViews {
  const tokens = maxRows * blockSize;
  const control = cursor.take(Int32Array, PUBLISHED + 1 + helpers);
  const inputs = Array.from({ length: helpers }, () => ({
    header: cursor.take(Int32Array, 4),
    lr: cursor.take(Float64Array, 1),
    x: cursor.take(Int32Array, tokens),
    y: cursor.take(Int32Array, tokens),
  }));
  const slots = Array.from({ length: 1 + helpers }, () => [0, 1].map(() => ({ rows: cursor.take(Int32Array, 1), loss: cursor.take(Float64Array, 1), grads: cursor.take(Float32Array, params) })));
  return {
    control,
    input: (k) => inputs[k - 1]!,
    gradient: (t, parity) => slots[t]![parity]!,
  };
}

export function helperBufferBytes(input: HelperLayoutInput): number {
  const cursor = new Cursor(null);
  carve(cursor, input);
  return cursor.bytes;
}

export function helperViews(buffer: SharedArrayBuffer, input: HelperLayoutInput): HelperViews {
  const needed = helperBufferBytes(input);
  if (buffer.byteLength < needed) throw new Error(`helper buffer holds ${buffer.byteLength} bytes, needs ${needed}`);
  return carve(new Cursor(buffer), input);
}

/** What a helper thread is started with (workerData). `index` counts from 1: thread 0 is the trainer. */
export interface HelperStart {
  index: number;
  buffer: SharedArrayBuffer;
  layout: HelperLayoutInput;
  model: ModelConfig;
  backend: BackendName;
  optimizer: ReplicaOptimizer;
}

/** Rare requests to a helper, and its replies (structured clones; see the header). */
export type HelperRequest = { kind: 'sync'; state: ReplicaState } | { kind: 'evaluate'; batches: readonly EvalBatch[] } | { kind: 'weights' };
export type HelperReply = { kind: 'synced' } | { kind: 'evaluated'; losses: number[] } | { kind: 'weights'; weights: Float32Array } | { kind: 'failed'; message: string };

/**
 * The worker's module. Bundled (out/main), the lab process (src/hosts/lab/entry.ts) sets GPT_LAB_GRADIENT_WORKER to gradientWorker.js beside it;
 * from source the worker runs the .ts file through tsx, whose loader worker threads do not inherit.
 */
function startWorker(workerData: HelperStart): Worker {
  const bundled = process.env.GPT_LAB_GRADIENT_WORKER;
  if (bundled) return new Worker(bundled, { workerData });
  const source = pathToFileURL(fileURLToPath(new URL('./gradientWorker.ts', import.meta.url))).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const shim = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(shim, { eval: true, workerData });
}

export function shardOf(slot: GradientSlot): ShardGradient {
  return { rows: slot.rows[0]!, loss: slot.loss[0]!, grads: slot.grads };
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
    const workers = Array.from({ length: count }, (_, k) => startWorker({ index: k + 1, buffer, layout, model, backend, optimizer }));
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
