/** The rungs of the backend ladder, best first, what a run may ask for, and a backend's label; free of tfjs, so config and the renderer can import it. */
export const BACKEND_NAMES = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
/** A rung by name (that rung, else the first working one below it), or 'auto': the process's default. */
export const BACKEND_CHOICES = ['auto', ...BACKEND_NAMES] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** What the badge and the CLI print: `webgpu · nvidia · ampere`, `wasm`, `wasm · OpenBLAS 0.3.21 Haswell`. */
export function backendLabel(info: { name: BackendName; adapter?: { vendor: string; architecture: string; description: string }; matmul?: string }): string {
  const a = info.adapter;
  if (!a) return info.matmul ? `${info.name} · ${info.matmul}` : info.name;
  return [info.name, a.vendor || a.description || 'unknown adapter', a.architecture].filter(Boolean).join(' · ');
}
