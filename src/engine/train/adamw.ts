/**
 * AdamW (Loshchilov & Hutter) with decoupled weight decay, applied only to the parameters marked `decay`,
 * and global-norm gradient clipping. Same update as torch.optim.AdamW:
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   p ← p·(1 − lr·wd) − lr · m̂ / (√v̂ + ε),  m̂ = m/(1−β1^t), v̂ = v/(1−β2^t)
 *
 * On the wasm backend the update of each parameter is one kernel (p, g, m, v in; p, m, v out) and the global
 * norm one kernel over every gradient, instead of ~12 and 2 small tfjs kernels per parameter, whose dispatch
 * overhead dominated for small tensors (config S: 3.3 → 1.1 ms of a ~36 ms step; docs/PERFORMANCE.md).
 */
import * as tf from '@tensorflow/tfjs';
import { readAll } from '../read';
import { perfLevers } from '../model/levers';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export interface AdamWState {
  t: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

/** What the fused kernels need from the wasm backend (present in tfjs-backend-wasm 4.x; feature-checked). */
interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

const ADAMW_KERNEL = 'GptLabAdamW';
/**
 * Above this many elements the plain tfjs ops (SIMD, ~12 kernels) beat the scalar JS loop (~5 ns per element);
 * below it the per-kernel overhead of the plain ops dominates.
 */
const FUSED_MAX_SIZE = 1 << 17;
const SUM_SQUARES_KERNEL = 'GptLabSumSquares';

interface AdamWAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  correction1: number;
  correction2: number;
  decayFactor: number;
}

function adamwKernel(args: { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs: Record<string, unknown> }): tf.TensorInfo[] {
  const be = args.backend as HeapBackend;
  const { p, g, m, v } = args.inputs;
  const { lr, beta1, beta2, eps, correction1, correction2, decayFactor } = args.attrs as unknown as AdamWAttrs;
  const outs = [be.makeOutput(p.shape, 'float32'), be.makeOutput(p.shape, 'float32'), be.makeOutput(p.shape, 'float32')];
  // Views only after every allocation: growing the heap replaces its buffer.
  const [P, G, M, V] = [p, g, m, v].map((t) => be.typedArrayFromHeap(t));
  const [P2, M2, V2] = outs.map((t) => be.typedArrayFromHeap(t));
  const a1 = 1 - beta1;
  const a2 = 1 - beta2;
  const step = lr / correction1;
  const invCorrection2 = 1 / correction2;
  const n = P.length;
  for (let i = 0; i < n; i++) {
    const gi = G[i];
    const mi = beta1 * M[i] + a1 * gi;
    const vi = beta2 * V[i] + a2 * gi * gi;
    M2[i] = mi;
    V2[i] = vi;
    P2[i] = P[i] * decayFactor - (step * mi) / (Math.sqrt(vi * invCorrection2) + eps);
  }
  return outs;
}

function sumSquaresKernel(args: { inputs: Record<string, tf.TensorInfo>; backend: unknown }): tf.TensorInfo {
  const be = args.backend as HeapBackend;
  const out = be.makeOutput([], 'float32');
  let total = 0;
  for (const t of Object.values(args.inputs)) {
    const x = be.typedArrayFromHeap(t);
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i] * x[i];
    total += s;
  }
  be.typedArrayFromHeap(out)[0] = total;
  return out;
}

/** True when the fused kernels can run: wasm backend with heap access, lever on. */
function fusedKernels(): boolean {
  if (!perfLevers.fusedOptimizer || tf.getBackend() !== 'wasm') return false;
  const be = tf.backend() as unknown as Partial<HeapBackend>;
  if (typeof be.makeOutput !== 'function' || typeof be.typedArrayFromHeap !== 'function') return false;
  if (!tf.getKernel(ADAMW_KERNEL, 'wasm')) tf.registerKernel({ kernelName: ADAMW_KERNEL, backendName: 'wasm', kernelFunc: adamwKernel as unknown as tf.KernelFunc });
  if (!tf.getKernel(SUM_SQUARES_KERNEL, 'wasm'))
    tf.registerKernel({ kernelName: SUM_SQUARES_KERNEL, backendName: 'wasm', kernelFunc: sumSquaresKernel as unknown as tf.KernelFunc });
  return true;
}

export class AdamW {
  private t = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(
    private readonly params: Map<string, tf.Variable>,
    private readonly decayed: Set<string>,
    private readonly opts: AdamWOptions,
  ) {
    for (const [name, p] of params) {
      // Inside tidy, so the zeros the variables are made from do not outlive them.
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    }
  }

  get stepCount(): number {
    return this.t;
  }

  apply(grads: Record<string, tf.Tensor>, lr: number): void {
    this.t += 1;
    const { beta1, beta2, eps, weightDecay } = this.opts;
    const correction1 = 1 - beta1 ** this.t;
    const correction2 = 1 - beta2 ** this.t;
    for (const name of this.params.keys()) if (!grads[name]) throw new Error(`no gradient for parameter ${name}`);
    const fused = fusedKernels();
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g = grads[name];
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        if (fused && g.dtype === 'float32' && g.size === p.size && p.size <= FUSED_MAX_SIZE) {
          const decayFactor = this.decayed.has(name) ? 1 - lr * weightDecay : 1;
          const attrs = { lr, beta1, beta2, eps, correction1, correction2, decayFactor };
          const [p2, m2, v2] = tf.engine().runKernel(ADAMW_KERNEL, { p, g, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
          m.assign(m2);
          v.assign(v2);
          p.assign(p2);
          continue;
        }
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const update = tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), eps));
        const decayed = this.decayed.has(name) ? tf.mul(p, 1 - lr * weightDecay) : p;
        p.assign(tf.sub(decayed, tf.mul(update, lr)));
      }
    });
  }

  async getState(): Promise<AdamWState> {
    const [m, v] = await Promise.all([readAll(this.m), readAll(this.v)]);
    return { t: this.t, m, v };
  }

  setState(state: AdamWState): void {
    this.t = state.t;
    for (const [vars, values] of [[this.m, state.m], [this.v, state.v]] as const) {
      for (const [name, variable] of vars) {
        const data = values[name];
        if (!data || data.length !== variable.size) throw new Error(`optimizer state for ${name} is missing or has the wrong size`);
        const t = tf.tensor(data, variable.shape);
        variable.assign(t);
        t.dispose();
      }
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

/** sqrt(Σ‖g‖²) over every gradient. */
export function globalNorm(grads: Record<string, tf.Tensor>): tf.Scalar {
  const list = Object.values(grads);
  if (fusedKernels() && list.length > 0 && list.every((g) => g.dtype === 'float32')) {
    const inputs: Record<string, tf.Tensor> = {};
    list.forEach((g, i) => (inputs[`g${i}`] = g));
    return tf.tidy(() => tf.sqrt(tf.engine().runKernel(SUM_SQUARES_KERNEL, inputs) as tf.Tensor) as tf.Scalar);
  }
  // Added pairwise, not with tf.addN: webgpu's AddN binds every input at once and fails validation past the device's
  // 8 storage buffers per shader (a GPT has ~20 parameters), after which the step silently computes zeros.
  return tf.tidy(() => tf.sqrt(list.map((g) => tf.sum(tf.square(g))).reduce((sum, s) => tf.add(sum, s))) as tf.Scalar);
}

/** Gradients scaled so their global norm is at most maxNorm (exactly maxNorm when it was larger). */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, norm: number, maxNorm: number): Record<string, tf.Tensor> {
  if (!(maxNorm > 0) || norm <= maxNorm) return grads;
  const scale = maxNorm / norm;
  return Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, tf.mul(g, scale)]));
}
