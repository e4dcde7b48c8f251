/**
 * The custom kernels GPT Lab registers on the wasm backend (tfjs-backend-wasm 4.22), which the ops in ./ops.ts run
 * when they can (tfjs's own words: an op is the math, a kernel one backend's implementation of it):
 *   - GptLabMultiMatMul: many small 2-D matmuls in one call, each an XNNPACK fully connected operator on views of
 *     existing tensors (no copies): batched and attention matmuls at 2-D speed;
 *   - GptLabCopyBlocks: strided block copies on the heap (a split without tf.split's copy out of the heap);
 *   - GptLabGemm: op(A)·op(B) (+ bias) by the machine's BLAS (./nativeGemm.ts) in place on the heap; GptLabMultiMatMul
 *     runs its products there too when asked. Transposed operands are read as they lie (no transpose first);
 *   - Identity (replacing the backend's own): a clone shares its input's data, reference-counted, instead of copying.
 * They reach into the backend's internals (the heap, the tensor registry), so everything is feature-checked: a
 * backend without these members gets null from fastWasm() and the ops take their plain-tfjs path.
 */
import * as tf from '@tensorflow/tfjs';
import { perfLevers } from './levers';
import { nativeGemm, type NativeGemm } from './nativeGemm';

interface WasmModule {
  HEAPU8: Uint8Array;
  HEAPF32: Float32Array;
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
  incRef(dataId: unknown): void;
}

const MULTI_MATMUL = 'GptLabMultiMatMul';
const COPY_BLOCKS = 'GptLabCopyBlocks';
const GEMM = 'GptLabGemm';
const IDENTITY = 'Identity';
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
    typeof be.incRef === 'function' &&
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
    if (ok && !tf.getKernel(GEMM, 'wasm')) tf.registerKernel({ kernelName: GEMM, backendName: 'wasm', kernelFunc: gemmKernel as unknown as tf.KernelFunc });
    if (ok) shareClones();
    checkedBackends.set(be, ok);
  }
  return ok ? (be as WasmBackend) : null;
}

/**
 * tfjs keeps every tensor a custom gradient saves by cloning it (the Identity kernel), and tfjs-wasm's Identity copies
 * the data: a copy of each saved activation, every step (5 % of an M or L step). The cpu and webgl backends share the
 * data instead, reference-counted; so does this replacement, with the sharedClones lever on. Nothing in GPT Lab
 * writes into a tensor's memory after making it (every kernel writes only its fresh outputs), so a shared clone
 * cannot be told apart from a copy.
 */
function shareClones(): void {
  const current = tf.getKernel(IDENTITY, 'wasm');
  if (!current || current.kernelFunc === sharedIdentity) return;
  const copy = current.kernelFunc;
  sharedIdentity = (args) => {
    const x = (args.inputs as { x: tf.TensorInfo }).x;
    if (!perfLevers.sharedClones || x.dtype === 'string') return copy(args);
    (args.backend as unknown as WasmBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  tf.unregisterKernel(IDENTITY, 'wasm');
  tf.registerKernel({ ...current, kernelFunc: sharedIdentity });
}
let sharedIdentity: tf.KernelFunc | null = null;

/** The wasm backend's matmuls can run on the machine's BLAS: fast kernels here and a native GEMM loaded. */
export function blasReady(): boolean {
  return fastWasm() !== null && nativeGemm() !== null;
}

function requireGemm(kernel: string): NativeGemm {
  const gemm = nativeGemm();
  if (!gemm) throw new Error(`${kernel}: no native BLAS in this process`);
  return gemm;
}

/** Numbers per product in a GptLabMultiMatMul plan (see multiMatMulKernel). */
export const PLAN_STRIDE = 9;
/** Plan flags: A is stored k×m (read transposed), B is stored p×k. */
export const TRANSPOSE_A = 1;
export const TRANSPOSE_B = 2;

/**
 * Many small 2-D matmuls in one kernel call. `plan` holds PLAN_STRIDE numbers per product:
 * [input of A, element offset of A, input of B, offset of B, offset in the output, m, k, p, flags] for
 * out[m×p] = op(A)·op(B), op(A) m×k and op(B) k×p, all row-major and contiguous; flags TRANSPOSE_A / TRANSPOSE_B
 * say an operand is stored transposed. With `blas`, each product is one call of the native GEMM on those offsets
 * (a transposed operand costs nothing); otherwise XNNPACK's fully connected operator on views registered at those
 * offsets (no copies), unregistered right after (a transposed operand takes tfjs's slow loop: plan them for BLAS).
 */
function multiMatMulKernel(args: { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs: Record<string, unknown> }): tf.TensorInfo {
  const be = args.backend as WasmBackend;
  const { outShape, plan, blas } = args.attrs as { outShape: number[]; plan: Int32Array; blas: boolean };
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
  const gemm = blas ? requireGemm(MULTI_MATMUL) : null;
  const aId = be.dataIdNextNumber++;
  const bId = be.dataIdNextNumber++;
  const oId = be.dataIdNextNumber++;
  let lastM = -1;
  let lastK = -1;
  let lastP = -1;
  let lastFlags = -1;
  let dims = new Int32Array(w.HEAPU8.buffer, shapes, 6);
  if (plan.length % PLAN_STRIDE !== 0) throw new Error(`${MULTI_MATMUL}: a plan holds ${PLAN_STRIDE} numbers per product, got ${plan.length}`);
  for (let i = 0; i < plan.length; i += PLAN_STRIDE) {
    const ai = plan[i], ao = plan[i + 1], bi = plan[i + 2], bo = plan[i + 3], oo = plan[i + 4], m = plan[i + 5], k = plan[i + 6], p = plan[i + 7], flags = plan[i + 8];
    if (ai >= inputs.length || bi >= inputs.length || ao < 0 || bo < 0 || oo < 0 || ao + m * k > sizes[ai] || bo + k * p > sizes[bi] || oo + m * p > outSize || flags < 0 || flags > 3)
      throw new Error(`${MULTI_MATMUL}: product ${i / PLAN_STRIDE} reads or writes out of bounds`);
    const ta = flags & TRANSPOSE_A ? 1 : 0;
    const tb = flags & TRANSPOSE_B ? 1 : 0;
    if (m * p === 0) continue;
    if (k === 0) {
      be.typedArrayFromHeap(out).fill(0, oo, oo + m * p);
      continue;
    }
    if (gemm) {
      gemm.gemm(w.HEAPF32, ta, tb, m, p, k, offsets[ai] / 4 + ao, ta ? m : k, offsets[bi] / 4 + bo, tb ? k : p, outOffset / 4 + oo, p, 0, -1, 1);
      continue;
    }
    if (dims.buffer !== w.HEAPU8.buffer) dims = new Int32Array(w.HEAPU8.buffer, shapes, 6);
    if (m !== lastM || k !== lastK || p !== lastP || flags !== lastFlags) {
      dims[0] = 1;
      dims[1] = ta ? k : m;
      dims[2] = ta ? m : k;
      dims[3] = 1;
      dims[4] = tb ? p : k;
      dims[5] = tb ? k : p;
      lastM = m;
      lastK = k;
      lastP = p;
      lastFlags = flags;
    }
    w._register_tensor(aId, m * k, offsets[ai] + 4 * ao);
    w._register_tensor(bId, k * p, offsets[bi] + 4 * bo);
    w._register_tensor(oId, m * p, outOffset + 4 * oo);
    w._BatchMatMul(aId, shapes, 3, bId, shapes + 12, 3, ta, tb, oId);
    w._dispose_data(aId);
    w._dispose_data(bId); // also drops XNNPACK's cached operator (packed weights) for this view
    w._dispose_data(oId);
  }
  return out;
}

function requireFastWasm(): void {
  if (!fastWasm()) throw new Error('this op needs the wasm backend (tfjs-backend-wasm 4.x)');
}

/** The products of `plan` (see multiMatMulKernel), on the native BLAS when `blas` (else XNNPACK). */
export function multiMatMul(inputs: tf.Tensor[], plan: Int32Array, outShape: number[], blas: boolean): tf.Tensor {
  requireFastWasm();
  const named: Record<string, tf.Tensor> = {};
  inputs.forEach((t, i) => (named[`i${i}`] = t));
  return tf.engine().runKernel(MULTI_MATMUL, named, { outShape, plan, blas } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

interface GemmAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** op(a) (m×k) · op(b) (k×n) + bias (n), all float32 2-D tensors on the heap, by one native GEMM call. */
function gemmKernel(args: { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs: Record<string, unknown> }): tf.TensorInfo {
  const be = args.backend as WasmBackend;
  const { transposeA, transposeB } = args.attrs as unknown as GemmAttrs;
  const { a, b, bias } = args.inputs;
  const gemm = requireGemm(GEMM);
  if (a.shape.length !== 2 || b.shape.length !== 2) throw new Error(`${GEMM}: needs 2-D operands, got ${a.shape} and ${b.shape}`);
  const [ar, ac] = a.shape;
  const [br, bc] = b.shape;
  const [m, k] = transposeA ? [ac, ar] : [ar, ac];
  const [kb, n] = transposeB ? [bc, br] : [br, bc];
  if (k !== kb) throw new Error(`${GEMM}: inner sizes differ (${a.shape}${transposeA ? 'ᵀ' : ''} · ${b.shape}${transposeB ? 'ᵀ' : ''})`);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== n)) throw new Error(`${GEMM}: bias of shape ${bias.shape} for ${n} columns`);
  const out = be.makeOutput([m, n], 'float32');
  const at = (t: tf.TensorInfo) => be.dataIdMap.get(t.dataId).memoryOffset / 4;
  gemm.gemm(be.wasm.HEAPF32, transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, at(a), ac, at(b), bc, at(out), n, 0, bias ? at(bias) : -1, 1);
  return out;
}

/** op(a) · op(b) (+ bias) by the native BLAS; no gradient (the ops in ./ops.ts give it one). */
export function gemm(a: tf.Tensor2D, b: tf.Tensor2D, transposeA: boolean, transposeB: boolean, bias?: tf.Tensor1D): tf.Tensor2D {
  requireFastWasm();
  const inputs: Record<string, tf.Tensor> = bias ? { a, b, bias } : { a, b };
  return tf.engine().runKernel(GEMM, inputs, { transposeA, transposeB } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
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
