import { DataError } from './errors';

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
export class CharTokenizer {
  readonly vocab: string[];
  private readonly ids: Map<string, number>;

  private constructor(vocab: string[]) {
    this.vocab = vocab;
    this.ids = new Map(vocab.map((ch, id) => [ch, id]));
  }

  static fromText(text: string): CharTokenizer {
    return new CharTokenizer([...new Set(text)].sort(byCodePoint));
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
    for (const ch of text) {
      const id = this.ids.get(ch);
      if (id === undefined) {
        throw new DataError(
          'unknown-char',
          `character ${JSON.stringify(ch)} at position ${n} is not in the vocabulary`,
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
