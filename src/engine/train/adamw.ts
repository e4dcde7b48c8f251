/**
 * AdamW (Loshchilov & Hutter) with decoupled weight decay, applied only to the parameters marked `decay`,
 * and global-norm gradient clipping. Same update as torch.optim.AdamW:
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   p ← p·(1 − lr·wd) − lr · m̂ / (√v̂ + ε),  m̂ = m/(1−β1^t), v̂ = v/(1−β2^t)
 */
import * as tf from '@tensorflow/tfjs';

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
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g = grads[name];
        if (!g) throw new Error(`no gradient for parameter ${name}`);
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const update = tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), eps));
        const decayed = this.decayed.has(name) ? tf.mul(p, 1 - lr * weightDecay) : p;
        p.assign(tf.sub(decayed, tf.mul(update, lr)));
      }
    });
  }

  getState(): AdamWState {
    const read = (vars: Map<string, tf.Variable>) => Object.fromEntries([...vars].map(([n, t]) => [n, t.dataSync() as Float32Array]));
    return { t: this.t, m: read(this.m), v: read(this.v) };
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
  return tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
}

/** Gradients scaled so their global norm is at most maxNorm (exactly maxNorm when it was larger). */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, norm: number, maxNorm: number): Record<string, tf.Tensor> {
  if (!(maxNorm > 0) || norm <= maxNorm) return grads;
  const scale = maxNorm / norm;
  return Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, tf.mul(g, scale)]));
}
