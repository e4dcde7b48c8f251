import * as tf from '@tensorflow/tfjs';
import { matMul2d, oneHotFloat } from '../ops';
import { PositionRangeError, type PositionalScheme, type SchemeContext } from './types';

/** Rows of the table: the block size, or every position a randomized-positions run draws from. */
function tableRows(ctx: SchemeContext): number {
  return ctx.randomPositions ?? ctx.blockSize;
}

/**
 * GPT-2's learned table: one row per position up to the block size, nothing beyond it. With randomized positions
 * (Ruoss et al. 2023) the table has a row for every position in [0, L) and each sequence reads its drawn rows.
 */
export const learned: PositionalScheme = {
  name: 'learned',
  label: 'Learned (absolute)',
  summary: 'A trained vector per position (GPT-2); positions past the training block have no vector at all.',
  hook: 'input',
  knobs: [],
  readsPositions: true,
  maxLength: (blockSize) => blockSize,
  params: (ctx) => [{ name: 'pos.wpe', shape: [tableRows(ctx), ctx.nEmbd], init: 'normal' }],
  inputTable: (T, ctx, params, positions) => {
    if (!positions) {
      if (T > ctx.blockSize) throw new PositionRangeError('learned', T, ctx.blockSize);
      return tf.slice(params['pos.wpe'], [0, 0], [T, ctx.nEmbd]) as tf.Tensor2D;
    }
    // One-hot matmul instead of gather: gather's gradient needs a kernel the wasm backend lacks.
    const rows = matMul2d(oneHotFloat(tf.tensor1d(positions, 'int32'), tableRows(ctx)), params['pos.wpe'] as tf.Tensor2D); // (B·T, C)
    return tf.reshape(rows, [positions.length / T, T, ctx.nEmbd]) as tf.Tensor3D;
  },
};
