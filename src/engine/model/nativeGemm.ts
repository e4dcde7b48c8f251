/**
 * The machine's BLAS for the wasm backend's matmuls (native/blas: a small N-API addon calling cblas_sgemm of
 * OpenBLAS or Accelerate in place on the wasm heap). A 2-D matmul there runs at ~90 GFLOP/s on one core of these
 * machines against XNNPACK's ~25–30, and the transposed products of the gradients need no transpose first.
 *
 * Optional at every step: `npm install` builds the addon when a C compiler is present (native/blas/build.mjs), and the
 * addon looks for a BLAS library when it loads. Without either, or with GPT_LAB_BLAS=off, nativeGemm() is null and
 * the ops keep tfjs's own kernels. GPT_LAB_BLAS_ADDON names the addon's file (a packaged app, a test).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeGemm {
  /**
   * C = alpha·op(A)·op(B) + (accumulate ? C : the row at biasOffset, or 0 when biasOffset < 0), every matrix
   * row-major in `heap` at a float offset with its leading dimension; op(A) is m×k, op(B) k×n, C m×n.
   */
  gemm(
    heap: Float32Array,
    transA: number,
    transB: number,
    m: number,
    n: number,
    k: number,
    aOffset: number,
    lda: number,
    bOffset: number,
    ldb: number,
    cOffset: number,
    ldc: number,
    accumulate: number,
    biasOffset: number,
    alpha: number,
  ): void;
  /** The library file it opened, e.g. libopenblas.so.0. */
  library: string;
  /** OpenBLAS's build string (its version and CPU kernel), or "Accelerate". */
  config: string;
}

interface Addon extends NativeGemm {
  available: boolean;
  failure: string;
}

const ADDON_PATH = join('native', 'blas', 'build', 'Release', 'gpt_lab_blas.node');

/** The addon's file: GPT_LAB_BLAS_ADDON, else native/blas/build/Release in the nearest folder above this module that has it. */
function addonFile(): string | null {
  if (process.env.GPT_LAB_BLAS_ADDON) return process.env.GPT_LAB_BLAS_ADDON;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 8; up++) {
    const candidate = join(dir, ADDON_PATH);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return null;
}

let loaded: { gemm: NativeGemm | null; why: string } | undefined;

function load(): { gemm: NativeGemm | null; why: string } {
  if (/^(0|off|false)$/i.test(process.env.GPT_LAB_BLAS ?? '')) return { gemm: null, why: `GPT_LAB_BLAS=${process.env.GPT_LAB_BLAS}` };
  const file = addonFile();
  if (!file) return { gemm: null, why: 'the BLAS addon is not built (npm install builds it where a C compiler is present)' };
  try {
    const addon = createRequire(import.meta.url)(file) as Addon;
    return addon.available ? { gemm: addon, why: '' } : { gemm: null, why: addon.failure };
  } catch (error) {
    return { gemm: null, why: `the BLAS addon did not load: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` };
  }
}

/** The native GEMM of this process (loaded once), or null: the wasm backend's matmuls stay on XNNPACK. */
export function nativeGemm(): NativeGemm | null {
  loaded ??= load();
  return loaded.gemm;
}

/** What the backend badge says of the matmuls: `OpenBLAS 0.3.21 (Haswell)`, or why tfjs's own kernels run. */
export function nativeGemmDescription(): { active: boolean; text: string } {
  const g = nativeGemm();
  if (!g) return { active: false, text: loaded!.why };
  return { active: true, text: describeConfig(g.config) };
}

/** The BLAS this process's matmuls run on, null for tfjs's own kernels: what every replica of a run must share. */
export function matmulKernels(): string | null {
  const d = nativeGemmDescription();
  return d.active ? d.text : null;
}

/** "OpenBLAS 0.3.21 NO_AFFINITY USE_OPENMP Haswell MAX_THREADS=64" → "OpenBLAS 0.3.21 Haswell". */
export function describeConfig(config: string): string {
  const words = config.split(/\s+/).filter((w) => w && !/^(NO_|USE_|MAX_|DYNAMIC_ARCH|SMP)/.test(w));
  return words.join(' ') || config;
}
