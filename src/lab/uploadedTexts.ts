/**
 * Training texts kept in the lab's database: uploaded from a browser or dropped on the desktop window, then named
 * by the data source `text:<sha256-hex>`. Runs, resumes and evaluations read the stored copy, so they keep working
 * after the original file moves or is deleted.
 */
import { createHash } from 'node:crypto';
import { DataError } from '../engine/data/errors';
import type { TextSummary } from '../shared/api';
import type { StoredText } from '../store/runStore';
import { decodeText } from './dataFile';

export const TEXT_SOURCE_PREFIX = 'text:';
const TEXT_ID = /^[0-9a-f]{64}$/;

/** Where stored texts are looked up (the RunStore). */
export interface TextLookup {
  getText(id: string): StoredText | undefined;
}


export function isTextSource(source: string): boolean {
  return source.startsWith(TEXT_SOURCE_PREFIX);
}

/** The id in `text:<id>`, or a DataError saying what a valid one looks like. */
export function textSourceId(source: string): string {
  const id = source.slice(TEXT_SOURCE_PREFIX.length);
  if (!TEXT_ID.test(id)) throw new DataError('unknown-text', `${JSON.stringify(source)} is not an uploaded text: expected text: and 64 lowercase hex digits (its SHA-256)`);
  return id;
}

/** The stored text a `text:<id>` source names, checked as a data file would be. */
export function readStoredText(texts: TextLookup | undefined, source: string): string {
  const id = textSourceId(source);
  const stored = texts?.getText(id);
  if (!stored) throw new DataError('unknown-text', `no uploaded text ${source} in this lab's database (upload the file again)`);
  return decodeText(stored.bytes, `uploaded text ${stored.name}`);
}

/** What the New run form shows: size in bytes, tokens (characters, for the char tokenizer) and vocabulary. */
export function summarizeText(source: string, name: string, size: number, text: string): TextSummary {
  let tokens = 0;
  const vocab = new Set<string>();
  for (const char of text) {
    tokens++;
    vocab.add(char);
  }
  return { source, name, size, tokens, vocabSize: vocab.size };
}

/** Checks `bytes` as a data file, stores them under their SHA-256 and says what they hold. */
export function storeText(store: TextLookup & { addText(text: Omit<StoredText, 'size' | 'createdAt'>): StoredText }, name: string, bytes: Uint8Array): TextSummary {
  const text = decodeText(bytes, `uploaded text ${name}`);
  const id = createHash('sha256').update(bytes).digest('hex');
  store.addText({ id, name, bytes });
  return summarizeText(`${TEXT_SOURCE_PREFIX}${id}`, name, bytes.length, text);
}
