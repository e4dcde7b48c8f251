import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { DataError } from '../engine/data/errors';
import { validateText } from '../engine/data/corpus';
import { MAX_DATA_BYTES } from '../shared/api';

export interface ReadDataFileOptions {
  maxBytes?: number;
}

const MB = 1024 * 1024;
const CHUNK_BYTES = MB;
// Opening a FIFO for reading blocks until a writer appears; non-blocking, the open returns and fstat tells.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Reads a training text file, turning every way it can be unusable into a DataError that says so. The size limit
 * is enforced on the bytes actually read, not on what stat reports: procfs and sysfs files claim size 0 and can be
 * endless (/proc/self/pagemap).
 */
export function readDataFile(path: string, { maxBytes = MAX_DATA_BYTES }: ReadDataFileOptions = {}): string {
  checkRegularFile(attempt(path, () => statSync(path)), path, maxBytes);
  const fd = attempt(path, () => openSync(path, OPEN_FLAGS));
  try {
    // The path may have been swapped between stat and open: check what was opened.
    checkRegularFile(fstatSync(fd), path, maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // Whole chunks: some kernel files (pagemap) refuse reads that are not a multiple of their record size.
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      const read = attempt(path, () => readSync(fd, chunk, 0, chunk.length, null));
      if (read === 0) break;
      total += read;
      if (total > maxBytes) throw tooLarge(path, maxBytes);
      chunks.push(chunk.subarray(0, read));
    }
    return decodeText(Buffer.concat(chunks, total), `data file ${path}`, { maxBytes });
  } finally {
    closeSync(fd);
  }
}

/** readDataFile without blocking the event loop on the read: for the lab service, which also serves requests. */
export async function readDataFileAsync(path: string, { maxBytes = MAX_DATA_BYTES }: ReadDataFileOptions = {}): Promise<string> {
  checkRegularFile(attempt(path, () => statSync(path)), path, maxBytes);
  const handle = await attemptAsync(path, () => open(path, OPEN_FLAGS));
  try {
    checkRegularFile(await handle.stat(), path, maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      const { bytesRead } = await attemptAsync(path, () => handle.read(chunk, 0, chunk.length, null));
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw tooLarge(path, maxBytes);
      chunks.push(chunk.subarray(0, bytesRead));
    }
    return decodeText(Buffer.concat(chunks, total), `data file ${path}`, { maxBytes });
  } finally {
    await handle.close();
  }
}

/** A file as stat sees it: a changed, replaced or touched file gets a new identity. */
function identity(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

/**
 * Reads data files, remembering the last one: while its identity (device, inode, size, mtime, ctime) is unchanged,
 * its text comes back from a stat alone. New run validates the form, data included, after every change; without
 * this each keystroke re-read the file. Holds one text (at most MAX_DATA_BYTES) until another file is read.
 */
export class DataFileReader {
  private last: { identity: string; text: string } | undefined;

  constructor(private readonly read: (path: string) => Promise<string> = readDataFileAsync) {}

  async text(path: string): Promise<string> {
    const stats = attempt(path, () => statSync(path));
    if (this.last?.identity === identity(stats)) return this.last.text;
    // Identity taken before the read: a file changed during it is read again next time, never served stale.
    const text = await this.read(path);
    this.last = { identity: identity(stats), text };
    return text;
  }
}

function checkRegularFile(stats: Stats, path: string, maxBytes: number): void {
  if (stats.isDirectory()) throw new DataError('directory', `data file ${path} is a directory, not a file`);
  // A FIFO, socket or device would block the read (or, like /dev/zero, never end).
  if (!stats.isFile()) throw new DataError('not-a-file', `data file ${path} is not a regular file (a pipe, socket or device)`);
  if (stats.size > maxBytes) throw new DataError('too-large', `data file ${path} is ${formatMB(stats.size)}, more than the ${formatMB(maxBytes)} limit`);
}

function tooLarge(path: string, maxBytes: number): DataError {
  return new DataError('too-large', `data file ${path} is larger than the ${formatMB(maxBytes)} limit (more was read than its size says)`);
}

/**
 * The text in `bytes` (a file's or an upload's), with the same checks as a data file: size, empty, binary, UTF-8.
 * `source` names it in messages ("data file /x.txt", "uploaded text notes.txt").
 */
export function decodeText(bytes: Uint8Array, source: string, { maxBytes = MAX_DATA_BYTES }: ReadDataFileOptions = {}): string {
  if (bytes.length > maxBytes) throw new DataError('too-large', `${source} is ${formatMB(bytes.length)}, more than the ${formatMB(maxBytes)} limit`);
  if (bytes.length === 0) throw new DataError('empty', `${source} is empty`);
  // Checked before UTF-8 because a binary file usually fails both, and "binary" is the clearer diagnosis.
  if (bytes.includes(0)) throw new DataError('binary', `${source} looks like a binary file, not text`);
  const text = decodeUtf8(bytes, source);
  validateText(text, { source });
  return text;
}

/** What each way a path can fail to open means, in the user's words (all are data errors: exit 2, HTTP 400). */
const PATH_ERRORS: Record<string, (path: string) => string> = {
  ENOENT: (path) => `data file not found: ${path}`,
  ENOTDIR: (path) => `data file ${path} cannot exist: a part of the path before its end is a file, not a directory`,
  ENAMETOOLONG: (path) => `data file path is too long (${path.length} characters) for the file system`,
  ELOOP: (path) => `data file ${path} is a loop of symbolic links`,
  EACCES: (path) => `data file ${path} cannot be read: permission denied`,
  EPERM: (path) => `data file ${path} cannot be read: operation not permitted`,
  EISDIR: (path) => `data file ${path} is a directory, not a file`,
  EIO: (path) => `data file ${path} could not be read (I/O error)`,
};

function explain(error: unknown, path: string): unknown {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (code === 'ERR_INVALID_ARG_VALUE' || code === 'ERR_INVALID_ARG_TYPE' || path.includes('\0'))
    return new DataError('bad-path', `data file path ${JSON.stringify(path.slice(0, 200))} contains a NUL character; no file can have that name`);
  const describe = PATH_ERRORS[code];
  if (describe) return new DataError(code === 'ENOENT' ? 'missing' : 'bad-path', describe(path));
  // Any other errno (EINVAL from a kernel file, ENXIO, …) is still this file failing to read, not a crash.
  if (/^E[A-Z]+$/.test(code)) return new DataError('bad-path', `data file ${path} could not be read (${code}: ${(error as Error).message})`);
  return error;
}

function attempt<T>(path: string, action: () => T): T {
  try {
    return action();
  } catch (error) {
    throw explain(error, path);
  }
}

async function attemptAsync<T>(path: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw explain(error, path);
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
