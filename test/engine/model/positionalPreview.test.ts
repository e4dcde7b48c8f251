/**
 * Each scheme's `preview` hook against values worked out by hand: the input tables at chosen positions, ALiBi's
 * slope × distance, the index grids of the relative schemes, RoPE's decay for two frequency pairs. No tfjs: the
 * hooks are pure.
 */
import { describe, expect, it } from 'vitest';
import { resolveSchemeOptions, requireScheme, SCHEMES } from '../../../src/engine/model/positional/registry';
import { ropeDecay } from '../../../src/engine/model/positional/rope';
import type { SchemePreviewParts } from '../../../src/engine/model/positional/types';

function preview(name: string, length: number, nEmbd: number, nHead: number, given: Record<string, number> = {}): SchemePreviewParts {
  const scheme = requireScheme(name);
  return scheme.preview!({ length, nEmbd, nHead }, resolveSchemeOptions(name, given));
}

/** Row `r` of a flat row-major (…, width) array. */
function row(data: ArrayLike<number>, width: number, r: number): number[] {
  return Array.from({ length: width }, (_, c) => data[r * width + c]);
}

function dot(a: number[], b: number[]): number {
  return a.reduce((sum, x, i) => sum + x * b[i], 0);
}

describe('which schemes preview what', () => {
  it('input schemes draw a table, ALiBi and Sandwich a bias, the relative schemes an index grid, RoPE a decay; learned, KERPLE, xPos, FIRE, CoPE and none draw nothing from their definition', () => {
    const drawn = Object.fromEntries(SCHEMES.map((s) => [s.name, s.preview ? Object.keys(s.preview({ length: 4, nEmbd: 8, nHead: 2 }, resolveSchemeOptions(s.name))).join() : '—']));
    expect(drawn).toMatchObject({
      none: '—',
      integer: 'table',
      binary: 'table',
      sinusoidal: 'table',
      learned: '—',
      rope: 'decay',
      t5: 'buckets',
      alibi: 'bias',
      'integer-norm': 'table',
      sine: 'table',
      shaw: 'buckets',
      'transformer-xl': 'buckets',
      deberta: 'buckets',
      xpos: '—',
      kerple: '—',
      fire: '—',
      sandwich: 'bias',
      cope: '—',
    });
  });
});

describe('input tables', () => {
  it('sinusoidal: PE[1] = (sin 1, cos 1, sin 0.01, cos 0.01) at C = 4, and PE[t]·PE[t+k] = cos k + cos(k/100) for every t', () => {
    const { table } = preview('sinusoidal', 8, 4, 1);
    const expected = [Math.sin(1), Math.cos(1), Math.sin(0.01), Math.cos(0.01)];
    row(table!, 4, 1).forEach((x, c) => expect(x).toBeCloseTo(expected[c], 6));
    for (const t of [0, 2, 4]) expect(dot(row(table!, 4, t), row(table!, 4, t + 3))).toBeCloseTo(Math.cos(3) + Math.cos(0.03), 5);
  });

  it('sinusoidal scales with its knob', () => {
    expect(preview('sinusoidal', 2, 2, 1, { scale: 0.5 }).table![3]).toBeCloseTo(0.5 * Math.cos(1), 6);
  });

  it('binary: position 5 = 101₂ is (+s, −s, +s), least significant bit first', () => {
    expect(row(preview('binary', 6, 3, 1, { scale: 2 }).table!, 3, 5)).toEqual([2, -2, 2]);
  });

  it('integer: position 3 at scale 0.5 is 1.5 on every dimension', () => {
    expect(row(preview('integer', 4, 3, 1, { scale: 0.5 }).table!, 3, 3)).toEqual([1.5, 1.5, 1.5]);
  });

  it('integer-norm: position 2 of 4 is 2/4 on every dimension', () => {
    expect(row(preview('integer-norm', 4, 2, 1).table!, 2, 2)).toEqual([0.5, 0.5]);
  });

  it('sine: position 0 is −sin(π/2), −sin(π/4) on dimensions 0, 1', () => {
    const first = row(preview('sine', 2, 2, 1).table!, 2, 0);
    expect(first[0]).toBeCloseTo(-1, 6);
    expect(first[1]).toBeCloseTo(-Math.SQRT1_2, 6);
  });
});

describe('ALiBi bias = −slope × (i − j)', () => {
  it('two heads have slopes 1/16 and 1/256', () => {
    const { bias } = preview('alibi', 4, 8, 2);
    const at = (h: number, i: number, j: number) => bias![(h * 4 + i) * 4 + j];
    expect(at(0, 3, 0)).toBeCloseTo(-3 / 16, 10);
    expect(at(1, 3, 1)).toBeCloseTo(-2 / 256, 10);
    expect(at(0, 0, 2)).toBeCloseTo(2 / 16, 10); // above the diagonal; the causal mask hides it
    expect(at(1, 2, 2)).toBe(-0);
  });

  it('three heads: 1/16, 1/256, then 1/4 interleaved from the 4-head slopes (official rule)', () => {
    const { bias } = preview('alibi', 2, 6, 3);
    expect([0, 1, 2].map((h) => -bias![(h * 2 + 1) * 2 + 0])).toEqual([1 / 16, 1 / 256, 1 / 4].map(Math.fround));
  });
});

describe('index grids of the relative schemes', () => {
  it('t5 (4 buckets, max distance 8): query 5 reads buckets 3 3 2 2 1 0 for keys 0…5, future keys bucket 0', () => {
    // n < 2 exact; n = 2, 3: 2 + ⌊2·log(n/2)/log 4⌋ = 2; n = 4, 5: 3.
    expect(row(preview('t5', 7, 8, 2, { buckets: 4, maxDistance: 8 }).buckets!, 7, 5)).toEqual([3, 3, 2, 2, 1, 0, 0]);
  });

  it('shaw (k = 2): slot clip(j − i, −2, 2) + 2', () => {
    const { buckets } = preview('shaw', 5, 8, 2, { maxDistance: 2 });
    expect(row(buckets!, 5, 0)).toEqual([2, 3, 4, 4, 4]);
    expect(row(buckets!, 5, 4)).toEqual([0, 0, 0, 1, 2]);
  });

  it('deberta (k = 2): δ = clip(i − j, −2, 1) + 2', () => {
    const { buckets } = preview('deberta', 5, 8, 2, { maxDistance: 2 });
    expect(row(buckets!, 5, 0)).toEqual([2, 1, 0, 0, 0]);
    expect(row(buckets!, 5, 4)).toEqual([3, 3, 3, 3, 2]);
  });

  it('transformer-xl: slot i − j + T − 1', () => {
    const { buckets } = preview('transformer-xl', 3, 8, 2);
    expect(row(buckets!, 3, 0)).toEqual([2, 1, 0]);
    expect(row(buckets!, 3, 2)).toEqual([4, 3, 2]);
  });
});

describe('RoPE decay', () => {
  it('head size 4, base 100 (θ = 1, 100^(−1/2) = 1/10): ones score (cos r + cos(r/10))/2, bound (1 + 2|cos((r − r/10)/2)|)/2', () => {
    const { decay } = preview('rope', 4, 4, 1, { base: 100 });
    expect(decay!.distance).toEqual(Array.from({ length: 33 }, (_, r) => r)); // 8 × length
    for (const r of [0, 1, 7, 32]) {
      expect(decay!.onesScore[r]).toBeCloseTo((Math.cos(r) + Math.cos(r / 10)) / 2, 12);
      expect(decay!.bound[r]).toBeCloseTo((1 + 2 * Math.abs(Math.cos((r - r / 10) / 2))) / 2, 12);
    }
  });

  it('an odd head size previews the nearest even one below; the distance stops at 4096', () => {
    expect(preview('rope', 4, 5, 1)).toEqual(preview('rope', 4, 4, 1));
    expect(preview('rope', 4, 3, 2)).toEqual(preview('rope', 4, 2, 1));
    expect(preview('rope', 512, 8, 1).decay!.distance).toHaveLength(4097);
  });

  it('ropeDecay: 1 at distance 0, the bound decays at long range', () => {
    const { bound, onesScore } = ropeDecay(32, 10000, 256);
    expect(onesScore[0]).toBeCloseTo(1, 12);
    expect(bound[0]).toBeCloseTo((16 + 1) / 2, 12); // |S_j| = j at r = 0, averaged over j = 1…16
    const early = bound.slice(1, 9).reduce((a, b) => a + b, 0) / 8;
    const late = bound.slice(200, 256).reduce((a, b) => a + b, 0) / 56;
    expect(late).toBeLessThan(early / 2);
  });
});
