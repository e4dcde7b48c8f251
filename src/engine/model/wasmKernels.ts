/**
 * The custom kernels GPT Lab registers on the wasm backend (tfjs-backend-wasm 4.22), which the ops in ./ops.ts run
 * when they can (tfjs's own words: an op is the math, a kernel one backend's implementation of it):
 *   - GptLabMultiMatMul: many small 2-D matmuls in one call, each an XNNPACK fully connected operator on views of
 *     existing tensors (no copies): batched and attention matmuls at 2-D speed;
 *   - GptLabCopyBlocks: strided block copies on the heap (a split without tf.split's copy out of the heap).
 * They reach into the backend's internals (the heap, the tensor registry), so everything is feature-checked: a
 * backend without these members gets null from fastWasm() and the ops take their plain-tfjs path.
 */
import * as tf from '@tensorflow/tfjs';

interface WasmModule {
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _register_tensor(id: number, size: number, offset: number): void;
  _dispose_data(id: number): void;
  _BatchMatMul(aId: number, aShape: number, aRank: number, bId: number, bShape: number, bRank: number, transposeA: number, transposeB: number, outId: number): void;
}

export interface WasmBackend {
  wasm: WasmModule;
  dataIdMap: { get(dataId: unknown): { id: number; memoryOffset: number } };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

const MULTI_MATMUL = 'GptLabMultiMatMul';
const COPY_BLOCKS = 'GptLabCopyBlocks';
const MAX_MULTI_INPUTS = 6;
const shapeScratch = new WeakMap<WasmBackend, number>();

function hasWasmInternals(be: Partial<WasmBackend>): be is WasmBackend {
  const w = be.wasm as Partial<WasmModule> | undefined;
  return (
    !!w &&
    typeof w._BatchMatMul === 'function' &&
    typeof w._register_tensor === 'function' &&
    typeof w._dispose_data === 'function' &&
    typeof w._malloc === 'function' &&
    typeof be.makeOutput === 'function' &&
    typeof be.dataIdNextNumber === 'number' &&
    !!be.dataIdMap
  );
}

const checkedBackends = new WeakMap<object, boolean>();

/** The wasm backend when the fast kernels can run on it (registering them on first use), else null: use plain tfjs ops. */
export function fastWasm(): WasmBackend | null {
  if (tf.getBackend() !== 'wasm') return null;
  const be = tf.backend() as unknown as Partial<WasmBackend>;
  let ok = checkedBackends.get(be);
  if (ok === undefined) {
    ok = hasWasmInternals(be);
    if (ok && !tf.getKernel(MULTI_MATMUL, 'wasm'))
      tf.registerKernel({ kernelName: MULTI_MATMUL, backendName: 'wasm', kernelFunc: multiMatMulKernel as unknown as tf.KernelFunc });
    if (ok && !tf.getKernel(COPY_BLOCKS, 'wasm')) tf.registerKernel({ kernelName: COPY_BLOCKS, backendName: 'wasm', kernelFunc: copyBlocksKernel as unknown as tf.KernelFunc });
    checkedBackends.set(be, ok);
  }
  return ok ? (be as WasmBackend) : null;
}

/**
 * Many small 2-D matmuls in one kernel call. `plan` holds 8 numbers per product:
 * [input of A, element offset of A, input of B, offset of B, offset in the output, m, k, p] for
 * out[m×p] = A[m×k] · B[k×p], all row-major and contiguous. Each product runs as XNNPACK's fully connected
 * operator on views registered at those offsets (no copies); the views are unregistered right after.
 */
function multiMatMulKernel(args: { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs: Record<string, unknown> }): tf.TensorInfo {
  const be = args.backend as WasmBackend;
  const { outShape, plan } = args.attrs as { outShape: number[]; plan: Int32Array };
  const inputs: tf.TensorInfo[] = [];
  for (let i = 0; i < MAX_MULTI_INPUTS && args.inputs[`i${i}`]; i++) inputs.push(args.inputs[`i${i}`]);
  const out = be.makeOutput(outShape, 'float32');
  const outSize = tf.util.sizeFromShape(outShape);
  const w = be.wasm;
  let shapes = shapeScratch.get(be);
  if (shapes === undefined) {
    shapes = w._malloc(32) >>> 0;
    shapeScratch.set(be, shapes);
  }
  const offsets = inputs.map((t) => be.dataIdMap.get(t.dataId).memoryOffset);
  const sizes = inputs.map((t) => tf.util.sizeFromShape(t.shape));
  const outOffset = be.dataIdMap.get(out.dataId).memoryOffset;
  const aId = be.dataIdNextNumber++;
  const bId = be.dataIdNextNumber++;
  const oId = be.dataIdNextNumber++;
  let lastM = -1;
  let lastK = -1;
  let lastP = -1;
  let dims = new Int32Array(w.HEAPU8.buffer, shapes, 6);
  for (let i = 0; i < plan.length; i += 8) {
    const ai = plan[i], ao = plan[i + 1], bi = plan[i + 2], bo = plan[i + 3], oo = plan[i + 4], m = plan[i + 5], k = plan[i + 6], p = plan[i + 7];
    if (ai >= inputs.length || bi >= inputs.length || ao < 0 || bo < 0 || oo < 0 || ao + m * k > sizes[ai] || bo + k * p > sizes[bi] || oo + m * p > outSize)
      throw new Error(`${MULTI_MATMUL}: product ${i / 8} reads or writes out of bounds`);
    if (m * p === 0) continue;
    if (k === 0) {
      be.typedArrayFromHeap(out).fill(0, oo, oo + m * p);
      continue;
    }
    if (dims.buffer !== w.HEAPU8.buffer) dims = new Int32Array(w.HEAPU8.buffer, shapes, 6);
    if (m !== lastM || k !== lastK || p !== lastP) {
      dims[0] = 1;
      dims[1] = m;
      dims[2] = k;
      dims[3] = 1;
      dims[4] = k;
      dims[5] = p;
      lastM = m;
      lastK = k;
      lastP = p;
    }
    w._register_tensor(aId, m * k, offsets[ai] + 4 * ao);
    w._register_tensor(bId, k * p, offsets[bi] + 4 * bo);
    w._register_tensor(oId, m * p, outOffset + 4 * oo);
    w._BatchMatMul(aId, shapes, 3, bId, shapes + 12, 3, 0, 0, oId);
    w._dispose_data(aId);
    w._dispose_data(bId); // also drops XNNPACK's cached operator (packed weights) for this view
    w._dispose_data(oId);
  }
  return out;
}

function requireFastWasm(): void {
  if (!fastWasm()) throw new Error('this op needs the wasm backend (tfjs-backend-wasm 4.x)');
}

export function multiMatMul(inputs: tf.Tensor[], plan: Int32Array, outShape: number[]): tf.Tensor {
  requireFastWasm();
  const named: Record<string, tf.Tensor> = {};
  inputs.forEach((t, i) => (named[`i${i}`] = t));
  return tf.engine().runKernel(MULTI_MATMUL, named, { outShape, plan } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

export interface CopyBlocksAttrs {
  outShape: number[];
  blocks: number;
  length: number;
  srcStride: number;
  srcOffset: number;
  dstStride: number;
  dstOffset: number;
  /** Zero the output first (when the blocks do not cover it). */
  zero: boolean;
}

/** out[b·dstStride + dstOffset + j] = x[b·srcStride + srcOffset + j] for b < blocks, j < length (memcpy per block). */
function copyBlocksKernel(args: { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs: Record<string, unknown> }): tf.TensorInfo {
  const be = args.backend as WasmBackend;
  const a = args.attrs as unknown as CopyBlocksAttrs;
  const x = args.inputs.x;
  const out = be.makeOutput(a.outShape, 'float32');
  const src = be.typedArrayFromHeap(x);
  const dst = be.typedArrayFromHeap(out);
  if (a.zero) dst.fill(0);
  for (let b = 0; b < a.blocks; b++) {
    const from = b * a.srcStride + a.srcOffset;
    const to = b * a.dstStride + a.dstOffset;
    if (from < 0 || to < 0 || from + a.length > src.length || to + a.length > dst.length) throw new Error(`${COPY_BLOCKS}: block ${b} out of bounds`);
    dst.set(src.subarray(from, from + a.length), to);
  }
  return out;
}

export function copyBlocks(x: tf.Tensor, attrs: CopyBlocksAttrs): tf.Tensor {
  requireFastWasm();
  return tf.engine().runKernel(COPY_BLOCKS, { x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}
