/**
 * The backend ladder's decisions, with Dawn replaced by stand-ins: a software WebGPU adapter is never called a GPU
 * and is skipped unless asked for by name; a missing `webgpu` package or no adapter falls through with a note.
 * (test/engine/webgpu.test.ts runs the real Dawn on SwiftShader.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { backendLabel, describeAdapter } from '../../src/engine/backend';

const NVIDIA = { vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA GeForce RTX 3060' };
const SWIFTSHADER = { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' };

describe('describeAdapter', () => {
  it('calls SwiftShader, llvmpipe, WARP, a fallback adapter and a "cpu" adapter type software, a real GPU not', () => {
    expect(describeAdapter(NVIDIA).software).toBe(false);
    expect(describeAdapter({ vendor: 'apple', architecture: 'metal-3', description: 'Apple M2' }).software).toBe(false);
    expect(describeAdapter(SWIFTSHADER).software).toBe(true);
    expect(describeAdapter({ vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }).software).toBe(true);
    expect(describeAdapter({ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' }).software).toBe(true);
    expect(describeAdapter({ ...NVIDIA, isFallbackAdapter: true }).software).toBe(true);
    expect(describeAdapter({ ...NVIDIA, adapterType: 'cpu' }).software).toBe(true);
    expect(describeAdapter({})).toEqual({ vendor: '', architecture: '', description: '', software: false });
  });

  it('labels a backend with the adapter it runs on', () => {
    expect(backendLabel({ name: 'wasm' })).toBe('wasm');
    expect(backendLabel({ name: 'webgpu', adapter: describeAdapter(NVIDIA) })).toBe('webgpu · nvidia · ampere');
    expect(backendLabel({ name: 'webgpu', adapter: describeAdapter({ description: 'Some GPU' }) })).toBe('webgpu · Some GPU');
  });
});

/** A fresh backend module (its process default unset) that sees `webgpu` as `dawn` describes it. */
async function ladderWith(dawn: (() => object) | 'missing') {
  vi.resetModules();
  vi.doMock('webgpu', () => {
    if (dawn === 'missing') throw new Error("Cannot find package 'webgpu' imported from backend.ts");
    return dawn();
  });
  return import('../../src/engine/backend');
}

/** Dawn whose only adapter is `info` (or none). */
function fakeDawn(info: object | null) {
  return () => ({ create: () => ({ requestAdapter: async () => (info ? { info } : null) }), globals: {} });
}

describe('the ladder around webgpu (Dawn stood in for)', () => {
  afterEach(() => {
    vi.doUnmock('webgpu');
  });

  it('when the webgpu package does not load: wasm, and a note on the webgpu rung', async () => {
    const { initBackend } = await ladderWith('missing');
    const info = await initBackend();
    expect(info.name).toBe('wasm');
    expect(info.adapter).toBeUndefined();
    // vitest wraps the import error in its own message; outside vitest it is Node's "Cannot find package 'webgpu'".
    expect(info.notes.filter((n) => n.startsWith('webgpu: '))).toHaveLength(1);
  });

  it('without an adapter: wasm, and a note saying no adapter was found; asked for by name, the same', async () => {
    const { initBackend } = await ladderWith(fakeDawn(null));
    const auto = await initBackend();
    expect(auto.name).toBe('wasm');
    expect(auto.notes).toContain('webgpu: no WebGPU adapter (no Vulkan, Metal or D3D12 driver that Dawn accepts)');
    const forced = await initBackend('webgpu');
    expect(forced.name).toBe('wasm');
    expect(forced.notes[0]).toMatch(/^webgpu: no WebGPU adapter/);
  });

  it('skips a software adapter on the automatic ladder, saying which and how to force it', async () => {
    const { initBackend } = await ladderWith(fakeDawn(SWIFTSHADER));
    const info = await initBackend();
    expect(info.name).toBe('wasm');
    expect(info.gpu).toBe(false);
    expect(info.notes).toContain(
      'webgpu: webgpu · google · swiftshader is a software adapter on the CPU, slower than wasm (choose backend webgpu to use it anyway)',
    );
  });

  it("'auto' runs get the process default; a forced rung is remembered and switching back restores the default", async () => {
    const { initBackend, backendForRun, activeBackend } = await ladderWith('missing');
    const tf = await import('@tensorflow/tfjs');
    const first = await backendForRun('auto');
    expect(first.name).toBe('wasm');
    const cpu = await backendForRun('cpu');
    expect([cpu.name, tf.getBackend(), activeBackend()]).toEqual(['cpu', 'cpu', cpu]);
    expect(await backendForRun('auto')).toBe(first);
    expect(tf.getBackend()).toBe('wasm');
    expect(await initBackend('cpu')).toBe(cpu);
    await expect(initBackend('cuda' as never)).rejects.toThrow(/unknown backend "cuda"; choose one of tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu/);
  });
});
