/**
 * The tensor ops the model is built from (the math), each with a hand-written gradient where tfjs's generic one is
 * slow. The custom wasm kernels some of them run are in ./wasmKernels.ts.
 *
 * Why (measured on the wasm backend, DESIGN.md §2 and docs/PERFORMANCE.md): wasm runs a matmul fast only when
 * it is a plain 2-D one (XNNPACK, ~25–40 GFLOP/s); `transposeA/B` flags and batched matmuls fall back to a
 * scalar loop at ~3 GFLOP/s. Large 2-D transposes, Tanh, Pow and Sum over the first axis are also slow there,
 * while element-wise XNNPACK kernels (mul, add, sigmoid, softmax) are fast. So:
 *   - matmul gradients transpose explicitly (2-D transposes in two cache-friendly stages) and stay 2-D;
 *   - bias and norm-gain gradients sum rows with a ones-vector matmul instead of tf.sum over axis 0;
 *   - GELU uses x·σ(2u) (identical to 0.5·x·(1 + tanh u)) with its derivative written out;
 *   - LayerNorm/RMSNorm and cross-entropy have closed-form gradients (fewer kernels, less memory);
 *   - batched matmuls (attention) run as one XNNPACK 2-D matmul per (batch, head) slice through a small
 *     custom wasm kernel (GptLabMultiMatMul) that points at slices of existing tensors instead of copying them;
 *   - causal self-attention without score/value hooks is one fused op (scores, softmax, weighted values and
 *     all their gradients) that reads q, k, v straight out of the QKV projection;
 *   - where the machine has a BLAS (OpenBLAS, Accelerate: ./nativeGemm.ts), every one of those matmuls runs on it
 *     in place on the wasm heap, ~3× XNNPACK's speed, and reads transposed operands without transposing them.
 * Every fast path has a plain-tfjs fallback used on the other backends; both compute the same function.
 */
import * as tf from '@tensorflow/tfjs';
import { perfLevers } from './levers';
import { blasReady, copyBlocks, fastWasm, gemm, multiMatMul, PLAN_STRIDE, TRANSPOSE_A, TRANSPOSE_B } from './wasmKernels';

type CustomGradFn = Parameters<typeof tf.customGrad>[0];
const custom = <F>(f: unknown): F => tf.customGrad(f as CustomGradFn) as unknown as F;

/**
 * Part `part` of `parts` equal slices along axis 1 of a contiguous (n, parts·m, ...) tensor: n block copies.
 * (tf.split/tf.slice on wasm first copy the whole input out of the wasm heap.) Its gradient puts dy back into
 * zeros of the input's shape.
 */
function takePart(x: tf.Tensor, parts: number, part: number): tf.Tensor {
  const [n, width, ...rest] = x.shape;
  const inner = tf.util.sizeFromShape(rest);
  const m = width / parts;
  const length = m * inner;
  const stride = width * inner;
  const outShape = [n, m, ...rest];
  return custom<(t: tf.Tensor) => tf.Tensor>((t: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    return {
      value: copyBlocks(t, { outShape, blocks: n, length, srcStride: stride, srcOffset: part * length, dstStride: length, dstOffset: 0, zero: false }),
      gradFunc: (dy: tf.Tensor) => copyBlocks(dy, { outShape: x.shape, blocks: n, length, srcStride: length, srcOffset: 0, dstStride: stride, dstOffset: part * length, zero: true }),
    };
  })(x);
}

/** tf.split(x, parts, 1), with block copies on wasm. */
export function splitAxis1(x: tf.Tensor, parts: number): tf.Tensor[] {
  if (!perfLevers.fastSplit || !fastWasm() || x.dtype !== 'float32' || x.shape.length < 2 || x.shape[1]! % parts !== 0) return tf.split(x, parts, 1);
  return Array.from({ length: parts }, (_, p) => takePart(x, parts, p));
}

// ------------------------------------------------------------------------------------------------------------
// Transposes, row sums and matmuls.

/**
 * 2-D transpose. On wasm a large one is done as (n/c, c, k) → (n/c, k, c) → (k, n/c, c): both stages move
 * short contiguous runs and are ~10× faster than the one-step transpose, whose strided writes thrash the cache.
 */
export function transpose2d(x: tf.Tensor2D): tf.Tensor2D {
  const [n, k] = x.shape;
  if (!perfLevers.twoStageTranspose || !fastWasm() || n * k < 8192) return tf.transpose(x);
  const c = [32, 16, 8].find((d) => n % d === 0 && n >= 2 * d);
  if (!c) return tf.transpose(x);
  return tf.tidy(() => tf.reshape(tf.transpose(tf.transpose(tf.reshape(x, [n / c, c, k]), [0, 2, 1]), [1, 0, 2]), [k, n]) as tf.Tensor2D);
}

/** The matmuls run on the native BLAS (wasm, a BLAS loaded, the lever on). */
function onBlas(): boolean {
  return perfLevers.nativeGemm && blasReady();
}

/** op(a) · op(b) (+ bias) for 2-D a, b, without a gradient: one native GEMM, else tfjs's 2-D matmul of explicit transposes. */
function product(a: tf.Tensor2D, b: tf.Tensor2D, transposeA: boolean, transposeB: boolean, bias?: tf.Tensor1D): tf.Tensor2D {
  if (onBlas()) return gemm(a, b, transposeA, transposeB, bias);
  return tf.tidy(() => {
    const A = transposeA ? transpose2d(a) : a;
    const B = transposeB ? transpose2d(b) : b;
    return (bias ? tf.fused.matMul({ a: A, b: B, bias }) : tf.matMul(A, B)) as tf.Tensor2D;
  });
}

/** Σ over rows of x (n, c) → (c): a ones-vector matmul on wasm (tf.sum over axis 0 transposes first there). */
export function sumRows(x: tf.Tensor2D): tf.Tensor1D {
  const [n, c] = x.shape;
  if (!perfLevers.rowSumMatmul || !fastWasm()) return tf.sum(x, 0);
  return tf.tidy(() => tf.reshape(product(tf.ones([1, n]), x, false, false), [c]) as tf.Tensor1D);
}

/** Sum a gradient over the axes along which `shape` was broadcast to dy's shape, giving `shape`. */
function sumToShape(dy: tf.Tensor, shape: number[]): tf.Tensor {
  if (dy.shape.length === shape.length && dy.shape.every((d, i) => d === shape[i])) return dy;
  const padded = [...Array(dy.shape.length - shape.length).fill(1), ...shape];
  // The usual case, a term shared along leading axes (a bias shared by the batch): one row sum.
  let lead = 0;
  while (lead < padded.length && padded[lead] === 1) lead++;
  if (dy.shape.slice(lead).every((d, i) => d === padded[lead + i])) {
    const rows = tf.util.sizeFromShape(dy.shape.slice(0, lead));
    return tf.reshape(sumRows(tf.reshape(dy, [rows, dy.size / rows]) as tf.Tensor2D), shape);
  }
  const axes = padded.map((d, i) => (d === 1 && dy.shape[i] !== 1 ? i : -1)).filter((i) => i >= 0);
  return tf.reshape(tf.sum(dy, axes), shape);
}

/** a (m, k) · b (k, n); the gradient is two more plain 2-D products, dy·bᵀ and aᵀ·dy. */
export const matMul2d = custom<(a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D>((a: tf.Tensor2D, b: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: product(a, b, false, false),
    gradFunc: (dy: tf.Tensor2D, [sa, sb]: tf.Tensor2D[]) => [product(dy, sb, false, true), product(sa, dy, true, false)],
  };
});

const linearWithBias = custom<(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D>(
  (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
    save([x, w]);
    return {
      value: product(x, w, false, false, b),
      gradFunc: (dy: tf.Tensor2D, [sx, sw]: tf.Tensor2D[]) => [product(dy, sw, false, true), product(sx, dy, true, false), sumRows(dy)],
    };
  },
);

/** x (..., in) @ w (in, out) + b, computed as one 2-D matmul (bias fused) over the flattened leading axes. */
export function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const inDim = x.shape[x.shape.length - 1];
  const outDim = w.shape[1]!;
  const x2 = tf.reshape(x, [-1, inDim]) as tf.Tensor2D;
  let y: tf.Tensor;
  if (!b) y = matMul2d(x2, w as tf.Tensor2D);
  else if (perfLevers.fusedBias) y = linearWithBias(x2, w as tf.Tensor2D, b as tf.Tensor1D);
  else y = tf.add(matMul2d(x2, w as tf.Tensor2D), b);
  return tf.reshape(y, [...x.shape.slice(0, -1), outDim]);
}

// ------------------------------------------------------------------------------------------------------------
// Batched matmul.

function transposeLast2(x: tf.Tensor3D): tf.Tensor3D {
  return tf.transpose(x, [0, 2, 1]);
}

/** op(a) · op(b) for 3-D a, b with the same batch; no gradient (used inside forward and gradient functions). */
function bmm(a: tf.Tensor3D, b: tf.Tensor3D, transposeA: boolean, transposeB: boolean): tf.Tensor3D {
  if (!perfLevers.slicedBatchMatMul || !fastWasm()) return tf.matMul(a, b, transposeA, transposeB);
  const blas = onBlas();
  return tf.tidy(() => {
    // The BLAS reads a transposed slice as it lies; XNNPACK needs it transposed first.
    const A = transposeA && !blas ? transposeLast2(a) : a;
    const B = transposeB && !blas ? transposeLast2(b) : b;
    const ta = transposeA && blas;
    const tb = transposeB && blas;
    const [n, m, k] = ta ? [A.shape[0], A.shape[2], A.shape[1]] : A.shape;
    const [nb, kb, p] = tb ? [B.shape[0], B.shape[2], B.shape[1]] : B.shape;
    if (nb !== n || kb !== k) throw new Error(`batchMatMul: shapes ${a.shape} and ${b.shape} do not match`);
    const flags = (ta ? TRANSPOSE_A : 0) | (tb ? TRANSPOSE_B : 0);
    const plan = new Int32Array(PLAN_STRIDE * n);
    for (let i = 0; i < n; i++) plan.set([0, i * m * k, 1, i * k * p, i * m * p, m, k, p, flags], PLAN_STRIDE * i);
    return multiMatMul([A, B], plan, [n, m, p], blas) as tf.Tensor3D;
  });
}

function batchMatMulOp(transposeA: boolean, transposeB: boolean): (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D {
  return custom<(a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D>((a: tf.Tensor3D, b: tf.Tensor3D, save: tf.GradSaveFunc) => {
    save([a, b]);
    return {
      value: bmm(a, b, transposeA, transposeB),
      gradFunc: (dy: tf.Tensor3D, [A, B]: tf.Tensor3D[]) => {
        if (!transposeA && !transposeB) return [bmm(dy, B, false, true), bmm(A, dy, true, false)];
        if (!transposeA && transposeB) return [bmm(dy, B, false, false), bmm(dy, A, true, false)];
        if (transposeA && !transposeB) return [bmm(B, dy, false, true), bmm(A, dy, false, false)];
        return [bmm(B, dy, true, true), bmm(dy, A, true, true)];
      },
    };
  });
}
const BMM_OPS = [batchMatMulOp(false, false), batchMatMulOp(false, true), batchMatMulOp(true, false), batchMatMulOp(true, true)];

/**
 * op(a) · op(b) over matching leading (batch) axes, e.g. (B, nh, T, hs) · (B, nh, hs, T). On wasm each batch
 * slice is one fast 2-D matmul; the gradient is computed the same way.
 */
export function batchMatMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (!perfLevers.slicedBatchMatMul || ra < 3 || ra !== rb || a.shape.slice(0, -2).some((d, i) => d !== b.shape[i]))
    return tf.matMul(a, b, transposeA, transposeB);
  const lead = a.shape.slice(0, -2);
  const n = tf.util.sizeFromShape(lead);
  const a3 = tf.reshape(a, [n, a.shape[ra - 2], a.shape[ra - 1]]) as tf.Tensor3D;
  const b3 = tf.reshape(b, [n, b.shape[rb - 2], b.shape[rb - 1]]) as tf.Tensor3D;
  const y = BMM_OPS[(transposeA ? 2 : 0) + (transposeB ? 1 : 0)](a3, b3);
  return tf.reshape(y, [...lead, y.shape[1], y.shape[2]]);
}

// ------------------------------------------------------------------------------------------------------------
// Element-wise and normalisation ops.

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

const geluOp = custom<(x: tf.Tensor) => tf.Tensor>((x: tf.Tensor, save: tf.GradSaveFunc) => {
  // 0.5·x·(1 + tanh(u)) = x·σ(2u), u = √(2/π)(x + 0.044715x³); σ is a fast kernel on wasm, tanh and pow are not.
  const [y, s] = tf.tidy(() => {
    const z = tf.mul(x, tf.add(2 * GELU_C, tf.mul(2 * GELU_C * GELU_A, tf.square(x))));
    const sig = tf.sigmoid(z);
    return [tf.mul(x, sig), sig];
  });
  save([x, s]);
  return {
    value: y,
    // d/dx x·σ(z) = σ + x·σ(1−σ)·dz/dx,  dz/dx = 2√(2/π)(1 + 3·0.044715x²)
    gradFunc: (dy: tf.Tensor, [sx, ss]: tf.Tensor[]) =>
      tf.tidy(() => {
        const dz = tf.add(2 * GELU_C, tf.mul(6 * GELU_C * GELU_A, tf.square(sx)));
        const slope = tf.add(ss, tf.mul(tf.mul(ss, tf.sub(1, ss)), tf.mul(sx, dz)));
        return tf.mul(dy, slope);
      }),
  };
});

/** GELU, tanh approximation (GPT-2 / minGPT's NewGELU). */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (perfLevers.geluSigmoid) return geluOp(x);
  const inner = tf.mul(GELU_C, tf.add(x, tf.mul(GELU_A, tf.pow(x, 3))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

export const NORM_EPS = 1e-5;

const layerNormOp = custom<(x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor2D>(
  (x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const [y, xhat, rstd] = tf.tidy(() => {
      const centred = tf.sub(x, tf.mean(x, 1, true));
      const r = tf.rsqrt(tf.add(tf.mean(tf.square(centred), 1, true), NORM_EPS)); // biased variance
      const xh = tf.mul(centred, r);
      return [tf.add(tf.mul(xh, g), b), xh, r];
    });
    save([xhat, rstd, g]);
    return {
      value: y,
      // dx = r·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = dy·g;  dg = Σ_rows dy·x̂;  db = Σ_rows dy
      gradFunc: (dy: tf.Tensor2D, [sxh, sr, sg]: tf.Tensor[]) =>
        tf.tidy(() => {
          const dxh = tf.mul(dy, sg);
          const inner = tf.sub(tf.sub(dxh, tf.mean(dxh, 1, true)), tf.mul(sxh, tf.mean(tf.mul(dxh, sxh), 1, true)));
          return [tf.mul(inner, sr), sumRows(tf.mul(dy, sxh) as tf.Tensor2D), sumRows(dy)];
        }),
    };
  },
);

const rmsNormOp = custom<(x: tf.Tensor2D, g: tf.Tensor1D) => tf.Tensor2D>((x: tf.Tensor2D, g: tf.Tensor1D, save: tf.GradSaveFunc) => {
  const [y, xhat, rinv] = tf.tidy(() => {
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(x), 1, true), NORM_EPS));
    const xh = tf.mul(x, r);
    return [tf.mul(xh, g), xh, r];
  });
  save([xhat, rinv, g]);
  return {
    value: y,
    // dx = r·(dx̂ − x̂·mean(dx̂·x̂)), dx̂ = dy·g;  dg = Σ_rows dy·x̂
    gradFunc: (dy: tf.Tensor2D, [sxh, sr, sg]: tf.Tensor[]) =>
      tf.tidy(() => {
        const dxh = tf.mul(dy, sg);
        const inner = tf.sub(dxh, tf.mul(sxh, tf.mean(tf.mul(dxh, sxh), 1, true)));
        return [tf.mul(inner, sr), sumRows(tf.mul(dy, sxh) as tf.Tensor2D)];
      }),
  };
});

export function layerNorm(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const C = x.shape[x.shape.length - 1];
  if (!perfLevers.normGradients) {
    const { mean, variance } = tf.moments(x, x.shape.length - 1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, NORM_EPS))), gain), bias);
  }
  return tf.reshape(layerNormOp(tf.reshape(x, [-1, C]) as tf.Tensor2D, gain as tf.Tensor1D, bias as tf.Tensor1D), x.shape);
}

export function rmsNorm(x: tf.Tensor, gain: tf.Tensor): tf.Tensor {
  const C = x.shape[x.shape.length - 1];
  if (!perfLevers.normGradients) return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), NORM_EPS))), gain);
  return tf.reshape(rmsNormOp(tf.reshape(x, [-1, C]) as tf.Tensor2D, gain as tf.Tensor1D), x.shape);
}

/** One-hot rows as float32; tf.oneHot's own dtype argument returns int bit patterns on wasm (DESIGN.md §2). */
export function oneHotFloat(ids: tf.Tensor1D, depth: number): tf.Tensor2D {
  return tf.cast(tf.oneHot(ids, depth), 'float32') as tf.Tensor2D;
}

/** Mean cross-entropy of logits (N, V) against integer targets (N); gradient (softmax − onehot)/N. */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  const [N, V] = logits.shape;
  if (!perfLevers.crossEntropyGradient) return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), oneHotFloat(targets, V)), 1))) as tf.Scalar;
  const op = custom<(z: tf.Tensor2D) => tf.Scalar>((z: tf.Tensor2D, save: tf.GradSaveFunc) => {
    const [loss, logProbs, oneHot] = tf.tidy(() => {
      const lp = tf.logSoftmax(z);
      const oh = oneHotFloat(targets, V);
      return [tf.neg(tf.mean(tf.sum(tf.mul(lp, oh), 1))), lp, oh];
    });
    // Saved rather than captured: tensors made inside a gradient's forward are gone by the backward pass.
    save([logProbs, oneHot]);
    return {
      value: loss,
      gradFunc: (dy: tf.Scalar, [lp, oh]: tf.Tensor[]) => tf.tidy(() => tf.mul(tf.sub(tf.exp(lp), oh), tf.div(dy, N))),
    };
  });
  return op(logits);
}

// ------------------------------------------------------------------------------------------------------------
// Fused causal self-attention (wasm).

export interface FusedAttentionShape {
  B: number;
  T: number;
  nHead: number;
  headDim: number;
  /** Multiplies q·kᵀ (1/√hs, a scheme's own, or 1 without scaling). */
  scale: number;
  /** (T, T) added after scaling and bias: 0 where a key is visible, −1e9 where masked; null for no mask. */
  mask: tf.Tensor | null;
}

/** True when fusedAttention can run here (wasm with its fast kernels). */
export function canFuseAttention(): boolean {
  return perfLevers.fusedAttention && perfLevers.slicedBatchMatMul && fastWasm() !== null;
}

/**
 * softmax(q·kᵀ·scale + bias + mask)·v for every head, straight from the QKV projection (B, T, 3C) to the
 * merged head outputs (B, T, C). q, k, v are never split out: the products read them where they lie in a
 * (B, 3·nh, T, hs) view. `bias` ((nh, T, T) or (B, nh, T, T), added after scaling) is optional.
 */
export function fusedAttention(qkv: tf.Tensor3D, bias: tf.Tensor | null, shape: FusedAttentionShape): tf.Tensor3D {
  const { B, T, nHead: nh, headDim: hs, scale, mask } = shape;
  const C = nh * hs;
  const BH = B * nh;
  // Offsets of head h of batch b in the (B, 3nh, T, hs) layout: part 0 = q, 1 = k, 2 = v.
  const headOffset = (part: number, i: number): number => ((Math.floor(i / nh) * 3 + part) * nh + (i % nh)) * T * hs;
  const plan = (rows: (i: number) => number[]): Int32Array => {
    const out = new Int32Array(PLAN_STRIDE * BH);
    for (let i = 0; i < BH; i++) out.set(rows(i), PLAN_STRIDE * i);
    return out;
  };
  // On the BLAS, kᵀ, vᵀ, dSᵀ and Pᵀ are read where k, v, dS and P lie (a plan flag); XNNPACK needs transposed
  // copies (hdT, dsT, pT). A slice's offset is the same in both layouts, so the plans differ only in their flags.
  const blas = onBlas();
  const tA = blas ? TRANSPOSE_A : 0;
  const tB = blas ? TRANSPOSE_B : 0;
  const transposedCopy = (x: tf.Tensor, rows: number, cols: number): tf.Tensor => (blas ? x : transposeLast2(tf.reshape(x, [x.size / (rows * cols), rows, cols]) as tf.Tensor3D));
  const scoresPlan = plan((i) => [0, headOffset(0, i), 1, headOffset(1, i), i * T * T, T, hs, T, tB]); // q · kᵀ
  const valuesPlan = plan((i) => [0, i * T * T, 1, headOffset(2, i), i * T * hs, T, T, hs, 0]); // P · v
  const dWeightsPlan = plan((i) => [0, i * T * hs, 1, headOffset(2, i), i * T * T, T, hs, T, tB]); // dY · vᵀ
  const dHeadsPlan = new Int32Array(PLAN_STRIDE * 3 * BH);
  for (let i = 0; i < BH; i++) {
    const at = 3 * PLAN_STRIDE * i;
    dHeadsPlan.set([0, i * T * T, 3, headOffset(1, i), headOffset(0, i), T, T, hs, 0], at); // dq = dS · k
    dHeadsPlan.set([1, i * T * T, 3, headOffset(0, i), headOffset(1, i), T, T, hs, tA], at + PLAN_STRIDE); // dk = dSᵀ · q
    dHeadsPlan.set([2, i * T * T, 4, i * T * hs, headOffset(2, i), T, T, hs, tA], at + 2 * PLAN_STRIDE); // dv = Pᵀ · dY
  }
  const body = (x: tf.Tensor3D, b: tf.Tensor | null, save: tf.GradSaveFunc) => {
    const [y, heads, headsT, weights] = tf.tidy(() => {
      const hd = tf.transpose(tf.reshape(x, [B, T, 3 * nh, hs]), [0, 2, 1, 3]); // (B, 3nh, T, hs)
      const hdT = transposedCopy(hd, T, hs); // (B·3nh, hs, T), or hd itself on the BLAS
      let z = multiMatMul([hd, hdT], scoresPlan, [B, nh, T, T], blas);
      if (scale !== 1) z = tf.mul(z, scale);
      if (b) z = tf.add(z, b);
      if (mask) z = tf.add(z, mask);
      const p = tf.softmax(z);
      const yh = multiMatMul([p, hd], valuesPlan, [B, nh, T, hs], blas);
      return [tf.reshape(tf.transpose(yh, [0, 2, 1, 3]), [B, T, C]), hd, hdT, p];
    });
    save([heads, headsT, weights]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor3D, [hd, hdT, p]: tf.Tensor[]) =>
        tf.tidy(() => {
          const dyh = tf.transpose(tf.reshape(dy, [B, T, nh, hs]), [0, 2, 1, 3]); // (B, nh, T, hs)
          const dp = multiMatMul([dyh, hdT], dWeightsPlan, [B, nh, T, T], blas);
          const dz = tf.mul(p, tf.sub(dp, tf.sum(tf.mul(dp, p), -1, true))); // softmax backward
          const ds = scale !== 1 ? tf.mul(dz, scale) : dz;
          const dHeads = multiMatMul([ds, transposedCopy(ds, T, T), transposedCopy(p, T, T), hd, dyh], dHeadsPlan, [B, 3 * nh, T, hs], blas);
          const dx = tf.reshape(tf.transpose(dHeads, [0, 2, 1, 3]), [B, T, 3 * C]);
          return b ? [dx, sumToShape(dz, b.shape)] : [dx];
        }),
    };
  };
  if (bias) return custom<(x: tf.Tensor3D, b: tf.Tensor) => tf.Tensor3D>((x: tf.Tensor3D, b: tf.Tensor, save: tf.GradSaveFunc) => body(x, b, save))(qkv, bias);
  return custom<(x: tf.Tensor3D) => tf.Tensor3D>((x: tf.Tensor3D, save: tf.GradSaveFunc) => body(x, null, save))(qkv);
}

// ------------------------------------------------------------------------------------------------------------
// Relative-position plumbing.

/**
 * Relative-position plumbing for the score-hook schemes. `index` (T·T) maps each query/key pair (i, j) to a
 * relative slot r in [0, R). gatherRelative reads x[..., i, index(i,j)]; scatterRelative is its adjoint,
 * summing y[..., i, j] into slot index(i,j). Each is the other's gradient, so no gather gradient is needed
 * (the wasm backend lacks its kernel).
 */
function relativeOneHot(index: Int32Array, T: number, R: number): tf.Tensor3D {
  return tf.reshape(oneHotFloat(tf.tensor1d(index, 'int32'), R), [T, T, R]) as tf.Tensor3D; // (T_i, T_j, R)
}

/** (N, T, R) → (N, T, T); the forward is a plain gather so long evaluations never build the (T, T, R) one-hot. */
export function gatherRelative(x: tf.Tensor3D, index: Int32Array): tf.Tensor3D {
  const [N, T, R] = x.shape;
  const flatIndex = new Int32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) flatIndex[i * T + j] = i * R + index[i * T + j];
  const gather = custom<(input: tf.Tensor3D) => tf.Tensor3D>((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    const value = tf.reshape(tf.gather(tf.reshape(input, [N, T * R]), tf.tensor1d(flatIndex, 'int32'), 1), [N, T, T]);
    return { value, gradFunc: (dy: tf.Tensor) => scatterRelative(dy as tf.Tensor3D, index, R) };
  });
  return gather(x);
}

/** (N, T, T) → (N, T, R): per query row, a batched matmul with the one-hot of its relative slots. */
export function scatterRelative(y: tf.Tensor3D, index: Int32Array, R: number): tf.Tensor3D {
  const perRow = tf.transpose(y, [1, 0, 2]) as tf.Tensor3D; // (T_i, N, T_j)
  const summed = batchMatMul(perRow, relativeOneHot(index, y.shape[1], R)); // (T_i, N, R)
  return tf.transpose(summed, [1, 0, 2]) as tf.Tensor3D; // (N, T_i, R)
}
