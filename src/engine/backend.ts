/**
 * The backend ladder: tfjs-node-gpu → tfjs-node → wasm → cpu, first that loads wins. Detection reports what is
 * actually running, including a tfjs-node-gpu that loaded but found no CUDA device and silently uses the CPU.
 */
import * as tf from '@tensorflow/tfjs';

export const BACKEND_NAMES = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  name: BackendName;
  /** True only when kernels really run on a GPU. */
  gpu: boolean;
  threads: number;
  /** Why higher rungs of the ladder were skipped, for the UI and --json output. */
  notes: string[];
}

type Loader = () => Promise<{ gpu: boolean; threads: number } | null>;

/** Dynamic specifier so bundlers and TypeScript leave the optional native packages alone. */
async function importOptional(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ specifier);
}

function isUsingGpu(): boolean {
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  return backend.isUsingGpuDevice === true;
}

const LOADERS: Record<BackendName, Loader> = {
  'tfjs-node-gpu': async () => {
    await importOptional('@tensorflow/tfjs-node-gpu');
    return (await tf.setBackend('tensorflow')) ? { gpu: isUsingGpu(), threads: 0 } : null;
  },
  'tfjs-node': async () => {
    await importOptional('@tensorflow/tfjs-node');
    return (await tf.setBackend('tensorflow')) ? { gpu: false, threads: 0 } : null;
  },
  wasm: async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    // tfjs disables wasm threads under Node; in a browser with cross-origin isolation it may use more.
    return (await tf.setBackend('wasm')) ? { gpu: false, threads: 1 } : null;
  },
  cpu: async () => ((await tf.setBackend('cpu')) ? { gpu: false, threads: 1 } : null),
};

let active: BackendInfo | null = null;

/** Load the first working backend at or below `preferred` (default: the top of the ladder). */
export async function initBackend(preferred?: BackendName): Promise<BackendInfo> {
  if (active && (!preferred || active.name === preferred)) return active;
  const start = preferred ? BACKEND_NAMES.indexOf(preferred) : 0;
  if (start < 0) throw new Error(`unknown backend ${JSON.stringify(preferred)}; choose one of ${BACKEND_NAMES.join(', ')}`);
  const notes: string[] = [];
  for (const name of BACKEND_NAMES.slice(start)) {
    try {
      const loaded = await LOADERS[name]();
      if (loaded) {
        await tf.ready();
        if (name === 'tfjs-node-gpu' && !loaded.gpu) notes.push('tfjs-node-gpu loaded but found no usable CUDA GPU: running on the CPU');
        active = { name, ...loaded, notes };
        return active;
      }
      notes.push(`${name}: backend did not initialise`);
    } catch (error) {
      notes.push(`${name}: ${firstLine(error)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be loaded:\n${notes.join('\n')}`);
}

export function activeBackend(): BackendInfo | null {
  return active;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].slice(0, 200);
}
