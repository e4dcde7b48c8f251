import { decode as bpeDecode, encode as bpeEncode, vocabularySize as BPE_VOCAB_SIZE } from 'gpt-tokenizer/encoding/r50k_base';
import type { TokenizerKind } from '../config';
import { DataError } from './errors';

/** What a model reads and writes: text ↔ token ids in [0, size). */
export interface Tokenizer {
  readonly kind: TokenizerKind;
  readonly size: number;
  /** What a run must store to rebuild it: the character list of a char tokenizer; null when the kind fixes it. */
  readonly vocab: readonly string[] | null;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
}

function checkIds(ids: ArrayLike<number>, size: number): void {
  for (let i = 0; i < ids.length; i++)
    if (!(ids[i]! >= 0 && ids[i]! < size && Number.isInteger(ids[i])))
      throw new DataError('unknown-id', `token id ${ids[i]} is outside the vocabulary (size ${size})`);
}

/**
 * Orders characters by code point; the default string sort compares UTF-16 units, which puts
 * astral characters (emoji) before U+E000..U+FFFF.
 */
function byCodePoint(a: string, b: string): number {
  return a.codePointAt(0)! - b.codePointAt(0)!;
}

/**
 * One token per Unicode code point (so an emoji is one token, not two surrogate halves).
 * Token ids are indices into `vocab`, which is sorted by code point so the same text always
 * yields the same ids.
 */
export class CharTokenizer implements Tokenizer {
  readonly kind = 'char';
  readonly vocab: string[];
  private readonly ids: Map<string, number>;

  /** Id of each single-unit character by its UTF-16 code, −1 where it is not in the vocabulary. */
  private readonly unitIds = new Int32Array(0x10000).fill(-1);

  private constructor(vocab: string[]) {
    this.vocab = vocab;
    this.ids = new Map(vocab.map((ch, id) => [ch, id]));
    vocab.forEach((ch, id) => {
      if (ch.length === 1) this.unitIds[ch.charCodeAt(0)] = id;
    });
  }

  /** One pass over UTF-16 units (a 50 MB text in well under a second; iterating code points as strings is ~5× slower). */
  static fromText(text: string): CharTokenizer {
    const chars = new Set<string>();
    const seenUnit = new Uint8Array(0x10000);
    for (let i = 0; i < text.length; i++) {
      const width = codePointWidth(text, i);
      if (width === 2) chars.add(text.slice(i, ++i + 1));
      else if (!seenUnit[text.charCodeAt(i)]) {
        seenUnit[text.charCodeAt(i)] = 1;
        chars.add(text[i]!);
      }
    }
    return new CharTokenizer([...chars].sort(byCodePoint));
  }

  /** Rebuilds the tokenizer a run was trained with, so its token ids keep their meaning. */
  static fromVocab(vocab: readonly string[]): CharTokenizer {
    if (vocab.length === 0) throw new DataError('bad-vocab', 'vocabulary is empty');
    const seen = new Set<string>();
    for (const ch of vocab) {
      if ([...ch].length !== 1) {
        throw new DataError('bad-vocab', `vocabulary entry ${JSON.stringify(ch)} is not a single character`);
      }
      if (seen.has(ch)) throw new DataError('bad-vocab', `vocabulary lists ${JSON.stringify(ch)} twice`);
      seen.add(ch);
    }
    return new CharTokenizer([...vocab]);
  }

  get size(): number {
    return this.vocab.length;
  }

  encode(text: string): Int32Array {
    const out = new Int32Array(text.length);
    let n = 0;
    for (let i = 0, width = 1; i < text.length; i += width) {
      width = codePointWidth(text, i);
      const id = width === 1 ? this.unitIds[text.charCodeAt(i)]! : (this.ids.get(text.slice(i, i + 2)) ?? -1);
      if (id < 0) {
        throw new DataError(
          'unknown-char',
          `character ${JSON.stringify(text.slice(i, i + width))} at position ${n} is not in the vocabulary`,
        );
      }
      out[n++] = id;
    }
    // Surrogate pairs make the text longer in UTF-16 units than in tokens.
    return n === out.length ? out : out.slice(0, n);
  }

  decode(ids: ArrayLike<number>): string {
    const chars = new Array<string>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const ch = this.vocab[ids[i]!];
      if (ch === undefined) {
        throw new DataError('unknown-id', `token id ${ids[i]} is outside the vocabulary (size ${this.size})`);
      }
      chars[i] = ch;
    }
    return chars.join('');
  }
}

/** The 256 byte values of the text's UTF-8 encoding: any text encodes, nothing is unknown. */
export class ByteTokenizer implements Tokenizer {
  readonly kind = 'byte';
  readonly size = 256;
  readonly vocab = null;

  encode(text: string): Int32Array {
    return Int32Array.from(new TextEncoder().encode(text));
  }

  /** A sequence that ends inside a multi-byte character decodes that part as U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    checkIds(ids, this.size);
    return new TextDecoder('utf-8').decode(Uint8Array.from(ids as ArrayLike<number>));
  }
}

/** GPT-2's byte-level BPE (r50k_base, 50,257 tokens) from gpt-tokenizer, which ships the merges. */
export class Gpt2BpeTokenizer implements Tokenizer {
  readonly kind = 'bpe';
  readonly size = BPE_VOCAB_SIZE;
  readonly vocab = null;

  /** "<|endoftext|>" in a text is text, not the special token: a corpus must not inject document breaks. */
  encode(text: string): Int32Array {
    return Int32Array.from(bpeEncode(text, { disallowedSpecial: new Set() }));
  }

  decode(ids: ArrayLike<number>): string {
    checkIds(ids, this.size);
    return bpeDecode(Array.from(ids as ArrayLike<number>));
  }
}

/** Vocabulary size of a kind before any data is seen; null for char, whose vocabulary is the data's characters. */
export function fixedVocabSize(kind: TokenizerKind): number | null {
  return kind === 'byte' ? 256 : kind === 'bpe' ? BPE_VOCAB_SIZE : null;
}

/** 2 where a surrogate pair starts at `i` (one astral code point), else 1 (a lone surrogate counts as itself). */
export function codePointWidth(text: string, i: number): 1 | 2 {
  const unit = text.charCodeAt(i);
  if (unit < 0xd800 || unit > 0xdbff || i + 1 >= text.length) return 1;
  const next = text.charCodeAt(i + 1);
  return next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
}

/**
 * The tokenizer a run uses: char from its stored vocabulary (or, for a new run, from `text`), byte and bpe fixed.
 * Throws DataError when a char tokenizer has neither.
 */
export function createTokenizer(kind: TokenizerKind, source: { vocab?: readonly string[] | null; text?: string }): Tokenizer {
  if (kind === 'byte') return new ByteTokenizer();
  if (kind === 'bpe') return new Gpt2BpeTokenizer();
  if (source.vocab) return CharTokenizer.fromVocab(source.vocab);
  if (source.text !== undefined) return CharTokenizer.fromText(source.text);
  throw new DataError('bad-vocab', 'a char tokenizer needs the vocabulary stored with its run');
}

/** What a run stores as its vocabulary: a copy of the char list, or null when the kind fixes it. */
export function storedVocab(tokenizer: Tokenizer): string[] | null {
  return tokenizer.vocab ? [...tokenizer.vocab] : null;
}
