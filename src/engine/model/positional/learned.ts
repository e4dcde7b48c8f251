import * as tf from '@tensorflow/tfjs';
import { PositionRangeError, type PositionalScheme } from './types';

/** GPT-2's learned table: one row per position up to the block size, nothing beyond it. */
export const learned: PositionalScheme = {
  name: 'learned',
  label: 'Learned (absolute)',
  summary: 'A trained vector per position (GPT-2); positions past the training block have no vector at all.',
  hook: 'input',
  knobs: [],
  maxLength: (blockSize) => blockSize,
  params: (ctx) => [{ name: 'pos.wpe', shape: [ctx.blockSize, ctx.nEmbd], init: 'normal' }],
  inputTable: (T, ctx, params) => {
    if (T > ctx.blockSize) throw new PositionRangeError('learned', T, ctx.blockSize);
    return tf.slice(params['pos.wpe'], [0, 0], [T, ctx.nEmbd]) as tf.Tensor2D;
  },
};
