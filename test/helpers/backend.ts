import { beforeAll } from 'vitest';
import { initBackend } from '../../src/engine/backend';

/** Every engine test runs on wasm: the backend CI machines have and users get when no native package loads. */
export function useWasmBackend(): void {
  beforeAll(async () => {
    await initBackend('wasm');
  });
}
