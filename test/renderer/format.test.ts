/** How the Runs and Live views name a run's data. */
import { describe, expect, it } from 'vitest';
import { dataLabel } from '../../src/renderer/composables/format';

describe('dataLabel', () => {
  it('shows a builtin by name, a file by its file name and an uploaded text by a short hash', () => {
    expect(dataLabel('builtin:copy')).toBe('copy');
    expect(dataLabel('/home/u/corpora/notes.txt')).toBe('notes.txt');
    expect(dataLabel('C:\\Users\\u\\notes.txt')).toBe('notes.txt');
    expect(dataLabel(`text:621f92ba${'0'.repeat(56)}`)).toBe('uploaded text 621f92ba');
  });
});
