import { describe, expect, it } from 'vitest';
import { ByteTokenizer, CharTokenizer, DataError, Gpt2BpeTokenizer, createTokenizer, fixedVocabSize } from '../../../src/engine/data';

describe('CharTokenizer', () => {
  it('builds a sorted, unique vocabulary', () => {
    const tok = CharTokenizer.fromText('hello world');
    expect(tok.vocab).toEqual([' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(tok.size).toBe(8);
  });

  it('sorts by code point, keeping astral characters after the BMP', () => {
    // UTF-16 unit order would put the emoji (high surrogate 0xd83d) before U+FF01.
    const tok = CharTokenizer.fromText('！😀a');
    expect(tok.vocab).toEqual(['a', '！', '😀']);
  });

  it('round-trips ASCII, accents and emoji, one token per code point', () => {
    const text = 'héllo, wörld! 😀👍🏽 日本語\n\ttab';
    const tok = CharTokenizer.fromText(text);
    const ids = tok.encode(text);
    expect(ids).toBeInstanceOf(Int32Array);
    expect(ids.length).toBe([...text].length);
    expect(tok.decode(ids)).toBe(text);
    expect(tok.vocab).toContain('😀');
    expect(tok.vocab.every((ch) => [...ch].length === 1)).toBe(true);
  });

  it('encodes to indices into the vocabulary', () => {
    const tok = CharTokenizer.fromText('abc');
    expect([...tok.encode('cab')]).toEqual([2, 0, 1]);
    expect(tok.decode([1, 1, 0])).toBe('bba');
  });

  it('names an unknown character and its position', () => {
    const tok = CharTokenizer.fromText('abc');
    const err = catchError(() => tok.encode('ab\ncz\n'));
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).code).toBe('unknown-char');
    expect(err.message).toContain('"\\n"');
    expect(err.message).toContain('position 2');
  });

  it('counts positions in characters, not UTF-16 units', () => {
    const tok = CharTokenizer.fromText('😀a');
    expect(() => tok.encode('😀😀b')).toThrow(/"b" at position 2/);
  });

  it('rejects token ids outside the vocabulary', () => {
    const tok = CharTokenizer.fromText('ab');
    expect(() => tok.decode([0, 2])).toThrow(/token id 2 .*size 2/);
    expect(() => tok.decode([-1])).toThrow(DataError);
  });

  it('rebuilds the same tokenizer from its vocabulary', () => {
    const text = 'the quick brown fox 🦊';
    const original = CharTokenizer.fromText(text);
    const rebuilt = CharTokenizer.fromVocab(original.vocab);
    expect(rebuilt.vocab).toEqual(original.vocab);
    expect([...rebuilt.encode(text)]).toEqual([...original.encode(text)]);
  });

  it('rejects a bad vocabulary', () => {
    expect(() => CharTokenizer.fromVocab([])).toThrow(/empty/);
    expect(() => CharTokenizer.fromVocab(['a', 'a'])).toThrow(/twice/);
    expect(() => CharTokenizer.fromVocab(['ab'])).toThrow(/not a single character/);
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('ByteTokenizer', () => {
  it("encodes a text's UTF-8 bytes, so any text works and accents take two tokens", () => {
    const tok = new ByteTokenizer();
    expect(tok.size).toBe(256);
    expect([...tok.encode('aé')]).toEqual([0x61, 0xc3, 0xa9]);
    expect(tok.decode(tok.encode('héllo 😀\n'))).toBe('héllo 😀\n');
  });

  it('decodes a cut multi-byte character as U+FFFD and rejects ids past 255', () => {
    const tok = new ByteTokenizer();
    expect(tok.decode([0x61, 0xc3])).toBe('a\uFFFD');
    expect(() => tok.decode([256])).toThrow(/token id 256 is outside the vocabulary \(size 256\)/);
  });
});

describe('Gpt2BpeTokenizer', () => {
  it("gives GPT-2's ids (r50k_base: 50,257 tokens)", () => {
    const tok = new Gpt2BpeTokenizer();
    expect(tok.size).toBe(50257);
    // tiktoken's gpt2 encoding of "Hello world" is [15496, 995]; " ROMEO" and ":" merge as GPT-2 merges them.
    expect([...tok.encode('Hello world')]).toEqual([15496, 995]);
    expect(tok.decode(tok.encode('ROMEO: But soft!\n'))).toBe('ROMEO: But soft!\n');
  });

  it('reads "<|endoftext|>" in a text as text, not as the special token 50256', () => {
    const ids = [...new Gpt2BpeTokenizer().encode('a<|endoftext|>b')];
    expect(ids).not.toContain(50256);
    expect(new Gpt2BpeTokenizer().decode(ids)).toBe('a<|endoftext|>b');
  });
});

describe('createTokenizer', () => {
  it('rebuilds a char tokenizer from the stored vocabulary, and fixes byte and bpe by kind', () => {
    expect(createTokenizer('char', { vocab: ['a', 'b'], text: 'zzz' }).vocab).toEqual(['a', 'b']);
    expect(createTokenizer('char', { text: 'ba' }).vocab).toEqual(['a', 'b']);
    expect(createTokenizer('byte', { text: 'x' }).vocab).toBeNull();
    expect(createTokenizer('bpe', {}).size).toBe(fixedVocabSize('bpe'));
    expect(fixedVocabSize('char')).toBeNull();
    expect(() => createTokenizer('char', {})).toThrow(/needs the vocabulary/);
  });
});
