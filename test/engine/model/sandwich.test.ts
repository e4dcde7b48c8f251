/** Sandwich: the dot product of sinusoidal embeddings, shifted and scaled per head, by hand and against the table. */
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../../src/engine/config';
import { sandwichBias } from '../../../src/engine/model/positional/sandwich';
import { sinusoidalTable } from '../../../src/engine/model/positional/sinusoidal';

describe('Sandwich', () => {
  it('is (cos(i − j) − 1)/(8h/H) with one sinusoid pair (hand values)', () => {
    const T = 4;
    const bias = sandwichBias(T, 2, 2); // d̄ = 2: p_m·p_n = cos(m − n); head 1 divides by 4, head 2 by 8
    expect(bias[3 * T + 1]).toBeCloseTo((Math.cos(2) - 1) / 4, 6);
    expect(bias[3 * T + 1]).toBeCloseTo(-0.354037, 6);
    expect(bias[T * T + 3 * T + 1]).toBeCloseTo(-0.177018, 6);
    expect(bias[T * T + 2 * T + 2]).toBeCloseTo(0, 6);
  });

  it('equals p_i·p_j − d̄/2 of the sinusoidal table, divided by 8h/H per head', () => {
    const [T, H, dim] = [10, 3, 16];
    const pe = sinusoidalTable(T, dim);
    const bias = sandwichBias(T, H, dim);
    for (let h = 0; h < H; h++)
      for (let i = 0; i < T; i++)
        for (let j = 0; j < T; j++) {
          let dot = 0;
          for (let c = 0; c < dim; c++) dot += pe[i * dim + c]! * pe[j * dim + c]!;
          expect(bias[(h * T + i) * T + j], `h${h} ${i},${j}`).toBeCloseTo((dot - dim / 2) / ((8 * (h + 1)) / H), 4);
        }
  });

  it('costs nothing at distance 0 and something at every other distance, less in the later heads', () => {
    const [T, H] = [40, 4];
    const bias = sandwichBias(T, H, 128);
    for (let h = 0; h < H; h++)
      for (let d = 1; d < T; d++) {
        expect(bias[(h * T + d) * T]).toBeLessThan(0);
        if (h > 0) expect(bias[(h * T + d) * T]).toBeGreaterThan(bias[((h - 1) * T + d) * T]!);
      }
  });

  it('refuses an odd sinusoid dimension, naming the knob', () => {
    expect(() => resolveConfig({ pos: 'sandwich', posOptions: { dim: 7 } })).toThrow(ConfigError);
    expect(() => resolveConfig({ pos: 'sandwich', posOptions: { dim: 7 } })).toThrow(/posOptions\.dim: must be even/);
  });
});
