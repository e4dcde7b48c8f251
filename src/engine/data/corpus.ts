import { BUILTIN_CORPORA, generateBuiltinSplits, isBuiltinName, type BuiltinName, type BuiltinSplits } from './builtin';
import { DataError } from './errors';
import { BUILTIN_TEXT_NAMES, resolveBuiltinText } from './textCorpora';
import type { TokenizerKind } from '../config';
import { codePointWidth, createTokenizer, type Tokenizer } from './tokenizer';

const BUILTIN_PREFIX = 'builtin:';
/** Share of control characters above which text is taken for a binary file read as text. */
const MAX_CONTROL_FRACTION = 0.05;

/** A tokenized dataset and the identity recorded with a run. */
export interface Corpus {
  /** `builtin:NAME` or the file path it was read from. */
  source: string;
  text: string;
  tokenizer: Tokenizer;
  train: Int32Array;
  val: Int32Array;
  /** hashText(text), so a resumed or compared run can tell whether its data changed. */
  hash: string;
}

export interface BuildCorpusOptions {
  source: string;
  /** The file's contents; leave undefined for a builtin source to generate it. */
  text?: string;
  blockSize: number;
  valFraction?: number;
  /** char (default), byte or bpe. */
  tokenizer?: TokenizerKind;
  /** The char vocabulary of a run being resumed, so token ids keep their meaning. */
  vocab?: readonly string[];
  /** Seed and size for generating a builtin corpus. */
  seed?: number;
  chars?: number;
}

export interface ValidateTextOptions {
  /** Names the data in error messages. */
  source: string;
  minTokens?: number;
}

/**
 * The generated corpus a `builtin:NAME` source names; undefined when the source is a file path or a shipped text
 * (textCorpora.ts), whose text the caller supplies.
 */
export function resolveBuiltin(source: string): BuiltinName | undefined {
  if (!source.startsWith(BUILTIN_PREFIX) || resolveBuiltinText(source)) return undefined;
  const name = source.slice(BUILTIN_PREFIX.length);
  if (isBuiltinName(name)) return name;
  throw new DataError(
    'unknown-builtin',
    `unknown builtin corpus ${JSON.stringify(name)}; choose one of: ${[...BUILTIN_CORPORA, ...BUILTIN_TEXT_NAMES].join(', ')}`,
  );
}

export function validateText(text: string, { source, minTokens = 1 }: ValidateTextOptions): void {
  if (text.trim() === '') {
    throw new DataError('empty', `${source} is empty${text === '' ? '' : ' (only whitespace)'}`);
  }
  if (text.includes('\0') || controlFraction(text) > MAX_CONTROL_FRACTION) {
    throw new DataError('binary', `${source} looks like a binary file, not text`);
  }
  const tokens = countCodePoints(text);
  if (tokens < minTokens) {
    throw new DataError('too-short', `${source} has ${tokens} characters but at least ${minTokens} are needed`);
  }
}

function isControl(code: number): boolean {
  const whitespace = code === 0x09 || code === 0x0a || code === 0x0d;
  return (code < 0x20 && !whitespace) || (code >= 0x7f && code <= 0x9f);
}

function controlFraction(text: string): number {
  let controls = 0;
  for (let i = 0; i < text.length; i++) if (isControl(text.charCodeAt(i))) controls++;
  return controls / text.length;
}

function countCodePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i += codePointWidth(text, i)) n++;
  return n;
}

/** Contiguous split, as in nanoGPT: the first part trains, the tail validates. Views, not copies. */
export function splitTrainVal(ids: Int32Array, valFraction = 0.1): { train: Int32Array; val: Int32Array } {
  if (!(valFraction > 0 && valFraction < 1)) {
    throw new DataError('bad-option', `validation fraction must be between 0 and 1 (exclusive), got ${valFraction}`);
  }
  return splitAt(ids, Math.floor(ids.length * (1 - valFraction)));
}

/**
 * 64-bit FNV-1a over UTF-16 code units, as 16 hex digits. Computed in four 16-bit limbs because
 * JS numbers cannot hold a 64-bit product; fast enough for a 50 MB corpus without BigInt.
 */
export function hashText(text: string): string {
  // Offset basis 0xcbf29ce484222325, low limb first.
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (let i = 0; i < text.length; i++) {
    h0 ^= text.charCodeAt(i);
    // Multiply by the FNV prime 2^40 + 0x1b3: 0x1b3 times every limb, plus the limbs shifted up 40 bits.
    let t0 = h0 * 0x1b3;
    let t1 = h1 * 0x1b3;
    let t2 = h2 * 0x1b3 + (h0 << 8);
    let t3 = h3 * 0x1b3 + (h1 << 8);
    t1 += t0 >>> 16;
    t2 += t1 >>> 16;
    t3 += t2 >>> 16;
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
    h3 = t3 & 0xffff;
  }
  return [h3, h2, h1, h0].map((limb) => limb.toString(16).padStart(4, '0')).join('');
}

export function buildCorpus(options: BuildCorpusOptions): Corpus {
  const { source, blockSize, valFraction = 0.1, vocab } = options;
  if (!Number.isInteger(blockSize) || blockSize < 1) {
    throw new DataError('bad-option', `block size must be a positive integer, got ${blockSize}`);
  }
  // A builtin corpus comes in its two parts, so the split falls exactly between them (see builtin.ts).
  const generated = options.text === undefined ? generateSplits(options) : undefined;
  const text = options.text ?? generated!.train + generated!.val;
  validateText(text, { source });
  const tokenizer = createTokenizer(options.tokenizer ?? 'char', { vocab, text });
  const ids = encodeWithContext(tokenizer, text, source);
  const { train, val } = generated ? splitAt(ids, tokenizer.encode(generated.train).length) : splitTrainVal(ids, valFraction);
  checkSplitsFitBlock(source, train, val, blockSize);
  return { source, text, tokenizer, train, val, hash: hashText(text) };
}

function generateSplits({ source, seed = 0, chars, valFraction }: BuildCorpusOptions): BuiltinSplits {
  const name = resolveBuiltin(source);
  if (name === undefined) throw new Error(`buildCorpus: no text was given for data file ${source}`);
  return generateBuiltinSplits(name, { seed, chars, valFraction });
}

function splitAt(ids: Int32Array, nTrain: number): { train: Int32Array; val: Int32Array } {
  return { train: ids.subarray(0, nTrain), val: ids.subarray(nTrain) };
}

/** Only a resumed run's vocabulary can miss a character, so say that is what happened. */
function encodeWithContext(tokenizer: Tokenizer, text: string, source: string): Int32Array {
  try {
    return tokenizer.encode(text);
  } catch (err) {
    if (err instanceof DataError && err.code === 'unknown-char') {
      throw new DataError('unknown-char', `${source} does not match the run's vocabulary: ${err.message}`);
    }
    throw err;
  }
}

function checkSplitsFitBlock(source: string, train: Int32Array, val: Int32Array, blockSize: number): void {
  const shortest = Math.min(train.length, val.length);
  if (shortest >= blockSize + 1) return;
  const split = train.length <= val.length ? 'training' : 'validation';
  const advice = shortest >= 2 ? `use --block ${shortest - 1} or smaller, or more data` : 'use more data';
  throw new DataError(
    'too-short',
    `${source}: the ${split} split has ${shortest} tokens but --block ${blockSize} needs at least ` +
      `${blockSize + 1}; ${advice}`,
  );
}
