import { describe, expect, it } from 'vitest';
import {
  BUILTIN_CORPORA,
  CharTokenizer,
  DataError,
  buildCorpus,
  generateBuiltinCorpus,
  generateBuiltinSplits,
  hashText,
  resolveBuiltin,
  splitTrainVal,
  validateText,
} from '../../../src/engine/data';

function dataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DataError) return err;
    throw err;
  }
  throw new Error('expected a DataError');
}

const range = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

describe('resolveBuiltin', () => {
  it('names the builtin corpus of a builtin: source', () => {
    expect(resolveBuiltin('builtin:copy')).toBe('copy');
    expect(resolveBuiltin('builtin:toy-english')).toBe('toy-english');
  });

  it('leaves file paths alone', () => {
    expect(resolveBuiltin('data/shakespeare.txt')).toBeUndefined();
  });

  it('lists the valid names for an unknown one', () => {
    const err = dataError(() => resolveBuiltin('builtin:poetry'));
    expect(err.code).toBe('unknown-builtin');
    expect(err.message).toContain('"poetry"');
    for (const name of BUILTIN_CORPORA) expect(err.message).toContain(name);
  });
});

describe('validateText', () => {
  it('accepts ordinary text with tabs and line breaks', () => {
    expect(() => validateText('one\ttwo\r\nthree\n', { source: 'x' })).not.toThrow();
  });

  it('rejects empty and whitespace-only text', () => {
    expect(dataError(() => validateText('', { source: 'notes.txt' }))).toMatchObject({
      code: 'empty',
      message: 'notes.txt is empty',
    });
    const err = dataError(() => validateText(' \n\t\n', { source: 'notes.txt' }));
    expect(err.code).toBe('empty');
    expect(err.message).toContain('only whitespace');
  });

  it('rejects NUL bytes as binary', () => {
    const err = dataError(() => validateText('hello\0world', { source: 'a.bin' }));
    expect(err.code).toBe('binary');
    expect(err.message).toBe('a.bin looks like a binary file, not text');
  });

  it('rejects text with more than 5% control characters, tolerating a few', () => {
    const text = (controls: number) => 'a'.repeat(100 - controls) + '\x07'.repeat(controls);
    expect(() => validateText(text(5), { source: 'x' })).not.toThrow();
    expect(dataError(() => validateText(text(6), { source: 'x' })).code).toBe('binary');
  });

  it('counts C1 control characters and DEL as control characters too', () => {
    expect(dataError(() => validateText('a'.repeat(90) + '\x85'.repeat(10), { source: 'x' })).code).toBe('binary');
    expect(dataError(() => validateText('a'.repeat(90) + '\x7f'.repeat(10), { source: 'x' })).code).toBe('binary');
  });

  it('rejects text shorter than minTokens, counting characters not UTF-16 units', () => {
    const err = dataError(() => validateText('😀😀😀', { source: 'tiny.txt', minTokens: 4 }));
    expect(err.code).toBe('too-short');
    expect(err.message).toBe('tiny.txt has 3 characters but at least 4 are needed');
    expect(() => validateText('😀😀😀', { source: 'x', minTokens: 3 })).not.toThrow();
  });
});

describe('splitTrainVal', () => {
  it('takes the first 90% for training by default', () => {
    const { train, val } = splitTrainVal(range(100));
    expect(train.length).toBe(90);
    expect(val.length).toBe(10);
    expect(train[0]).toBe(0);
    expect(train[89]).toBe(89);
    expect(val[0]).toBe(90);
  });

  it('honours another fraction and loses no tokens', () => {
    const { train, val } = splitTrainVal(range(1001), 0.25);
    expect(train.length).toBe(750);
    expect(train.length + val.length).toBe(1001);
  });

  it('rejects fractions outside (0, 1)', () => {
    for (const f of [0, 1, -0.1, Number.NaN]) {
      expect(dataError(() => splitTrainVal(range(10), f)).code).toBe('bad-option');
    }
  });
});

describe('hashText', () => {
  it('matches the FNV-1a 64-bit test vectors', () => {
    expect(hashText('')).toBe('cbf29ce484222325');
    expect(hashText('a')).toBe('af63dc4c8601ec8c');
    expect(hashText('foobar')).toBe('85944171f73967e8');
  });

  it('tells texts apart, including by one character', () => {
    const text = generateBuiltinCorpus('toy-english', { seed: 1, chars: 10_000 });
    const changed = text.slice(0, 5000) + 'X' + text.slice(5001);
    expect(hashText(text)).toMatch(/^[0-9a-f]{16}$/);
    expect(hashText(changed)).not.toBe(hashText(text));
    expect(hashText('😀')).not.toBe(hashText('😁'));
  });
});

describe('buildCorpus', () => {
  it('generates a builtin corpus from the seed and tokenizes all of it', () => {
    const corpus = buildCorpus({ source: 'builtin:reverse', blockSize: 16, seed: 3, chars: 5000 });
    expect(corpus.text).toBe(generateBuiltinCorpus('reverse', { seed: 3, chars: 5000 }));
    expect(corpus.source).toBe('builtin:reverse');
    expect(corpus.hash).toBe(hashText(corpus.text));
    expect(corpus.tokenizer.decode(corpus.train) + corpus.tokenizer.decode(corpus.val)).toBe(corpus.text);
    // The split falls exactly between the generated parts, not at a token count.
    const { train, val } = generateBuiltinSplits('reverse', { seed: 3, chars: 5000 });
    expect(corpus.tokenizer.decode(corpus.train)).toBe(train);
    expect(corpus.tokenizer.decode(corpus.val)).toBe(val);
    expect(val.length / corpus.text.length).toBeCloseTo(0.1, 1);
    expect(buildCorpus({ source: 'builtin:reverse', blockSize: 16, seed: 4, chars: 5000 }).hash).not.toBe(corpus.hash);
  });

  it('uses the text given for a file', () => {
    const text = 'to be or not to be, that is the question.\n'.repeat(20);
    const corpus = buildCorpus({ source: 'hamlet.txt', text, blockSize: 8, valFraction: 0.2 });
    expect(corpus.text).toBe(text);
    expect(corpus.val.length).toBe(text.length - Math.floor(text.length * 0.8));
    expect(corpus.tokenizer.vocab).toEqual(CharTokenizer.fromText(text).vocab);
  });

  it('refuses a block size that a split cannot fill, suggesting one that fits', () => {
    const text = 'abcdefghij'.repeat(10); // 100 tokens: 90 train, 10 val
    const err = dataError(() => buildCorpus({ source: 'small.txt', text, blockSize: 32 }));
    expect(err.code).toBe('too-short');
    expect(err.message).toContain('validation split has 10 tokens');
    expect(err.message).toContain('--block 32 needs at least 33');
    expect(err.message).toContain('--block 9 or smaller');
    expect(() => buildCorpus({ source: 'small.txt', text, blockSize: 9 })).not.toThrow();
  });

  it('rebuilds the tokenizer from a resumed run vocabulary', () => {
    const vocab = ['\n', ' ', 'a', 'b', 'c', 'z'];
    const corpus = buildCorpus({ source: 'f.txt', text: 'abc cab\n'.repeat(10), blockSize: 4, vocab });
    expect(corpus.tokenizer.vocab).toEqual(vocab);
    expect(corpus.train[0]).toBe(2);
  });

  it('explains a character missing from a resumed run vocabulary', () => {
    const err = dataError(() =>
      buildCorpus({ source: 'f.txt', text: 'abc abd\n'.repeat(10), blockSize: 4, vocab: [' ', 'a', 'b', 'c'] }),
    );
    expect(err.code).toBe('unknown-char');
    expect(err.message).toContain("f.txt does not match the run's vocabulary");
    expect(err.message).toContain('"d" at position 6');
  });

  it('validates the text and the options', () => {
    expect(dataError(() => buildCorpus({ source: 'e.txt', text: '  ', blockSize: 4 })).code).toBe('empty');
    expect(dataError(() => buildCorpus({ source: 'builtin:nope', blockSize: 4 })).code).toBe('unknown-builtin');
    expect(dataError(() => buildCorpus({ source: 'builtin:copy', blockSize: 0 })).code).toBe('bad-option');
    expect(() => buildCorpus({ source: 'file.txt', blockSize: 4 })).toThrow(/no text was given for data file file.txt/);
  });
});
