/**
 * Randomized positions (Ruoss et al. 2023): the draws themselves, every scheme that reads positions evaluated at a
 * drawn grid against its plain table, the model keyed like dropout (thread count free), and the refusals.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig, validateConfig } from '../../../src/engine/config';
import { GPT } from '../../../src/engine/model/gpt';
import { SCHEMES, requireScheme, resolveSchemeOptions } from '../../../src/engine/model/positional/registry';
import type { Params, SchemeContext } from '../../../src/engine/model/positional/types';
import { EVALUATION_POSITIONS_KEY, drawPositions, schemesReadingPositions } from '../../../src/engine/model/randomPositions';
import { createRng } from '../../../src/engine/rng';
import { useWasmBackend } from '../../helpers/backend';
import { buildModel, gaussian, logitsOf, maxAbsDiff } from '../../helpers/model';

useWasmBackend();

const key = { seed: 7, step: 3, firstRow: 0 };
/** Row b of a (B, T) position grid. */
const positionRow = (positions: Int32Array, T: number, b: number): Int32Array => positions.subarray(b * T, (b + 1) * T);

describe('drawPositions', () => {
  it('draws sorted, distinct positions inside [0, L), row after row', () => {
    const T = 16;
    const grid = drawPositions(50, T, 100, key);
    for (let b = 0; b < 50; b++) {
      const positions = Array.from(positionRow(grid, T, b));
      expect(positions.every((p, i) => p >= 0 && p < 100 && (i === 0 || p > positions[i - 1]!))).toBe(true);
    }
  });

  it('takes every position when T = L, and a single row of [0, 3) from three is 0, 1, 2', () => {
    expect(Array.from(drawPositions(2, 3, 3, key))).toEqual([0, 1, 2, 0, 1, 2]);
    expect(Array.from(drawPositions(1, 8, 8, { seed: 1, step: 1, firstRow: 5 }))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('is uniform: over 4000 rows each of 10 positions is picked about T/L = 30 % of the time', () => {
    const grid = drawPositions(4000, 3, 10, key);
    const counts = new Array(10).fill(0);
    for (const p of grid) counts[p]++;
    // Binomial(4000, 0.3): std 29; 6 std either side of 1200.
    for (const c of counts) expect(Math.abs(c - 1200)).toBeLessThan(175);
  });

  it('is reproducible and keyed by (seed, step, global row): row b of a 4-row draw is row 0 of a draw from row b', () => {
    const T = 5;
    const whole = drawPositions(4, T, 64, key);
    expect(drawPositions(4, T, 64, key)).toEqual(whole);
    for (let b = 0; b < 4; b++) expect(drawPositions(1, T, 64, { ...key, firstRow: b })).toEqual(positionRow(whole, T, b));
    for (const other of [{ ...key, seed: 8 }, { ...key, step: 4 }]) expect(drawPositions(4, T, 64, other)).not.toEqual(whole);
  });

  it('refuses more positions than the range holds', () => {
    expect(() => drawPositions(1, 9, 8, key)).toThrow('cannot draw 9 distinct positions from [0, 8)');
  });
});

describe('schemes given positions [0, 2, 5] equal their plain values at those indices', () => {
  const [C, nh, T] = [8, 2, 6];
  const picked = [0, 2, 5];
  const grid = Int32Array.from([0, 2, 5, 1, 3, 4]); // two rows
  const rowsOf = (b: number): number[] => Array.from(grid.subarray(b * 3, b * 3 + 3));

  function paramsOf(name: string, ctx: SchemeContext): Params {
    const rng = createRng(3);
    const params: Params = {};
    for (const spec of requireScheme(name).params?.(ctx) ?? [])
      params[spec.name] = tf.tensor(Array.from({ length: spec.shape.reduce((a, b) => a * b, 1) }, () => 0.5 * gaussian(rng)), spec.shape);
    return params;
  }
  const ctxOf = (name: string, extra: Partial<SchemeContext> = {}): SchemeContext => ({
    nEmbd: C, nHead: nh, nLayer: 1, blockSize: 8, headDim: C / nh, options: resolveSchemeOptions(name), ...extra,
  });

  for (const name of schemesReadingPositions()) {
    const scheme = requireScheme(name);
    it(`${name} (${scheme.hook} hook), two rows with their own positions`, () => {
      // learned's table covers the randomized range: rows 0…L−1, L = 8 here.
      const ctx = ctxOf(name, name === 'learned' ? { randomPositions: 8 } : {});
      tf.tidy(() => {
        const params = paramsOf(name, ctx);
        if (scheme.hook === 'input') {
          const plain = scheme.inputTable!(T, { ...ctx, randomPositions: undefined, blockSize: 8 }, params).arraySync() as number[][];
          const drawn = scheme.inputTable!(3, ctx, params, grid).arraySync() as number[][][];
          expect(drawn.length).toBe(2);
          for (const b of [0, 1]) expect(drawn[b]).toEqual(rowsOf(b).map((p) => plain[p]));
        } else if (scheme.hook === 'bias') {
          const plain = scheme.logitBias!(T, ctx, params).arraySync() as number[][][];
          const drawn = scheme.logitBias!(3, ctx, params, grid).arraySync() as number[][][][];
          for (const b of [0, 1])
            for (let h = 0; h < nh; h++) expect(drawn[b]![h]).toEqual(rowsOf(b).map((i) => rowsOf(b).map((j) => plain[h]![i]![j])));
        } else {
          // rotate: q, k at T = 6 rotated plainly, then rows 0, 2, 5 picked == those rows rotated at positions 0, 2, 5.
          const rng = createRng(9);
          const full = tf.tensor4d(Array.from({ length: nh * T * (C / nh) }, () => gaussian(rng)), [1, nh, T, C / nh]);
          const [q, k] = scheme.rotate!(full, full, ctx);
          const pickedRows = (x: tf.Tensor4D): tf.Tensor4D => tf.gather(x, picked, 2) as tf.Tensor4D;
          const subset = pickedRows(full);
          const [q2, k2] = scheme.rotate!(tf.concat([subset, subset]) as tf.Tensor4D, tf.concat([subset, subset]) as tf.Tensor4D, ctx, Int32Array.from([0, 2, 5, 0, 2, 5]));
          expect(maxAbsDiff(q2.slice([0], [1]).dataSync(), pickedRows(q).dataSync())).toBeLessThan(1e-6);
          expect(maxAbsDiff(k2.slice([1], [1]).dataSync(), pickedRows(k).dataSync())).toBeLessThan(1e-6);
        }
      });
    });
  }

  it('covers the input, rotate and bias schemes of the core set', () => {
    expect(schemesReadingPositions()).toEqual(expect.arrayContaining(['sinusoidal', 'learned', 'integer', 'binary', 'rope', 'alibi', 't5', 'kerple']));
  });
});

describe('GPT with randomized positions', () => {
  const tokens = [[1, 2, 3, 4, 5, 6, 7, 8], [8, 7, 6, 5, 4, 3, 2, 1], [3, 3, 3, 3, 1, 1, 1, 1], [2, 4, 6, 8, 10, 1, 3, 5]];

  it('draws per row from the training key: a 4-row batch equals its two 2-row halves (any thread split)', () => {
    const model = buildModel({ pos: 'rope', blockSize: 8, randomPositions: 64 });
    const train = { seed: 5, step: 2, firstRow: 0 };
    const whole = logitsOf(model, tokens, { dropout: train });
    const halves = [...logitsOf(model, tokens.slice(0, 2), { dropout: train }), ...logitsOf(model, tokens.slice(2), { dropout: { ...train, firstRow: 2 } })];
    expect(maxAbsDiff(whole, halves)).toBeLessThan(1e-5);
    expect(maxAbsDiff(whole, logitsOf(model, tokens, { dropout: { ...train, step: 3 } }))).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('evaluates at positions drawn from the fixed evaluation key, the same every call', () => {
    const model = buildModel({ pos: 'sinusoidal', blockSize: 8, randomPositions: 64 });
    const evaluated = logitsOf(model, tokens);
    expect(logitsOf(model, tokens)).toEqual(evaluated);
    expect(logitsOf(model, tokens, { dropout: EVALUATION_POSITIONS_KEY })).toEqual(evaluated);
    model.dispose();
  });

  it('reads drawn positions: a rope model differs from the same weights at 0…T−1, and is defined up to L only', () => {
    const drawn = buildModel({ pos: 'rope', blockSize: 8, randomPositions: 16 });
    const plain = buildModel({ pos: 'rope', blockSize: 8 });
    expect(maxAbsDiff(logitsOf(drawn, tokens), logitsOf(plain, tokens))).toBeGreaterThan(1e-3);
    expect(drawn.maxLength).toBe(16);
    drawn.dispose();
    plain.dispose();
  });

  it('gives learned a table of L rows, and leaves no tensors behind', () => {
    const model = new GPT({ ...buildModel({ pos: 'learned' }).cfg, randomPositions: 40 }, 1);
    expect(model.layout.find((p) => p.name === 'pos.wpe')!.shape).toEqual([40, 16]);
    const before = tf.memory().numTensors;
    logitsOf(model, tokens, { dropout: key });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('refuses a scheme that does not read positions', () => {
    expect(() => buildModel({ pos: 'shaw', randomPositions: 64 })).toThrow(/random positions need a scheme that reads positions \(.*rope.*\); shaw computes its terms from positions 0…T−1 only/);
  });
});

describe('config', () => {
  it('off is absent: 0 resolves to the config without the field, so sweep keys and stored runs are unchanged', () => {
    const off = resolveConfig({ pos: 'rope', randomPositions: 0 }, 2);
    expect(off).toEqual(resolveConfig({ pos: 'rope' }, 2));
    expect('randomPositions' in off).toBe(false);
    expect(resolveConfig({ pos: 'rope', blockSize: 16, randomPositions: 256 }, 2).randomPositions).toBe(256);
  });

  it('names the field for a range below the block, a fraction, and a scheme without positions', () => {
    const problems = (overrides: Record<string, unknown>) => validateConfig({ ...resolveConfig({}, 2), ...overrides });
    expect(problems({ blockSize: 64, randomPositions: 32 })).toEqual([
      { field: 'randomPositions', message: 'must be at least blockSize (64): each sequence draws blockSize distinct positions below it, got 32' },
    ]);
    expect(problems({ randomPositions: 100.5 })[0]!.message).toBe('must be an integer in [0, 65536], got 100.5');
    expect(problems({ pos: 'none', randomPositions: 512 })[0]!.message).toMatch(/none has no positions to randomize$/);
    expect(() => resolveConfig({ pos: 'xpos', randomPositions: 512 }, 2)).toThrow(ConfigError);
  });

  it('every scheme either reads positions or is refused', () => {
    for (const scheme of SCHEMES) {
      const problems = validateConfig({ ...resolveConfig({}, 2), pos: scheme.name, posOptions: {}, randomPositions: 512 });
      expect(problems.some((p) => p.field === 'randomPositions'), scheme.name).toBe(!scheme.readsPositions);
    }
  });
});
