/**
 * The preview endpoint over the schemes' hooks: rows laid out from the flat parts, knob defaults filled in, the
 * bounds on what one request may return, the size contract a hook must keep, and every registered scheme's preview
 * passing the contract's schema (so a new scheme with a preview hook is checked without touching this file).
 */
import { describe, expect, it } from 'vitest';
import { SCHEMES } from '../../src/engine/model/positional/registry';
import type { PositionalScheme } from '../../src/engine/model/positional/types';
import { previewOf, schemePreview } from '../../src/lab/schemePreview';
import { LabError, schemePreviewSchema } from '../../src/shared/api';

describe('schemePreview', () => {
  it('lays ALiBi out per head as (query, key) rows: bias[h][i][j] = −slope_h·(i − j)', () => {
    const { bias, table, buckets, decay, hook } = schemePreview({ pos: 'alibi', length: 4, nEmbd: 8, nHead: 2 });
    expect(hook).toBe('bias');
    expect(bias).toHaveLength(2);
    expect(bias![0][3]).toEqual([-3, -2, -1, -0].map((d) => d / 16));
    expect(bias![1][3][0]).toBeCloseTo(-3 / 256, 10);
    expect([table, buckets, decay]).toEqual([null, null, null]);
  });

  it('lays an input table out as (position, dimension) rows', () => {
    const { table } = schemePreview({ pos: 'binary', length: 4, nEmbd: 2, nHead: 1, posOptions: { scale: 1 } });
    expect(table).toEqual([
      [-1, -1],
      [1, -1],
      [-1, 1],
      [1, 1],
    ]);
  });

  it('fills knob defaults: t5 without options uses 32 buckets (16 exact), with options the given ones', () => {
    expect(schemePreview({ pos: 't5', length: 20, nEmbd: 8, nHead: 2 }).buckets![19][0]).toBe(17); // 16 + ⌊16·log(19/16)/log 8⌋ = 16 + ⌊1.32⌋
    expect(schemePreview({ pos: 't5', length: 7, nEmbd: 8, nHead: 2, posOptions: { buckets: 4, maxDistance: 8 } }).buckets![5]).toEqual([3, 3, 2, 2, 1, 0, 0]);
  });

  it('draws Sandwich per head from its sinusoid dimension: (cos(i − j) − 1)/(8h/H) at d̄ = 2', () => {
    const { bias } = schemePreview({ pos: 'sandwich', length: 3, nEmbd: 8, nHead: 2, posOptions: { dim: 2 } });
    expect(bias![0]![2]![0]).toBeCloseTo((Math.cos(2) - 1) / 4, 6);
    expect(bias![1]![2]![1]).toBeCloseTo((Math.cos(1) - 1) / 8, 6);
    expect(schemePreview({ pos: 'sandwich', length: 3, nEmbd: 8, nHead: 2 }).bias![0]![1]![0]).not.toBeCloseTo((Math.cos(1) - 1) / 4, 3); // default d̄ = 128
  });

  it('a scheme without a preview hook gets its hook explained and nothing drawn', () => {
    const learned = schemePreview({ pos: 'learned', length: 4, nEmbd: 8, nHead: 2 });
    expect(learned).toEqual({ scheme: 'learned', hook: 'input', explanation: expect.stringContaining('table is added'), table: null, bias: null, buckets: null, decay: null });
  });

  it('refuses an unknown scheme and a request past the number limit as invalid requests, naming what is wrong', () => {
    const refusal = (call: () => unknown) => {
      try {
        call();
      } catch (error) {
        return error;
      }
      throw new Error('expected a refusal');
    };
    const unknown = refusal(() => schemePreview({ pos: 'bogus', length: 4, nEmbd: 8, nHead: 2 })) as LabError;
    expect(unknown).toBeInstanceOf(LabError);
    expect(unknown.code).toBe('invalid-request');
    expect(unknown.message).toMatch(/"bogus".*alibi/);
    const huge = refusal(() => schemePreview({ pos: 'alibi', length: 512, nEmbd: 512, nHead: 64 })) as LabError;
    expect(huge.code).toBe('invalid-request');
    expect(huge.message).toMatch(/length 512, width 512 and 64 heads would return 17,039,360 numbers; at most 1,048,576/);
  });

  it('checks the bound before running the hook: 256·256 + 15·256² = 2^20 numbers pass, one more column does not', () => {
    let calls = 0;
    const spy: PositionalScheme = { ...SCHEMES[0], name: 'spy', preview: () => (calls++, {}) };
    expect(previewOf(spy, { length: 256, nEmbd: 256, nHead: 15 }, {}).scheme).toBe('spy');
    expect(() => previewOf(spy, { length: 256, nEmbd: 257, nHead: 15 }, {})).toThrow(/would return 1,048,832 numbers; at most 1,048,576/);
    expect(calls).toBe(1);
  });

  it('a hook that breaks its size contract is named as the culprit', () => {
    const shape = { length: 3, nEmbd: 4, nHead: 2 };
    const broken = (parts: ReturnType<NonNullable<PositionalScheme['preview']>>): PositionalScheme => ({ ...SCHEMES[0], name: 'broken', preview: () => parts });
    expect(() => previewOf(broken({ table: new Float32Array(11) }), shape, {})).toThrow("scheme broken's preview returned 11 numbers for table; its contract (SchemePreviewParts in positional/types.ts) says 12");
    expect(() => previewOf(broken({ bias: new Float32Array(9) }), shape, {})).toThrow(/for bias; .* says 18/);
    expect(() => previewOf(broken({ buckets: new Int32Array(10) }), shape, {})).toThrow(/for buckets; .* says 9/);
    const decay = (n: number, m = n) => ({ distance: Array(n).fill(0), bound: Array(m).fill(0), onesScore: Array(n).fill(0) });
    expect(() => previewOf(broken({ decay: decay(26) }), shape, {})).toThrow(/for decay.distance; .* says at most 25/);
    expect(() => previewOf(broken({ decay: decay(5, 4) }), shape, {})).toThrow(/for decay.bound; .* says 5/);
    expect(previewOf(broken({ decay: decay(25) }), shape, {}).decay!.distance).toHaveLength(25);
  });

  it('every registered scheme previews within the contract schema at 64 positions × 512 wide × 64 heads', () => {
    for (const scheme of SCHEMES) {
      const preview = schemePreview({ pos: scheme.name, length: 64, nEmbd: 512, nHead: 64 });
      expect(schemePreviewSchema.parse(preview)).toEqual(preview);
      expect(preview.scheme).toBe(scheme.name);
    }
  });
});
