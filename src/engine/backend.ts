/**
 * The backend ladder: tfjs-node-gpu → webgpu → tfjs-node → wasm → cpu, first that loads wins. Detection reports what is
 * actually running: a tfjs-node-gpu that loaded but found no CUDA device (and silently uses the CPU), and the WebGPU
 * adapter, which may be a software renderer (SwiftShader, llvmpipe) running on the CPU. The automatic ladder skips a
 * software adapter (it is ~100× slower than wasm); asking for `webgpu` by name takes it anyway.
 */
import * as tf from '@tensorflow/tfjs';

import { BACKEND_NAMES, backendLabel, type BackendChoice, type BackendName } from './backendNames';
import { matmulKernels, nativeGemmDescription } from './model/nativeGemm';
export { BACKEND_CHOICES, BACKEND_NAMES, backendLabel, type BackendChoice, type BackendName } from './backendNames';

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  /** A CPU rasteriser posing as a GPU (SwiftShader, llvmpipe, WARP, a "cpu" adapter type). */
  software: boolean;
}

export interface BackendInfo {
  name: BackendName;
  /** True only when kernels really run on a GPU. */
  gpu: boolean;
  threads: number;
  /** The WebGPU adapter, on the webgpu rung. */
  adapter?: AdapterInfo;
  /** Why higher rungs of the ladder were skipped, for the UI and --json output. */
  notes: string[];
  /** wasm: the native BLAS its matmuls run on (`OpenBLAS 0.3.21 Haswell`), absent when they run on XNNPACK. */
  matmul?: string;
}

/** Loaders get `forced` when the caller named their rung, so a software WebGPU adapter is acceptable. */
type Loader = (forced: boolean) => Promise<Omit<BackendInfo, 'name' | 'notes'> | null>;

/** Dynamic specifier so bundlers and TypeScript leave the optional native packages alone. */
async function importOptional(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ specifier);
}

function isUsingGpu(): boolean {
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  return backend.isUsingGpuDevice === true;
}

const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|software|microsoft basic render|\bwarp\b/i;

/** The adapter's identity, and whether it is a software renderer (never reported as a GPU). */
export function describeAdapter(info: { vendor?: string; architecture?: string; description?: string; adapterType?: string; isFallbackAdapter?: boolean }): AdapterInfo {
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const description = info.description ?? '';
  const software = info.isFallbackAdapter === true || info.adapterType === 'cpu' || SOFTWARE_ADAPTER.test(`${vendor} ${architecture} ${description}`);
  return { vendor, architecture, description, software };
}

class SkippedRung extends Error {}

/** Dawn's Node binding (npm `webgpu`), the part of it this module uses. */
interface Dawn {
  create(flags: string[]): { requestAdapter(options?: object): Promise<{ info: Parameters<typeof describeAdapter>[0]; isFallbackAdapter?: boolean } | null> };
  globals: object;
}

async function loadWebGpu(forced: boolean): Promise<Omit<BackendInfo, 'name' | 'notes'> | null> {
  const dawn = (await importOptional('webgpu')) as Dawn;
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new SkippedRung('no WebGPU adapter (no Vulkan, Metal or D3D12 driver that Dawn accepts)');
  // GPUAdapterInfo's fields are prototype getters: a spread would copy none of them.
  const { vendor, architecture, description, isFallbackAdapter } = adapter.info;
  const described = describeAdapter({ vendor, architecture, description, isFallbackAdapter: isFallbackAdapter ?? adapter.isFallbackAdapter });
  if (described.software && !forced)
    throw new SkippedRung(`${backendLabel({ name: 'webgpu', adapter: described })} is a software adapter on the CPU, slower than wasm (choose backend webgpu to use it anyway)`);
  // tfjs-backend-webgpu registers itself on import when navigator.gpu exists, and asks it for the adapter again.
  Object.assign(globalThis, dawn.globals);
  Object.defineProperty(globalThis, 'navigator', { value: { ...globalThis.navigator, gpu }, configurable: true, writable: true });
  await import('@tensorflow/tfjs-backend-webgpu');
  return (await tf.setBackend('webgpu')) ? { gpu: !described.software, threads: 1, adapter: described } : null;
}

const LOADERS: Record<BackendName, Loader> = {
  'tfjs-node-gpu': async () => {
    await importOptional('@tensorflow/tfjs-node-gpu');
    return (await tf.setBackend('tensorflow')) ? { gpu: isUsingGpu(), threads: 0 } : null;
  },
  webgpu: loadWebGpu,
  'tfjs-node': async () => {
    await importOptional('@tensorflow/tfjs-node');
    return (await tf.setBackend('tensorflow')) ? { gpu: false, threads: 0 } : null;
  },
  wasm: async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    // tfjs disables wasm threads under Node; in a browser with cross-origin isolation it may use more.
    if (!(await tf.setBackend('wasm'))) return null;
    const matmul = matmulKernels();
    return { gpu: false, threads: 1, ...(matmul ? { matmul } : {}) };
  },
  cpu: async () => ((await tf.setBackend('cpu')) ? { gpu: false, threads: 1 } : null),
};

/** The tfjs backend a rung runs on (both native packages register 'tensorflow'). */
const TFJS_NAME: Record<BackendName, string> = { 'tfjs-node-gpu': 'tensorflow', webgpu: 'webgpu', 'tfjs-node': 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

let active: BackendInfo | null = null;
/** The first backend this process loaded: what runs asking for 'auto' get (the host's --backend, else the ladder's best). */
let processDefault: BackendInfo | null = null;
/** Each named request's outcome, so switching between a forced rung and the default does not walk the ladder again. */
const loadedFor = new Map<BackendName, BackendInfo>();

/**
 * Load the first working backend at or below `preferred` and make it active. Without `preferred`: this process's
 * default, i.e. the first backend it loaded, or the top of the ladder when it has loaded none.
 */
export async function initBackend(preferred?: BackendName): Promise<BackendInfo> {
  const start = preferred ? BACKEND_NAMES.indexOf(preferred) : 0;
  if (start < 0) throw new Error(`unknown backend ${JSON.stringify(preferred)}; choose one of ${BACKEND_NAMES.join(', ')}`);
  const known = preferred ? loadedFor.get(preferred) : processDefault;
  if (known) return activate(known);
  const notes: string[] = [];
  for (const name of BACKEND_NAMES.slice(start)) {
    try {
      const loaded = await LOADERS[name](name === preferred);
      if (loaded) {
        await tf.ready();
        if (name === 'tfjs-node-gpu' && !loaded.gpu) notes.push('tfjs-node-gpu loaded but found no usable CUDA GPU: running on the CPU');
        if (loaded.adapter?.software) notes.push(`webgpu runs on a software adapter (${loaded.adapter.description || loaded.adapter.architecture}): on the CPU, not a GPU`);
        const blas = nativeGemmDescription();
        if (name === 'wasm' && !blas.active && !/^GPT_LAB_BLAS=/.test(blas.text)) notes.push(`wasm's matmuls run on tfjs's own kernels, not the machine's BLAS: ${blas.text}`);
        const info: BackendInfo = { name, ...loaded, notes };
        if (preferred) loadedFor.set(preferred, info);
        processDefault ??= info;
        active = info;
        return info;
      }
      notes.push(`${name}: backend did not initialise`);
    } catch (error) {
      notes.push(`${name}: ${error instanceof SkippedRung ? error.message : firstLine(error)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be loaded:\n${notes.join('\n')}`);
}

/** The backend for a run's `backend` choice: 'auto' is this process's default (loading the ladder if none yet). */
export async function backendForRun(choice: BackendChoice = 'auto'): Promise<BackendInfo> {
  return initBackend(choice === 'auto' ? undefined : choice);
}

async function activate(info: BackendInfo): Promise<BackendInfo> {
  if (tf.getBackend() !== TFJS_NAME[info.name]) {
    if (!(await tf.setBackend(TFJS_NAME[info.name]))) throw new Error(`backend ${info.name} loaded earlier but no longer initialises`);
    await tf.ready();
  }
  active = info;
  return info;
}

export function activeBackend(): BackendInfo | null {
  return active;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].slice(0, 200);
}
