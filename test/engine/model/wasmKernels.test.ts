/**
 * The custom wasm kernels (src/engine/model/wasmKernels.ts) on their own: products (on XNNPACK and on the native
 * BLAS) and block copies against hand values, plans that would read or write past a tensor refused by name, and the
 * feature check that sends every other backend down the plain-tfjs path.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { perfLevers } from '../../../src/engine/model/levers';
import { nativeGemm } from '../../../src/engine/model/nativeGemm';
import { copyBlocks, fastWasm, gemm, multiMatMul, TRANSPOSE_A, TRANSPOSE_B } from '../../../src/engine/model/wasmKernels';
import { useWasmBackend } from '../../helpers/backend';

useWasmBackend();

const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());

// The BLAS rows run wherever the addon and a BLAS load; CI installs both, and test/engine/model/nativeGemm.test.ts fails
// there when they do not.
const ENGINES = [false, ...(nativeGemm() ? [true] : [])];

describe.each(ENGINES)('GptLabMultiMatMul (native BLAS: %s)', (blas) => {
  it('computes each planned product from slices of its inputs, in place in the output', () => {
    tf.tidy(() => {
      // a holds two 1×2 rows, b two 2×1 columns; out[0] = a[0:2]·b[0:2], out[1] = a[2:4]·b[2:4], out[2] = a[0:2]·b[2:4].
      const a = tf.tensor1d([1, 2, 3, 4]);
      const b = tf.tensor1d([5, 6, 7, 8]);
      const plan = Int32Array.from([0, 0, 1, 0, 0, 1, 2, 1, 0, 0, 2, 1, 2, 1, 1, 2, 1, 0, 0, 0, 1, 2, 2, 1, 2, 1, 0]);
      expect(values(multiMatMul([a, b], plan, [3], blas))).toEqual([1 * 5 + 2 * 6, 3 * 7 + 4 * 8, 1 * 7 + 2 * 8]);
    });
  });

  it('a 2×2 · 2×3 product matches tf.matMul, and an inner size of 0 gives zeros', () => {
    tf.tidy(() => {
      const a = tf.tensor2d([[1, 2], [3, 4]]);
      const b = tf.tensor2d([[1, 0, -1], [2, 1, 0]]);
      expect(values(multiMatMul([a, b], Int32Array.from([0, 0, 1, 0, 0, 2, 2, 3, 0]), [2, 3], blas))).toEqual(values(tf.matMul(a, b)));
      expect(values(multiMatMul([a, b], Int32Array.from([0, 0, 1, 0, 0, 2, 0, 3, 0]), [2, 3], blas))).toEqual([0, 0, 0, 0, 0, 0]);
    });
  });

  it('reads an operand stored transposed where a flag says so: the same products as explicit transposes', () => {
    tf.tidy(() => {
      const a = tf.tensor2d([[1, 2, 3], [4, 5, 6]]); // 2×3
      const b = tf.tensor2d([[1, -1], [0, 2], [3, 1]]); // 3×2; a·b = [[10, 6], [22, 12]]
      const at = tf.transpose(a);
      const bt = tf.transpose(b);
      const product = (flags: number) => Int32Array.from([0, 0, 1, 0, 0, 2, 3, 2, flags]);
      expect(values(multiMatMul([at, b], product(TRANSPOSE_A), [2, 2], blas))).toEqual([10, 6, 22, 12]);
      expect(values(multiMatMul([a, bt], product(TRANSPOSE_B), [2, 2], blas))).toEqual([10, 6, 22, 12]);
      expect(values(multiMatMul([at, bt], product(TRANSPOSE_A | TRANSPOSE_B), [2, 2], blas))).toEqual([10, 6, 22, 12]);
    });
  });

  it('refuses a plan that reads or writes out of bounds, naming the product', () => {
    tf.tidy(() => {
      const a = tf.tensor1d([1, 2, 3, 4]);
      const ok = [0, 0, 1, 0, 0, 1, 2, 1, 0];
      expect(() => multiMatMul([a, a], Int32Array.from([...ok, 0, 3, 1, 0, 1, 1, 2, 1, 0]), [2], blas)).toThrow('GptLabMultiMatMul: product 1 reads or writes out of bounds');
      expect(() => multiMatMul([a, a], Int32Array.from([0, 0, 1, 0, 1, 1, 2, 1, 0]), [1], blas)).toThrow(/product 0/);
      expect(() => multiMatMul([a, a], Int32Array.from([2, 0, 1, 0, 0, 1, 2, 1, 0]), [1], blas)).toThrow(/product 0/);
      expect(() => multiMatMul([a, a], Int32Array.from([0, 0, 1, 0, 0, 1, 2, 1, 4]), [1], blas)).toThrow(/product 0/);
      expect(() => multiMatMul([a, a], Int32Array.from(ok.slice(0, 8)), [1], blas)).toThrow('GptLabMultiMatMul: a plan holds 9 numbers per product, got 8');
    });
  });
});

describe.runIf(nativeGemm() !== null)('GptLabGemm (the native BLAS)', () => {
  const a = [[1, 2, 3], [4, 5, 6]]; // 2×3
  const b = [[1, -1], [0, 2], [3, 1]]; // 3×2
  // a·b by hand: [1+0+9, -1+4+3] = [10, 6]; [4+0+18, -4+10+6] = [22, 12].
  const ab = [10, 6, 22, 12];

  it('gives a·b for every pair of transpose flags, reading transposed operands as they lie', () => {
    tf.tidy(() => {
      const A = tf.tensor2d(a);
      const B = tf.tensor2d(b);
      const At = tf.transpose(A) as tf.Tensor2D;
      const Bt = tf.transpose(B) as tf.Tensor2D;
      expect(values(gemm(A, B, false, false))).toEqual(ab);
      expect(values(gemm(At, B, true, false))).toEqual(ab);
      expect(values(gemm(A, Bt, false, true))).toEqual(ab);
      expect(values(gemm(At, Bt, true, true))).toEqual(ab);
    });
  });

  it('adds the bias to every row, and matches tf.matMul on random 37×53 · 53×29 to float rounding', () => {
    tf.tidy(() => {
      expect(values(gemm(tf.tensor2d(a), tf.tensor2d(b), false, false, tf.tensor1d([100, -100])))).toEqual([110, -94, 122, -88]);
      const x = tf.randomNormal([37, 53], 0, 1, 'float32', 1) as tf.Tensor2D;
      const w = tf.randomNormal([53, 29], 0, 1, 'float32', 2) as tf.Tensor2D;
      const want = values(tf.matMul(x, w));
      const got = values(gemm(x, w, false, false));
      expect(Math.max(...got.map((g, i) => Math.abs(g - want[i])))).toBeLessThan(1e-4);
    });
  });

  it('refuses operands whose sizes do not fit, naming them', () => {
    tf.tidy(() => {
      expect(() => gemm(tf.tensor2d(a), tf.tensor2d(a), false, false)).toThrow('GptLabGemm: inner sizes differ (2,3 · 2,3)');
      expect(() => gemm(tf.tensor2d(a), tf.tensor2d(b), false, false, tf.tensor1d([1, 2, 3]))).toThrow('GptLabGemm: bias of shape 3 for 2 columns');
    });
  });
});

describe('GptLabCopyBlocks', () => {
  it('copies strided blocks, zeroing the rest of the output when asked', () => {
    tf.tidy(() => {
      const x = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7]);
      // The second half of each row of 4: blocks 2, length 2, stride 4, offset 2.
      const taken = copyBlocks(x, { outShape: [2, 2], blocks: 2, length: 2, srcStride: 4, srcOffset: 2, dstStride: 2, dstOffset: 0, zero: false });
      expect(values(taken)).toEqual([2, 3, 6, 7]);
      const putBack = copyBlocks(taken, { outShape: [8], blocks: 2, length: 2, srcStride: 2, srcOffset: 0, dstStride: 4, dstOffset: 2, zero: true });
      expect(values(putBack)).toEqual([0, 0, 2, 3, 0, 0, 6, 7]);
    });
  });

  it('refuses a block past either end, naming it', () => {
    tf.tidy(() => {
      const x = tf.tensor1d([0, 1, 2, 3]);
      expect(() => copyBlocks(x, { outShape: [4], blocks: 2, length: 2, srcStride: 3, srcOffset: 0, dstStride: 2, dstOffset: 0, zero: false })).toThrow('GptLabCopyBlocks: block 1 out of bounds');
      expect(() => copyBlocks(x, { outShape: [2], blocks: 2, length: 1, srcStride: 1, srcOffset: 0, dstStride: 2, dstOffset: 0, zero: false })).toThrow('GptLabCopyBlocks: block 1 out of bounds');
    });
  });
});

describe('Identity (clones share their data)', () => {
  it('a clone shares its input\'s data and outlives it; with the lever off it is a copy; nothing leaks', () => {
    expect(fastWasm()).not.toBeNull();
    const before = tf.memory();
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId);
    x.dispose();
    expect(values(y)).toEqual([1, 2, 3]); // still there: the data is freed with its last tensor
    y.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    perfLevers.sharedClones = false;
    try {
      const a = tf.tensor1d([4, 5]);
      const b = tf.clone(a);
      expect(b.dataId).not.toBe(a.dataId);
      expect(values(b)).toEqual([4, 5]);
      tf.dispose([a, b]);
    } finally {
      perfLevers.sharedClones = true;
    }
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
  });
});

describe('the feature check', () => {
  it('finds the kernels on wasm and nowhere else; there the kernels refuse to run', async () => {
    expect(fastWasm()).not.toBeNull();
    await tf.setBackend('cpu');
    try {
      expect(fastWasm()).toBeNull();
      expect(() => tf.tidy(() => multiMatMul([tf.zeros([1])], new Int32Array(0), [1], false))).toThrow('this op needs the wasm backend (tfjs-backend-wasm 4.x)');
    } finally {
      await tf.setBackend('wasm');
    }
  });
});
