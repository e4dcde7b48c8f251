import * as tf from '@tensorflow/tfjs';
import { consecutive } from './positions';
import type { PositionalScheme } from './types';

/**
 * Context-extension methods for evaluating a rope model past its training length L, with s = T / L at evaluation
 * length T (s ≤ 1 leaves every method the identity):
 *   pi   — Position Interpolation (Chen et al. 2023, eq. 2): angle m·θ_i → (m/s)·θ_i.
 *   ntk  — NTK-aware scaling (bloc97 2023; YaRN paper eq. 16): base → base · s^(d/(d−2)).
 *   yarn — YaRN (Peng et al. 2023, eqs. 17–22): per pair, r_i = L/λ_i with λ_i = 2π/θ_i,
 *          γ_i = clamp((r_i − α)/(β − α), 0, 1), θ'_i = (1 − γ_i)·θ_i/s + γ_i·θ_i, α = 1, β = 32; and the
 *          attention temperature √(1/t) = 0.1·ln s + 1 applied to q and k each, so the logits are × (0.1·ln s + 1)².
 */
export const ROPE_SCALINGS = ['none', 'pi', 'ntk', 'yarn'] as const;
export type RopeScaling = (typeof ROPE_SCALINGS)[number];

const YARN_ALPHA = 1;
const YARN_BETA = 32;

export interface RopeFrequencies {
  /** θ_i for each of the hs/2 pairs, after partial rotation and context extension. */
  inverseFrequencies: Float64Array;
  /** Multiplier on q and k (YaRN's temperature); 1 otherwise. */
  qkScale: number;
}

export interface RopeFrequencyOptions {
  base: number;
  /** p-RoPE: the fraction of pairs rotated, highest frequencies first; the rest get θ = 0. */
  fraction?: number;
  scaling?: RopeScaling;
  /** s = evaluation length / training length. */
  scale?: number;
  trainLength?: number;
}

/** Number of rotated pairs for p-RoPE: round(p · hs/2). */
export function rotatedPairs(headDim: number, fraction: number): number {
  return Math.round(fraction * (headDim / 2));
}

export function ropeFrequencies(headDim: number, opts: RopeFrequencyOptions): RopeFrequencies {
  const half = headDim / 2;
  const s = opts.scale ?? 1;
  // At or below the training length every method is plain RoPE.
  const scaling = s > 1 ? (opts.scaling ?? 'none') : 'none';
  const base = scaling === 'ntk' ? opts.base * s ** (headDim / (headDim - 2)) : opts.base;
  const rotated = rotatedPairs(headDim, opts.fraction ?? 1);
  const inverseFrequencies = new Float64Array(half);
  for (let i = 0; i < rotated; i++) {
    const theta = base ** ((-2 * i) / headDim);
    if (scaling === 'pi') inverseFrequencies[i] = theta / s;
    else if (scaling === 'yarn') {
      const ratio = (opts.trainLength ?? 0) / ((2 * Math.PI) / theta);
      const gamma = Math.min(1, Math.max(0, (ratio - YARN_ALPHA) / (YARN_BETA - YARN_ALPHA)));
      inverseFrequencies[i] = ((1 - gamma) * theta) / s + gamma * theta;
    } else inverseFrequencies[i] = theta;
  }
  return { inverseFrequencies, qkScale: scaling === 'yarn' ? 0.1 * Math.log(s) + 1 : 1 };
}

/**
 * cos and sin of angle t · θ_i for i < hs/2, each laid out (T, hs) as [half, half] to match the rotate-half
 * pairing: dimension i pairs with dimension i + hs/2.
 */
export function ropeAngles(T: number, inverseFrequencies: ArrayLike<number>): { cos: Float32Array; sin: Float32Array } {
  return ropeAnglesAt(consecutive(T), inverseFrequencies);
}

/** ropeAngles at the given positions: one (hs) row of cos and of sin per position. */
export function ropeAnglesAt(positions: ArrayLike<number>, inverseFrequencies: ArrayLike<number>): { cos: Float32Array; sin: Float32Array } {
  const half = inverseFrequencies.length;
  const headDim = 2 * half;
  const cos = new Float32Array(positions.length * headDim);
  const sin = new Float32Array(positions.length * headDim);
  for (let row = 0; row < positions.length; row++) {
    const t = positions[row]!;
    for (let i = 0; i < half; i++) {
      const angle = t * inverseFrequencies[i];
      for (const d of [i, i + half]) {
        cos[row * headDim + d] = Math.cos(angle);
        sin[row * headDim + d] = Math.sin(angle);
      }
    }
  }
  return { cos, sin };
}

/** (x1, x2) → (−x2, x1) over the two halves of the last axis. */
function rotateHalf(x: tf.Tensor4D): tf.Tensor4D {
  const half = x.shape[3] / 2;
  const [x1, x2] = tf.split(x, [half, half], 3);
  return tf.concat([tf.neg(x2), x1], 3) as tf.Tensor4D;
}

/** x (B, nh, T, hs) rotated by the (T, hs) cos and sin tables, or per row by (B, 1, T, hs) ones (rotate-half pairing). */
export function applyRotation(x: tf.Tensor4D, cos: tf.Tensor2D | tf.Tensor4D, sin: tf.Tensor2D | tf.Tensor4D): tf.Tensor4D {
  return tf.add(tf.mul(x, cos), tf.mul(rotateHalf(x), sin)) as tf.Tensor4D;
}

/**
 * RoPE's long-term decay (Su et al. 2021, §3.4.3): the bound (1/(d/2)) Σ_j |S_j| with S_j = Σ_{k<j} e^{i·r·θ_k}
 * on |<R_m q, R_n k>| as the distance r = |m − n| grows, and the score of all-ones q and k normalised to 1 at r = 0.
 */
export function ropeDecay(headDim: number, base: number, maxDistance: number): { distance: number[]; bound: number[]; onesScore: number[] } {
  const half = headDim / 2;
  const theta = Array.from({ length: half }, (_, i) => base ** ((-2 * i) / headDim));
  const distance: number[] = [];
  const bound: number[] = [];
  const onesScore: number[] = [];
  for (let r = 0; r <= maxDistance; r++) {
    let re = 0;
    let im = 0;
    let sumAbs = 0;
    for (let j = 0; j < half; j++) {
      re += Math.cos(r * theta[j]);
      im += Math.sin(r * theta[j]);
      sumAbs += Math.hypot(re, im);
    }
    distance.push(r);
    bound.push(sumAbs / half);
    onesScore.push(re / half);
  }
  return { distance, bound, onesScore };
}

export const rope: PositionalScheme = {
  name: 'rope',
  label: 'RoPE (rotary)',
  summary: 'Rotates q and k by angles proportional to position, so q·k depends only on the offset (Su et al. 2021).',
  hook: 'rotate',
  knobs: [
    { key: 'base', flag: 'rope-base', label: 'Base', help: 'wavelength base θ', default: 10000, min: 2, max: 1e9, integer: false },
    {
      key: 'fraction',
      flag: 'rope-fraction',
      label: 'Rotated fraction',
      help: 'p-RoPE (Barbero et al. 2024): fraction of frequency pairs rotated, highest first; the rest are not rotated',
      default: 1,
      min: 0,
      max: 1,
      integer: false,
    },
  ],
  extensions: ROPE_SCALINGS,
  readsPositions: true,
  maxLength: () => Infinity,
  checkModel: ({ nEmbd, nHead }) =>
    (nEmbd / nHead) % 2 === 0 ? [] : [{ field: 'nEmbd', message: `rope needs an even head size; nEmbd/nHead = ${nEmbd / nHead}` }],
  rotate: (q, k, ctx, positions) => {
    const T = q.shape[2];
    // A fine-tuned extension keeps its s at every length, measured from the length it extended (its block / s).
    const fixed = ctx.extensionScale;
    const { inverseFrequencies, qkScale } = ropeFrequencies(ctx.headDim, {
      base: ctx.options.base,
      fraction: ctx.options.fraction,
      scaling: ctx.extension as RopeScaling | undefined,
      scale: fixed ?? T / ctx.blockSize,
      trainLength: fixed === undefined ? ctx.blockSize : ctx.blockSize / fixed,
    });
    const { cos, sin } = ropeAnglesAt(positions ?? consecutive(T), inverseFrequencies);
    // (T, hs), or (B, 1, T, hs) for a position grid: each row rotated by its own positions, the same for every head.
    const table = (values: Float32Array): tf.Tensor2D | tf.Tensor4D =>
      positions ? tf.tensor4d(values, [positions.length / T, 1, T, ctx.headDim]) : tf.tensor2d(values, [T, ctx.headDim]);
    const [cosT, sinT] = [table(cos), table(sin)];
    const apply = (x: tf.Tensor4D): tf.Tensor4D => {
      const rotated = applyRotation(x, cosT, sinT);
      return qkScale === 1 ? rotated : tf.mul(rotated, qkScale);
    };
    return [apply(q), apply(k)];
  },
  preview: ({ length, nEmbd, nHead }, { base }) => {
    // New run previews while the user types: an odd or zero head size still gets a picture, of the nearest even one.
    const headDim = Math.max(2, Math.floor(nEmbd / nHead / 2) * 2);
    return { decay: ropeDecay(headDim, base, Math.min(4096, 8 * length)) };
  },
};
