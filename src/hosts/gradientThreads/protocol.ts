/**
 * The shared memory and messages between the trainer and its gradient helper threads (see client.ts for the protocol
 * of a step). The step itself is plain SharedArrayBuffer views and Atomics, validated by nobody: it runs every few
 * milliseconds, carries no free-form data (fixed-size numbers at fixed offsets, sized at start) and both sides are
 * this code. The rare requests are typed structured clones between the same two sides, so they skip zod as well.
 *
 * Layout (P parameters, R rows at most per helper, T tokens per row, H helpers; threads 0 = trainer, 1..H), 8-byte
 * aligned blocks:
 *   control  Int32 × (2 + 1 + H): [0] generation, [1] op, [2 + t] generation thread t published its gradient (−1: failed)
 *   per helper k: header Int32 × 4 (rows, dropout seed, step, first row) · lr Float64 · x Int32 × R·T · y Int32 × R·T
 *   per thread t, per parity: rows Int32 · loss Float64 · grads Float32 × P
 */
import type { BackendName } from '../../engine/backend';
import type { ModelConfig } from '../../engine/model/gpt';
import type { EvalBatch, ReplicaOptimizer, ReplicaState, ShardGradient } from '../../engine/train/shards';

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
  /** The native BLAS the trainer's matmuls run on (nativeGemmDescription), null for XNNPACK: a helper must match it. */
  matmul: string | null;
}

/** Rare requests to a helper, and its replies (structured clones; see the header). */
export type HelperRequest = { kind: 'sync'; state: ReplicaState } | { kind: 'evaluate'; batches: readonly EvalBatch[] } | { kind: 'weights' };
export type HelperReply = { kind: 'synced' } | { kind: 'evaluated'; losses: number[] } | { kind: 'weights'; weights: Float32Array } | { kind: 'failed'; message: string };

export function shardOf(slot: GradientSlot): ShardGradient {
  return { rows: slot.rows[0]!, loss: slot.loss[0]!, grads: slot.grads };
}
