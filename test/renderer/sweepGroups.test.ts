import { describe, expect, it } from 'vitest';
import { sweepGroupKey } from '../../src/renderer/composables/sweepGroups';
import type { RunInfo } from '../../src/shared/api';

const config = (patch: Record<string, unknown>) => ({ data: 'builtin:copy', nLayer: 1, steps: 40, pos: 'none', norm: 'pre', dropoutEmbd: 0, dropoutAttn: 0, dropoutResid: 0, posOptions: {}, ...patch }) as unknown as RunInfo['config'];

describe('sweepGroupKey', () => {
  it("keeps the view's own sweep key and leaves runs outside sweeps out", () => {
    expect(sweepGroupKey({ sweepKey: 'sweep-abc', config: config({}) })).toBe('sweep-abc');
    expect(sweepGroupKey({ sweepKey: null, config: config({}) })).toBeNull();
    expect(sweepGroupKey({ sweepKey: 'recipe:x:1', config: config({}) })).toBeNull();
  });

  it('puts the cells of a grid together (wherever they trained), and apart from another grid', () => {
    const cell = (patch: Record<string, unknown>) => sweepGroupKey({ sweepKey: 'sweep:1234', config: config(patch) })!;
    const key = cell({});
    expect([cell({ pos: 'rope', posOptions: { base: 100 } }), cell({ norm: 'post' }), cell({ dropoutEmbd: 0.1, dropoutAttn: 0.1, dropoutResid: 0.1 }), cell({ threads: 2, backend: 'webgpu' })]).toEqual([key, key, key, key]);
    expect(cell({ steps: 41 })).not.toBe(key);
    expect(cell({ nLayer: 2 })).not.toBe(key);
  });
});
