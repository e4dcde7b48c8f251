/** CLI options → config overrides: where `--data` points. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLAG_OF_FIELD, trainOverrides } from '../../src/cli/args';

describe('--data', () => {
  it("resolves a relative path against the user's current directory, so the run resumes from anywhere", () => {
    expect(trainOverrides({ data: 'notes.txt' }).data).toBe(join(process.cwd(), 'notes.txt'));
    expect(trainOverrides({ data: '../corpora/a.txt' }).data).toBe(join(process.cwd(), '..', 'corpora', 'a.txt'));
    expect(trainOverrides({ data: '/abs/a.txt' }).data).toBe('/abs/a.txt');
  });

  it('leaves builtin corpora, uploaded texts and an empty value (reported by validation) as given', () => {
    const id = 'a'.repeat(64);
    expect(trainOverrides({ data: 'builtin:copy' }).data).toBe('builtin:copy');
    expect(trainOverrides({ data: `text:${id}` }).data).toBe(`text:${id}`);
    expect(trainOverrides({ data: ' ' }).data).toBe(' ');
    expect(trainOverrides({})).not.toHaveProperty('data');
  });
});

describe('--attn-log-scaling', () => {
  it('sets attnLogScaling, and validation problems name the flag', () => {
    expect(trainOverrides({ attnLogScaling: 'fixed' }).attnLogScaling).toBe('fixed');
    expect(trainOverrides({})).not.toHaveProperty('attnLogScaling');
    expect(FLAG_OF_FIELD.attnLogScaling).toBe('attn-log-scaling');
  });
});
