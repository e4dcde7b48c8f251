/**
 * Chromium's SwiftShader as the Vulkan driver, so Dawn (npm `webgpu`) finds an adapter on machines without a GPU.
 * It runs on the CPU (~100× slower than wasm): the webgpu tests prove correctness on it, never speed.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** The environment Dawn needs to pick SwiftShader, or why it cannot (for a test's skip reason). */
export function swiftShaderEnv(): { env: Record<string, string> } | { skip: string } {
  if (!existsSync(SWIFTSHADER_ICD)) return { skip: `${SWIFTSHADER_ICD} is absent (Debian's chromium package provides it)` };
  return { env: { VK_ICD_FILENAMES: SWIFTSHADER_ICD, XDG_RUNTIME_DIR: mkdtempSync(join(tmpdir(), 'gpt-lab-xdg-')) } };
}

/** Points this process's Vulkan loader at SwiftShader (before the first Dawn instance); returns a skip reason or null. */
export function useSwiftShader(): string | null {
  const found = swiftShaderEnv();
  if ('skip' in found) return found.skip;
  Object.assign(process.env, found.env);
  return null;
}
