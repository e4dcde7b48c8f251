import { describe, expect, it } from 'vitest';
import { CharTokenizer, DataError } from '../../../src/engine/data';

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
