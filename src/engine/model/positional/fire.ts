import * as tf from '@tensorflow/tfjs';
import { matMul2d } from '../ops';
import type { PositionalScheme } from './types';

/** Hidden width of FIRE's MLP f_θ: R → R^H (the paper's 32). */
export const FIRE_MLP_WIDTH = 32;
/** c at initialisation (the paper's init_c = 0.1); c = 0.1·exp(raw), raw starting at 0. */
const FIRE_INIT_C = 0.1;

/** Causal distances max(i − j, 0) as a (T, T) table, row i = query; future keys get 0 (they are masked anyway). */
export function causalDistanceGrid(T: number): Float32Array {
  const grid = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j <= i; j++) grid[i * T + j] = i - j;
  return grid;
}

/**
 * FIRE (Li et al. 2023, "Functional Interpolation for Relative Positions Improves Long Context Transformers", §3: the
 * FIRE bias with the log transform ψ, progressive interpolation by the query position and the learned threshold L):
 * a per-head bias
 *   b(i, j) = f_θ( ψ(i − j) / ψ(max(L, i)) ),   ψ(x) = log(c·x + 1),
 * f_θ an MLP 1 → 32 → H with ReLU and no output bias: a per-head constant on every logit of a row cancels in the
 * softmax, so it could never learn (its gradient is 0). Normalising by ψ(max(L, i)) maps every query's distances
 * into [0, 1], so a query past the training length sees the input range it was trained on. c and L are learned and
 * kept positive as c = 0.1·exp(raw_c) and L = blockSize·exp(raw_L), both raw values starting at 0, so L starts at
 * the training length (the paper's code takes abs() of a learned c and of a learned multiplier of init_L; exp never
 * reaches 0, where ψ(L) would vanish). One FIRE is shared by all layers, like T5's and KERPLE's bias here. No preview:
 * the bias is whatever the MLP learns, so there is nothing to draw before training (probe 'bias' shows a run's).
 */
export const fire: PositionalScheme = {
  name: 'fire',
  label: 'FIRE',
  summary: 'A learned MLP of the log distance, normalised by the log of the query position (Li et al. 2023): a bias that interpolates past the training length.',
  hook: 'bias',
  knobs: [],
  maxLength: () => Infinity,
  params: (ctx) => [
    { name: 'pos.fire_c', shape: [1], init: 'zeros' },
    { name: 'pos.fire_L', shape: [1], init: 'zeros' },
    { name: 'pos.fire_w1', shape: [1, FIRE_MLP_WIDTH], init: 'normal', decay: true },
    { name: 'pos.fire_b1', shape: [FIRE_MLP_WIDTH], init: 'zeros' },
    { name: 'pos.fire_w2', shape: [FIRE_MLP_WIDTH, ctx.nHead], init: 'normal', decay: true },
  ],
  logitBias: (T, ctx, params) => {
    const c = tf.mul(FIRE_INIT_C, tf.exp(params['pos.fire_c']!));
    const threshold = tf.mul(ctx.blockSize, tf.exp(params['pos.fire_L']!));
    const psi = (x: tf.Tensor): tf.Tensor => tf.log1p(tf.mul(c, x));
    const queryPositions = tf.tensor2d(Float32Array.from({ length: T }, (_, i) => i), [T, 1]);
    // maximum's gradient does not sum over broadcast axes, so the threshold is broadcast first.
    const normalised = tf.div(psi(tf.tensor2d(causalDistanceGrid(T), [T, T])), psi(tf.maximum(tf.broadcastTo(threshold, [T, 1]), queryPositions))); // (T, T) in [0, 1]
    const hidden = tf.relu(tf.add(matMul2d(tf.reshape(normalised, [T * T, 1]) as tf.Tensor2D, params['pos.fire_w1'] as tf.Tensor2D), params['pos.fire_b1']!)); // (T·T, 32)
    const perHead = matMul2d(hidden as tf.Tensor2D, params['pos.fire_w2'] as tf.Tensor2D); // (T·T, nh)
    return tf.transpose(tf.reshape(perHead, [T, T, ctx.nHead]), [2, 0, 1]) as tf.Tensor3D; // (nh, T, T)
  },
};
