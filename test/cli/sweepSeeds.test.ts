/** `gpt-lab sweep --seeds k`: the seed axis multiplies the grid; each cell's seeds are the runs `train --seeds` makes. */
import { describe, expect, it } from 'vitest';
import { sweepCells } from '../../src/cli/analysisCommands';
import { seedGroupKey } from '../../src/lab/seedGroup';

const base = { data: 'builtin:toy-english', preset: 'nano', steps: '2', seed: '5', norm: 'pre' };

describe('sweep --seeds', () => {
  it('makes every cell on seeds seed … seed + k − 1, named by seed, the whole grid one sweep key', async () => {
    const cells = await sweepCells({ ...base, pos: 'none,rope', seeds: '3', name: 'grid' });
    expect(cells.map((c) => [c.pos, c.prepared.config.seed, c.prepared.name])).toEqual([
      ['none', 5, 'grid · none · pre-norm · dropout 0 · seed 5'],
      ['none', 6, 'grid · none · pre-norm · dropout 0 · seed 6'],
      ['none', 7, 'grid · none · pre-norm · dropout 0 · seed 7'],
      ['rope', 5, 'grid · rope · pre-norm · dropout 0 · seed 5'],
      ['rope', 6, 'grid · rope · pre-norm · dropout 0 · seed 6'],
      ['rope', 7, 'grid · rope · pre-norm · dropout 0 · seed 7'],
    ]);
    // The seed is an axis of this grid, so the key holds it free; a cell's seeds are also one `train --seeds` group.
    expect(new Set(cells.map((c) => c.sweepKey)).size).toBe(1);
    expect(new Set(cells.slice(0, 3).map((c) => seedGroupKey(c.prepared.config))).size).toBe(1);
  });

  it('without --seeds is the grid as before: one cell per combination at the given seed, keyed with the seed held', async () => {
    const plain = await sweepCells({ ...base, pos: 'none,rope' });
    expect(plain.map((c) => [c.pos, c.prepared.config.seed])).toEqual([['none', 5], ['rope', 5]]);
    const seeded = await sweepCells({ ...base, pos: 'none,rope', seeds: '2' });
    expect(seeded[0]!.sweepKey).not.toBe(plain[0]!.sweepKey);
  });

  it('counts the seeds in the grid limit and refuses a bad count', async () => {
    await expect(sweepCells({ ...base, pos: 'none,rope,alibi,t5,learned,sinusoidal,integer,binary', norm: 'pre,post', seeds: '5' })).rejects.toThrow('the grid makes 80 runs (8 × 2 × 1 × 5 seeds); at most 64 per sweep');
    await expect(sweepCells({ ...base, pos: 'none', seeds: '0' })).rejects.toThrow('--seeds: expected an integer from 1 to 16, got "0"');
  });
});
