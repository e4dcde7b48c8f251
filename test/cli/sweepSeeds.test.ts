/** `gpt-lab sweep --seeds k`: the seed axis multiplies the grid; each cell's seeds are the runs `train --seeds` makes. */
import { describe, expect, it } from 'vitest';
import { sweepCells } from '../../src/cli/analysisCommands';
import { seedGroupKey } from '../../src/lab/seedGroup';

const base = { data: 'builtin:toy-english', preset: 'nano', steps: '2', seed: '5', norm: 'pre' };

describe('sweep --seeds', () => {
  it('makes every cell on seeds seed … seed + k − 1, named by seed, each run its own sweep key', () => {
    const cells = sweepCells({ ...base, pos: 'none,rope', seeds: '3', name: 'grid' });
    expect(cells.map((c) => [c.pos, c.seed, c.prepared.config.seed, c.prepared.name])).toEqual([
      ['none', 5, 5, 'grid · none/pre/p0 · seed 5'],
      ['none', 6, 6, 'grid · none/pre/p0 · seed 6'],
      ['none', 7, 7, 'grid · none/pre/p0 · seed 7'],
      ['rope', 5, 5, 'grid · rope/pre/p0 · seed 5'],
      ['rope', 6, 6, 'grid · rope/pre/p0 · seed 6'],
      ['rope', 7, 7, 'grid · rope/pre/p0 · seed 7'],
    ]);
    // A re-run skips finished cells by key, so each seed needs its own; the seeds of a cell are still one group.
    expect(new Set(cells.map((c) => c.sweepKey)).size).toBe(6);
    expect(new Set(cells.slice(0, 3).map((c) => seedGroupKey(c.prepared.config))).size).toBe(1);
  });

  it('without --seeds is the grid as before: one cell per combination at the given seed', () => {
    expect(sweepCells({ ...base, pos: 'none,rope' }).map((c) => [c.pos, c.seed, c.prepared.name])).toEqual([['none', 5, expect.any(String)], ['rope', 5, expect.any(String)]]);
  });

  it('counts the seeds in the grid limit and refuses a bad count', () => {
    expect(() => sweepCells({ ...base, pos: 'none,rope,alibi,t5,learned,sinusoidal,integer,binary', norm: 'pre,post', seeds: '5' })).toThrow('the grid makes 80 runs (8 × 2 × 1 × 5 seeds); at most 64 per sweep');
    expect(() => sweepCells({ ...base, pos: 'none', seeds: '0' })).toThrow('--seeds: expected an integer from 1 to 16, got "0"');
  });
});
