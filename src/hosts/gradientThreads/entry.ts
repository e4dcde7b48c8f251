/**
 * A gradient helper thread (see client.ts): holds a replica of the model and of the optimizer. Per step it
 * computes the loss and gradient of its rows, publishes them, waits for every other thread's, reduces them all the
 * way every thread does and applies the same optimizer step to its replica. Rare requests (sync, evaluate, report the
 * weights) arrive as messages.
 *
 * Its tensor reads are synchronous (dataSync) on purpose: helper threads exist only on the backends that compute on
 * one thread under Node, wasm and cpu (lab/parallel/pendingHelpers.ts), where a read is a plain copy, and the thread
 * blocks in Atomics.wait between steps anyway; the async reads the training paths need are for webgpu.
 */
import * as tf from '@tensorflow/tfjs';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { initBackend } from '../../engine/backend';
import { GPT } from '../../engine/model/gpt';
import { matmulKernels } from '../../engine/model/nativeGemm';
import { AdamW, globalNorm } from '../../engine/train/adamw';
import { applyStep, gradientTensors, reduceShards, type EvalBatch } from '../../engine/train/shards';
import { FAILED, helperViews, OP_MESSAGE, OP_QUIT, PUBLISHED, shardOf, type HelperReply, type HelperRequest, type HelperStart } from './protocol';

const start = workerData as HelperStart;
const port = parentPort!;
const views = helperViews(start.buffer, start.layout);
const { control } = views;
const input = views.input(start.index);
const threads = start.layout.helpers + 1;

await initBackend(start.backend);
if (matmulKernels() !== start.matmul)
  throw new Error(`its matmuls would run on ${matmulKernels() ?? 'XNNPACK'} but the trainer's on ${start.matmul ?? 'XNNPACK'}: the replicas would drift apart`);
const model = new GPT(start.model, 0);
const variables = [...model.params.values()];
const decayed = new Set(model.layout.filter((p) => p.decay).map((p) => p.name));
const optimizer = new AdamW(model.params, decayed, start.optimizer);
const reduced = new Float32Array(start.layout.params);
const T = start.model.blockSize;
port.postMessage('ready');

/** This thread's rows: their mean loss and gradient into its slot for this step's parity; returns the step's lr. */
function computeShard(parity: number): number {
  const [rows = 0, seed = 0, step = 0, firstRow = 0] = input.header;
  // Read before publishing: once every thread has published, the trainer may already write the next step's inputs.
  const lr = input.lr[0]!;
  const slot = views.gradient(start.index, parity);
  tf.tidy(() => {
    const idx = tf.tensor2d(input.x.subarray(0, rows * T), [rows, T], 'int32');
    const targets = tf.tensor2d(input.y.subarray(0, rows * T), [rows, T], 'int32');
    const { value, grads } = tf.variableGrads(() => model.loss(idx, targets, { dropout: { seed, step, firstRow } }), variables);
    slot.rows[0] = rows;
    slot.loss[0] = value.dataSync()[0]!;
    let offset = 0;
    for (const v of variables) {
      slot.grads.set(grads[v.name]!.dataSync() as Float32Array, offset);
      offset += v.size;
    }
  });
  return lr;
}

/** Blocks until thread t has published generation `target`; false if it failed or abandoned the step. */
function awaitPublished(t: number, target: number): boolean {
  for (;;) {
    const value = Atomics.load(control, PUBLISHED + t);
    if (value === FAILED) return false;
    if (value >= target) return true;
    Atomics.wait(control, PUBLISHED + t, value);
  }
}

/** Every thread's shard reduced and this replica stepped, exactly as the trainer steps its model. */
function stepReplica(parity: number, generation: number, lr: number): void {
  for (let t = 0; t < threads; t++) if (t !== start.index && !awaitPublished(t, generation)) throw new Error(`thread ${t} dropped the step`);
  const shards = Array.from({ length: threads }, (_, t) => shardOf(views.gradient(t, parity)));
  const batch = shards.reduce((sum, s) => sum + s.rows, 0);
  const loss = reduceShards(shards, batch, reduced);
  const grads = gradientTensors(model.params, reduced);
  try {
    const gradNorm = tf.tidy(() => globalNorm(grads).dataSync()[0]!);
    applyStep(optimizer, grads, loss, gradNorm, lr, start.optimizer.gradClip);
  } finally {
    tf.dispose(grads);
  }
}

function lossOf(batch: EvalBatch): number {
  return tf.tidy(() => model.loss(tf.tensor2d(batch.x, [batch.rows, T], 'int32'), tf.tensor2d(batch.y, [batch.rows, T], 'int32')).dataSync()[0]!);
}

async function answer(request: HelperRequest): Promise<HelperReply> {
  switch (request.kind) {
    case 'sync':
      model.setWeights(request.state.weights);
      optimizer.setState(request.state.optimizer);
      return { kind: 'synced' };
    case 'evaluate':
      return { kind: 'evaluated', losses: request.batches.map(lossOf) };
    case 'weights': {
      const weights = await model.getWeights();
      const flat = new Float32Array(start.layout.params);
      let offset = 0;
      for (const [name, v] of model.params) {
        flat.set(weights[name]!, offset);
        offset += v.size;
      }
      return { kind: 'weights', weights: flat };
    }
  }
}

const describe = (error: unknown): string => (error instanceof Error ? (error.stack ?? error.message) : String(error));

let seen = 0;
let steps = 0;
// A thread whose replica may have fallen behind (a step it could not finish) computes nothing more: it stays failed.
let broken = false;
for (;;) {
  Atomics.wait(control, 0, seen);
  seen = Atomics.load(control, 0);
  const op = Atomics.load(control, 1);
  if (op === OP_QUIT) break;
  if (op === OP_MESSAGE) {
    const request = receiveMessageOnPort(port)?.message as HelperRequest | undefined;
    if (!request) continue;
    port.postMessage(await answer(request).catch((error: unknown): HelperReply => ({ kind: 'failed', message: describe(error) })));
    continue;
  }
  const parity = ++steps % 2;
  if (broken) continue;
  try {
    const lr = computeShard(parity);
    Atomics.store(control, PUBLISHED + start.index, seen);
    Atomics.notify(control, PUBLISHED + start.index);
    stepReplica(parity, seen, lr);
  } catch (error) {
    broken = true;
    process.stderr.write(`gradient helper thread ${start.index}: ${describe(error)}\n`);
    Atomics.store(control, PUBLISHED + start.index, FAILED);
    Atomics.notify(control, PUBLISHED + start.index);
  }
}
optimizer.dispose();
model.dispose();
