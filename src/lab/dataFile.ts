import { readFileSync, statSync, type Stats } from 'node:fs';
import { DataError } from '../engine/data/errors';
import { validateText } from '../engine/data/corpus';
import { MAX_DATA_BYTES } from '../shared/api';

export interface ReadDataFileOptions {
  maxBytes?: number;
}

const MB = 1024 * 1024;

/** Reads a training text file, turning every way it can be unusable into a DataError that says so. */
export function readDataFile(path: string, { maxBytes = MAX_DATA_BYTES }: ReadDataFileOptions = {}): string {
  const stats = statOrMissing(path);
  if (stats.isDirectory()) throw new DataError('directory', `data file ${path} is a directory, not a file`);
  // A FIFO, socket or device would block the read (or, like /dev/zero, never end).
  if (!stats.isFile()) throw new DataError('not-a-file', `data file ${path} is not a regular file (a pipe, socket or device)`);
  checkSize(stats.size, `data file ${path}`, maxBytes);
  return decodeText(readFileSync(path), `data file ${path}`, { maxBytes });
}

/**
 * The text in `bytes` (a file's or an upload's), with the same checks as a data file: size, empty, binary, UTF-8.
 * `source` names it in messages ("data file /x.txt", "uploaded text notes.txt").
 */
export function decodeText(bytes: Uint8Array, source: string, { maxBytes = MAX_DATA_BYTES }: ReadDataFileOptions = {}): string {
  checkSize(bytes.length, source, maxBytes);
  if (bytes.length === 0) throw new DataError('empty', `${source} is empty`);
  // Checked before UTF-8 because a binary file usually fails both, and "binary" is the clearer diagnosis.
  if (bytes.includes(0)) throw new DataError('binary', `${source} looks like a binary file, not text`);
  const text = decodeUtf8(bytes, source);
  validateText(text, { source });
  return text;
}

function checkSize(size: number, source: string, maxBytes: number): void {
  if (size > maxBytes) throw new DataError('too-large', `${source} is ${formatMB(size)}, more than the ${formatMB(maxBytes)} limit`);
}

function statOrMissing(path: string): Stats {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DataError('missing', `data file not found: ${path}`);
    }
    throw err;
  }
}

function formatMB(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

function decodeUtf8(bytes: Uint8Array, source: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const offset = firstInvalidByte(bytes);
    throw new DataError(
      'not-utf8',
      `${source} is not valid UTF-8 text (invalid byte sequence at byte offset ${offset})`,
    );
  }
}

/**
 * Where the first malformed (or truncated) character starts. TextDecoder does not say where it
 * failed, so find the longest prefix a streaming decoder accepts, then step back over the
 * incomplete character it may end in. Slow, but it runs only on the error path.
 */
function firstInvalidByte(bytes: Uint8Array): number {
  const decodes = (n: number, stream: boolean): boolean => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, n), { stream });
      return true;
    } catch {
      return false;
    }
  };
  // Invariant: the prefix of length lo is accepted; hi is rejected or past the end.
  let lo = 0;
  let hi = bytes.length + 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (decodes(mid, true)) lo = mid;
    else hi = mid;
  }
  let start = lo;
  while (start > 0 && !decodes(start, false)) start--;
  return start;
}
