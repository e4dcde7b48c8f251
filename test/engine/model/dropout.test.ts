/** Row-keyed dropout masks: the kept scale, the drop rate, and masks that follow the global row, not the call. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { mixSeed, rowDropout } from '../../../src/engine/model/dropout';
import { useWasmBackend } from '../../helpers/backend';

useWasmBackend();

const key = { seed: 7, step: 3, firstRow: 0 };

function dropped(rows: number, perRow: number, rate: number, k = key, site = 0): Float32Array {
  return tf.tidy(() => rowDropout(tf.ones([rows, perRow]), rate, k, site).dataSync() as Float32Array);
}

describe('rowDropout', () => {
  it('zeroes about `rate` of the elements and scales the rest by exactly 1 / (1 − rate)', () => {
    const out = dropped(8, 2000, 0.25);
    const zeros = out.filter((v) => v === 0).length;
    expect(Math.abs(zeros / out.length - 0.25)).toBeLessThan(0.01);
    expect(new Set(out.filter((v) => v !== 0))).toEqual(new Set([Math.fround(1 / 0.75)]));
  });

  it('row b of a 4-row call equals row 0 of a 1-row call that starts at global row b', () => {
    const whole = dropped(4, 50, 0.5);
    for (let b = 0; b < 4; b++) expect(dropped(1, 50, 0.5, { ...key, firstRow: b })).toEqual(whole.subarray(b * 50, (b + 1) * 50));
  });

  it('another step, seed or site draws other masks', () => {
    const base = dropped(2, 64, 0.5);
    for (const other of [dropped(2, 64, 0.5, { ...key, step: 4 }), dropped(2, 64, 0.5, { ...key, seed: 8 }), dropped(2, 64, 0.5, key, 1)])
      expect(other).not.toEqual(base);
  });

  it('leaves no tensors behind', () => {
    const before = tf.memory().numTensors;
    dropped(2, 8, 0.5);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('mixSeed', () => {
  it('is a pure function of its parts, in order', () => {
    expect(mixSeed(1, 2, 3)).toBe(mixSeed(1, 2, 3));
    expect(mixSeed(1, 2, 3)).not.toBe(mixSeed(3, 2, 1));
    expect(mixSeed(0, 0, 1)).not.toBe(mixSeed(0, 1, 0));
  });
});
