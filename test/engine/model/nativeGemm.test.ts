/**
 * The BLAS addon (native/blas/gemm.c) and its loader (src/engine/model/nativeGemm.ts): the addon refuses every call
 * that would reach outside the heap it is given, works in worker threads (the replicas of data-parallel training), and
 * leaves the process's thread variables as they were; the loader says why it gives null instead of throwing. In CI the
 * addon must load (`.ci/run` installs OpenBLAS and `npm ci` builds the addon), so the BLAS path is what CI tests.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { backendLabel } from '../../../src/engine/backendNames';
import { describeConfig, nativeGemm, type NativeGemm } from '../../../src/engine/model/nativeGemm';

const saved = { ...process.env };
afterEach(() => {
  // In place: worker threads and child processes read the real environment, not a replaced process.env object.
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
  vi.resetModules();
});

async function freshLoader(env: Record<string, string>) {
  Object.assign(process.env, env);
  vi.resetModules();
  return import('../../../src/engine/model/nativeGemm');
}

it.runIf(process.env.CI === 'true')('loads in CI: the addon is built and finds OpenBLAS', () => {
  expect(nativeGemm()).not.toBeNull();
  expect(nativeGemm()!.config).toMatch(/^OpenBLAS \d/);
});

describe('the loader', () => {
  it('gives null, with the reason, when switched off or when the addon file does not load', async () => {
    const off = await freshLoader({ GPT_LAB_BLAS: 'off' });
    expect(off.nativeGemm()).toBeNull();
    expect(off.nativeGemmDescription()).toEqual({ active: false, text: 'GPT_LAB_BLAS=off' });
    const missing = await freshLoader({ GPT_LAB_BLAS: '', GPT_LAB_BLAS_ADDON: '/nonexistent/gpt_lab_blas.node' });
    expect(missing.nativeGemm()).toBeNull();
    expect(missing.nativeGemmDescription().text).toMatch(/^the BLAS addon did not load: /);
  });

  it("shortens OpenBLAS's build string to its version and CPU kernel", () => {
    expect(describeConfig('OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY USE_OPENMP Cooperlake MAX_THREADS=64')).toBe('OpenBLAS 0.3.21 Cooperlake');
    expect(describeConfig('Accelerate')).toBe('Accelerate');
    expect(backendLabel({ name: 'wasm', matmul: 'OpenBLAS 0.3.21 Haswell' })).toBe('wasm · OpenBLAS 0.3.21 Haswell');
    expect(backendLabel({ name: 'wasm' })).toBe('wasm');
  });
});

describe.runIf(nativeGemm() !== null)('the addon', () => {
  const g = (): NativeGemm => nativeGemm()!;
  // heap: A (2×3) at 0, B (3×2) at 6, C (2×2) at 12, bias (2) at 16.
  const heap = () => Float32Array.from([1, 2, 3, 4, 5, 6, 1, -1, 0, 2, 3, 1, 0, 0, 0, 0, 100, -100]);
  type Call = Parameters<NativeGemm['gemm']>;
  const call = (h: Float32Array, over: Partial<Record<number, number>> = {}): Call => {
    const args: Call = [h, 0, 0, 2, 2, 3, 0, 3, 6, 2, 12, 2, 0, -1, 1];
    for (const [i, v] of Object.entries(over)) (args as unknown[])[Number(i)] = v;
    return args;
  };

  it('computes C = A·B, + bias, + C, and alpha·A·B in place', () => {
    let h = heap();
    g().gemm(...call(h));
    expect(Array.from(h.subarray(12, 16))).toEqual([10, 6, 22, 12]);
    g().gemm(...call(h, { 12: 1 })); // accumulate: C += A·B
    expect(Array.from(h.subarray(12, 16))).toEqual([20, 12, 44, 24]);
    h = heap();
    g().gemm(...call(h, { 13: 16 })); // bias row
    expect(Array.from(h.subarray(12, 16))).toEqual([110, -94, 122, -88]);
    h = heap();
    g().gemm(...call(h, { 14: 0.5 }));
    expect(Array.from(h.subarray(12, 16))).toEqual([5, 3, 11, 6]);
  });

  it('refuses, by a RangeError, any matrix that reaches outside the heap, and wrong argument types', () => {
    const h = heap();
    const outside = /gemm: a matrix lies outside the heap/;
    expect(() => g().gemm(...call(h, { 6: 13 }))).toThrow(outside); // A from 13: its last element at 18
    expect(() => g().gemm(...call(h, { 8: 14 }))).toThrow(outside); // B past the end
    expect(() => g().gemm(...call(h, { 10: 15 }))).toThrow(outside); // C past the end
    expect(() => g().gemm(...call(h, { 6: -1 }))).toThrow(outside);
    expect(() => g().gemm(...call(h, { 7: 2 }))).toThrow(outside); // lda smaller than a row
    expect(() => g().gemm(...call(h, { 2: 1 }))).toThrow(outside); // B transposed is read as 2 rows of 3: ldb 2 is too small
    expect(() => g().gemm(...call(h, { 2: 1, 9: 3, 8: 13 }))).toThrow(outside); // and from 13 its 2 rows of 3 end at 19
    expect(() => g().gemm(...call(h, { 12: 0, 13: 17 }))).toThrow(outside); // bias of 2 from 17
    expect(() => g().gemm(...(call(h).map((v, i) => (i === 0 ? new Float64Array(18) : v)) as Call))).toThrow('gemm: the heap must be a Float32Array');
    expect(() => (g().gemm as unknown as (...a: unknown[]) => void)(h, 0)).toThrow('gemm: expects 15 arguments');
    expect(Array.from(h.subarray(12, 16))).toEqual([0, 0, 0, 0]); // nothing written by a refused call
  });

  it('runs in a worker thread, as the helper threads of data-parallel training load it', async () => {
    const url = new URL('../../../src/engine/model/nativeGemm.ts', import.meta.url).href;
    const tsx = import.meta.resolve('tsx/esm/api');
    const code = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(tsx)})
        .then((api) => { api.register(); return import(${JSON.stringify(url)}); })
        .then(({ nativeGemm, nativeGemmDescription }) => {
          const h = Float32Array.from([1, 2, 3, 4, 5, 6, 1, -1, 0, 2, 3, 1, 0, 0, 0, 0]);
          if (!nativeGemm()) throw new Error(nativeGemmDescription().text);
          nativeGemm().gemm(h, 0, 0, 2, 2, 3, 0, 3, 6, 2, 12, 2, 0, -1, 1);
          parentPort.postMessage(Array.from(h.subarray(12)));
        });`;
    const worker = new Worker(code, { eval: true });
    const result = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(result).toEqual([10, 6, 22, 12]);
  });

  it('says why a library named by GPT_LAB_BLAS_LIBRARY was not taken', () => {
    const addon = new URL('../../../native/blas/build/Release/gpt_lab_blas.node', import.meta.url).pathname;
    const failure = (library: string) =>
      JSON.parse(spawnSync(process.execPath, ['-e', `const a = require(${JSON.stringify(addon)}); console.log(JSON.stringify([a.available, a.failure]))`], { env: { ...process.env, GPT_LAB_BLAS_LIBRARY: library }, encoding: 'utf8' }).stdout);
    expect(failure('/nonexistent/libopenblas.so')).toEqual([false, 'GPT_LAB_BLAS_LIBRARY=/nonexistent/libopenblas.so could not be opened']);
    const libm = ['/lib/x86_64-linux-gnu/libm.so.6', '/lib/aarch64-linux-gnu/libm.so.6', '/usr/lib/libm.so.6'].find(existsSync);
    if (libm) expect(failure(libm)).toEqual([false, `GPT_LAB_BLAS_LIBRARY=${libm} is not OpenBLAS or Accelerate (no cblas_sgemm, or no openblas_get_config)`]);
  });

  it("leaves OMP_NUM_THREADS and OPENBLAS_NUM_THREADS as the process had them (children inherit the user's)", () => {
    const addon = new URL('../../../native/blas/build/Release/gpt_lab_blas.node', import.meta.url).pathname;
    const script = `const a = require(${JSON.stringify(addon)}); console.log(JSON.stringify([a.available, process.env.OMP_NUM_THREADS ?? null, process.env.OPENBLAS_NUM_THREADS ?? null]))`;
    const run = (env: Record<string, string | undefined>) => {
      const childEnv = { ...process.env, ...env };
      for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
      return JSON.parse(spawnSync(process.execPath, ['-e', script], { env: childEnv, encoding: 'utf8' }).stdout);
    };
    expect(run({ OMP_NUM_THREADS: '7', OPENBLAS_NUM_THREADS: undefined })).toEqual([true, '7', null]);
    expect(run({ OMP_NUM_THREADS: undefined, OPENBLAS_NUM_THREADS: '3' })).toEqual([true, null, '3']);
  });
});
