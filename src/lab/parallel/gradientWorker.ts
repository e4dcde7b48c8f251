/**
 * A gradient helper thread (see threadHelpers.ts): waits for a step, loads the weights the trainer wrote, computes
 * the loss and gradient of its rows, writes them back and says so. One model copy, no optimizer state.
 */
import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../../engine/backend';
import { GPT } from '../../engine/model/gpt';
import { helperViews, type HelperStart } from './threadHelpers';

const start = workerData as HelperStart;
const { control, weights, helper } = helperViews(start.buffer, start.layout);
const slot = helper(start.index);
const done = 2 + start.index;

await initBackend(start.backend);
const model = new GPT(start.model, 0);
const variables = [...model.params.values()];
const T = start.model.blockSize;
parentPort!.postMessage('ready');

/** Copies the trainer's weights into this thread's model. */
function loadWeights(): void {
  let offset = 0;
  for (const v of variables) {
    tf.tidy(() => v.assign(tf.tensor(weights.subarray(offset, offset + v.size), v.shape)));
    offset += v.size;
  }
}

function computeShard(): void {
  const [rows = 0, seed = 0, step = 0, firstRow = 0] = slot.header;
  const dropout = { seed, step, firstRow };
  tf.tidy(() => {
    const idx = tf.tensor2d(slot.x.subarray(0, rows * T), [rows, T], 'int32');
    const targets = tf.tensor2d(slot.y.subarray(0, rows * T), [rows, T], 'int32');
    const { value, grads } = tf.variableGrads(() => model.loss(idx, targets, { dropout }), variables);
    slot.loss[0] = value.dataSync()[0]!;
    let offset = 0;
    for (const v of variables) {
      slot.grads.set(grads[v.name]!.dataSync() as Float32Array, offset);
      offset += v.size;
    }
  });
}

let seen = 0;
for (;;) {
  Atomics.wait(control, 0, seen);
  seen = Atomics.load(control, 0);
  if (Atomics.load(control, 1) === 1) break;
  try {
    loadWeights();
    computeShard();
    Atomics.store(control, done, seen);
  } catch (error) {
    process.stderr.write(`gradient helper thread ${start.index + 1}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    Atomics.store(control, done, -1);
  }
  Atomics.notify(control, done);
}
model.dispose();
