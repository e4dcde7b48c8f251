import { basename, dirname, isAbsolute } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDbPath } from '../../src/store';

describe('defaultDbPath', () => {
  it('prefers GPT_LAB_DB', () => {
    expect(defaultDbPath({ GPT_LAB_DB: '/data/lab.db' })).toBe('/data/lab.db');
  });

  it('falls back to runs.db in the gpt-lab data directory, without the nodejs suffix', () => {
    const path = defaultDbPath({});
    expect(isAbsolute(path)).toBe(true);
    expect(basename(path)).toBe('runs.db');
    expect(dirname(path)).toMatch(/gpt-lab/);
    expect(path).not.toMatch(/nodejs/);
  });
});
