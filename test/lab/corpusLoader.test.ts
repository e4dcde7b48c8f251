/** Data sources the lab reads: builtin:shakespeare comes from resources/, split contiguously like any text file. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCorpus } from '../../src/lab/corpusLoader';
import { resourcePath } from '../../src/lab/resources';

const shakespeare = { data: 'builtin:shakespeare', blockSize: 64, valFraction: 0.1 };

describe('builtin:shakespeare', () => {
  it('is the 1,115,394-character tiny Shakespeare with its 65 characters, first 90% training, the tail validating', () => {
    const corpus = loadCorpus(shakespeare);
    expect(corpus.text.length).toBe(1_115_394);
    expect(corpus.text.startsWith('First Citizen:\nBefore we proceed any further')).toBe(true);
    expect(corpus.tokenizer.size).toBe(65);
    // Contiguous, as nanoGPT's prepare.py: train = ids[0, 1003854), val = ids[1003854, end).
    expect(corpus.train.length).toBe(1_003_854);
    expect(corpus.val.length).toBe(111_540);
    expect(corpus.tokenizer.decode(corpus.val.subarray(0, 20))).toBe(corpus.text.slice(1_003_854, 1_003_874));
  });

  it("with GPT-2 BPE has nanoGPT's 338,025 tokens (301,966 + 36,059 there; 90/10 here)", () => {
    const corpus = loadCorpus({ ...shakespeare, tokenizer: 'bpe' });
    expect(corpus.train.length + corpus.val.length).toBe(338_025);
    expect(corpus.tokenizer.vocab).toBeNull();
  });

  it('is read from the project resources, never from outside the project', () => {
    const path = resourcePath('corpora/tinyshakespeare.txt');
    expect(path).toMatch(/resources[\\/]corpora[\\/]tinyshakespeare\.txt$/);
    expect(readFileSync(path, 'utf8')).toBe(loadCorpus(shakespeare).text);
  });
});
