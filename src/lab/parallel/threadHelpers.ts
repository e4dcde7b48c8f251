/**
 * Gradient helpers on worker threads: tfjs-wasm computes on one thread under Node, so a run with `threads` > 1 starts
 * threads − 1 workers, each with its own wasm instance and copy of the model. Every step the trainer writes the
 * current weights and each helper's rows into one SharedArrayBuffer and bumps a generation counter; each helper
 * loads the weights, computes its rows' loss and gradient, writes them back and bumps its own counter. Weights go
 * out every step, so the helpers keep no optimizer state and a checkpoint or resume needs nothing from them.
 *
 * Layout of the buffer (P parameters, R rows at most per helper, T tokens per row), 8-byte aligned blocks:
 *   control   Int32 × (2 + H): [0] step generation, [1] quit, [2 + k] generation helper k finished (−1: failed)
 *   weights   Float32 × P
 *   per helper k: header Int32 × 4 (rows, dropout seed, step, first row) · loss Float64 · x Int32 × R·T · y Int32 × R·T ·
 *                 grads Float32 × P
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../../engine/backend';
import type { ModelConfig } from '../../engine/model/gpt';
import type { GradientHelpers, Shard, ShardGradient } from '../../engine/train/shards';

export interface HelperLayoutInput {
  helpers: number;
  params: number;
  maxRows: number;
  blockSize: number;
}

/** Views of one shared buffer, the same on both sides. */
export interface HelperViews {
  control: Int32Array;
  weights: Float32Array;
  helper(k: number): { header: Int32Array; loss: Float64Array; x: Int32Array; y: Int32Array; grads: Float32Array };
}

const align8 = (bytes: number): number => Math.ceil(bytes / 8) * 8;
const HEADER_INTS = 4;
const HEADER_BYTES = 4 * HEADER_INTS;

export function helperViews(buffer: SharedArrayBuffer, { helpers, params, maxRows, blockSize }: HelperLayoutInput): HelperViews {
  const controlBytes = align8(4 * (2 + helpers));
  const weightBytes = align8(4 * params);
  const tokens = maxRows * blockSize;
  const helperBytes = HEADER_BYTES + 8 + 2 * align8(4 * tokens) + align8(4 * params);
  const needed = controlBytes + weightBytes + helpers * helperBytes;
  if (buffer.byteLength < needed) throw new Error(`helper buffer holds ${buffer.byteLength} bytes, needs ${needed}`);
  return {
    control: new Int32Array(buffer, 0, 2 + helpers),
    weights: new Float32Array(buffer, controlBytes, params),
    helper(k) {
      const base = controlBytes + weightBytes + k * helperBytes;
      return {
        header: new Int32Array(buffer, base, HEADER_INTS),
        loss: new Float64Array(buffer, base + HEADER_BYTES, 1),
        x: new Int32Array(buffer, base + HEADER_BYTES + 8, tokens),
        y: new Int32Array(buffer, base + HEADER_BYTES + 8 + align8(4 * tokens), tokens),
        grads: new Float32Array(buffer, base + HEADER_BYTES + 8 + 2 * align8(4 * tokens), params),
      };
    },
  };
}

export function helperBufferBytes(input: HelperLayoutInput): number {
  const tokens = input.maxRows * input.blockSize;
  return align8(4 * (2 + input.helpers)) + align8(4 * input.params) + input.helpers * (HEADER_BYTES + 8 + 2 * align8(4 * tokens) + align8(4 * input.params));
}

/** What a helper thread is started with (workerData). */
export interface HelperStart {
  index: number;
  buffer: SharedArrayBuffer;
  layout: HelperLayoutInput;
  model: ModelConfig;
  backend: BackendName;
}

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

/** Waits until control[index] reaches `target` (or −1, a failure), without blocking the event loop. */
async function reached(control: Int32Array, index: number, target: number): Promise<boolean> {
  for (;;) {
    const value = Atomics.load(control, index);
    if (value === -1) return false;
    if (value >= target) return true;
    const wait = Atomics.waitAsync(control, index, value);
    if (wait.async) await wait.value;
  }
}

export class ThreadHelpers implements GradientHelpers {
  readonly count: number;
  private readonly views: HelperViews;
  private readonly workers: Worker[];
  private generation = 0;
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

  /** Starts `count` helper threads for this model and batch shape; resolves once each has loaded its backend. */
  static async start(count: number, model: ModelConfig, params: number, maxRows: number, backend: BackendName): Promise<ThreadHelpers> {
    const layout = { helpers: count, params, maxRows, blockSize: model.blockSize };
    const buffer = new SharedArrayBuffer(helperBufferBytes(layout));
    const views = helperViews(buffer, layout);
    const workers = Array.from({ length: count }, (_, index) => startWorker({ index, buffer, layout, model, backend }));
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

  begin(params: readonly tf.Variable[], shards: readonly Shard[]): void {
    if (this.failure) throw this.failure;
    if (shards.length !== this.count) throw new Error(`expected ${this.count} shards, got ${shards.length}`);
    let offset = 0;
    for (const p of params) {
      this.views.weights.set(p.dataSync() as Float32Array, offset);
      offset += p.size;
    }
    shards.forEach((shard, k) => {
      const slot = this.views.helper(k);
      slot.header[0] = shard.rows;
      slot.header[1] = shard.dropout.seed;
      slot.header[2] = shard.dropout.step;
      slot.header[3] = shard.dropout.firstRow;
      slot.x.set(shard.x);
      slot.y.set(shard.y);
    });
    this.generation++;
    Atomics.store(this.views.control, 0, this.generation);
    Atomics.notify(this.views.control, 0);
  }

  async end(): Promise<ShardGradient[]> {
    const target = this.generation;
    const failed = new Promise<never>((_, reject) => {
      this.onFailure = reject;
      if (this.failure) reject(this.failure);
    });
    const finished = Promise.all(Array.from({ length: this.count }, (_, k) => reached(this.views.control, 2 + k, target)));
    try {
      const ok = await Promise.race([finished, failed]);
      const broken = ok.indexOf(false);
      if (broken >= 0) throw (this.failure ??= new Error(`gradient helper thread ${broken + 1} failed computing its rows (its error is on stderr)`));
    } finally {
      this.onFailure = null;
    }
    return Array.from({ length: this.count }, (_, k) => {
      const slot = this.views.helper(k);
      return { loss: slot.loss[0]!, grads: slot.grads };
    });
  }

  async dispose(): Promise<void> {
    this.closing = true;
    Atomics.store(this.views.control, 1, 1);
    Atomics.add(this.views.control, 0, 1);
    Atomics.notify(this.views.control, 0);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
