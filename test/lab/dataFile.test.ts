import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/engine/data';
import { DataFileReader, readDataFile, readDataFileAsync } from '../../src/lab/dataFile';

const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-datafile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, contents: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, contents);
  return path;
}

function dataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DataError) return err;
    throw err;
  }
  throw new Error('expected a DataError');
}

describe('readDataFile', () => {
  it('reads a UTF-8 text file, dropping a byte-order mark', () => {
    expect(readDataFile(file('good.txt', 'héllo 😀\nworld\n'))).toBe('héllo 😀\nworld\n');
    expect(readDataFile(file('bom.txt', '\ufeffhi\n'))).toBe('hi\n');
  });

  it('reports a missing file', () => {
    const path = join(dir, 'nope.txt');
    expect(dataError(() => readDataFile(path))).toMatchObject({
      code: 'missing',
      message: `data file not found: ${path}`,
    });
  });

  it('reports a directory', () => {
    const path = join(dir, 'folder');
    mkdirSync(path);
    const err = dataError(() => readDataFile(path));
    expect(err.code).toBe('directory');
    expect(err.message).toContain(path);
  });

  it('reports a file over the size limit in MB', () => {
    const path = file('big.txt', 'a'.repeat(300_000));
    const err = dataError(() => readDataFile(path, { maxBytes: 100_000 }));
    expect(err.code).toBe('too-large');
    expect(err.message).toContain('0.3 MB');
    expect(err.message).toContain('0.1 MB limit');
    expect(readDataFile(path, { maxBytes: 300_000 })).toHaveLength(300_000);
  });

  it('reports invalid UTF-8 with the offset of the bad byte', () => {
    const path = file('latin1.txt', new Uint8Array([0x61, 0x62, 0x63, 0xff, 0xfe, 0x64]));
    const err = dataError(() => readDataFile(path));
    expect(err.code).toBe('not-utf8');
    expect(err.message).toContain('offset 3');
  });

  it('points at the start of a malformed character after valid multi-byte ones', () => {
    const good = new TextEncoder().encode('é😀 ok ');
    const path = file('mixed.txt', new Uint8Array([...good, 0xc3, 0x28]));
    expect(dataError(() => readDataFile(path)).message).toContain(`offset ${good.length}`);
  });

  it('points at a character cut off at the end of the file', () => {
    const path = file('cut.txt', new Uint8Array([0x61, 0x62, 0xf0, 0x9f, 0x98]));
    const err = dataError(() => readDataFile(path));
    expect(err.code).toBe('not-utf8');
    expect(err.message).toContain('byte offset 2');
  });

  it('reports a binary file', () => {
    const path = file('image.bin', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x0d, 0x0a]));
    const err = dataError(() => readDataFile(path));
    expect(err.code).toBe('binary');
    expect(err.message).toContain('looks like a binary file');
    expect(dataError(() => readDataFile(file('controls.txt', 'ab\x01\x02\x03\x04')))).toMatchObject({ code: 'binary' });
  });

  it('reports an empty or blank file', () => {
    expect(dataError(() => readDataFile(file('empty.txt', '')))).toMatchObject({ code: 'empty' });
    expect(dataError(() => readDataFile(file('blank.txt', '\n\n  \n'))).code).toBe('empty');
  });
});

describe('readDataFile: the limit is on bytes read, and every path error is a DataError', () => {
  it('reads a kernel file that stat says is empty (the limit does not trust stat.size)', () => {
    expect(readDataFile('/proc/self/status')).toMatch(/^Name:/);
  });

  it('stops an endless or oversized kernel file at the limit instead of reading it all', () => {
    expect(dataError(() => readDataFile('/proc/self/status', { maxBytes: 16 })).message).toBe('data file /proc/self/status is larger than the 0.0 MB limit (more was read than its size says)');
    expect(dataError(() => readDataFile('/proc/self/pagemap', { maxBytes: 3 * 1024 * 1024 })).code).toBe('too-large');
  });

  it.each([
    ['ENOTDIR', () => join(file('plain', 'x'), 'inside.txt'), /cannot exist: a part of the path before its end is a file, not a directory/],
    ['ENAMETOOLONG', () => join(dir, 'n'.repeat(300)), /data file path is too long \(\d+ characters\) for the file system/],
    ['ELOOP', () => {
      const a = join(dir, 'loop-a');
      symlinkSync(join(dir, 'loop-b'), a);
      symlinkSync(a, join(dir, 'loop-b'));
      return a;
    }, /is a loop of symbolic links/],
    ['NUL', () => `${join(dir, 'x')}\0.txt`, /contains a NUL character; no file can have that name/],
  ])('%s', (_, path, message) => {
    const error = dataError(() => readDataFile(path()));
    expect(error.code).toBe('bad-path');
    expect(error.message).toMatch(message);
  });
});

describe('readDataFileAsync', () => {
  it('reads what readDataFile reads and refuses what it refuses, with the same messages', async () => {
    const good = file('async.txt', 'héllo\n'.repeat(100));
    expect(await readDataFileAsync(good)).toBe(readDataFile(good));
    for (const bad of [join(dir, 'missing.txt'), dir, '/dev/zero', file('async-empty', ''), file('async-bin', Uint8Array.from([0, 1, 2])), `${good}\0`]) {
      const sync = dataError(() => readDataFile(bad));
      await expect(readDataFileAsync(bad), bad).rejects.toThrow(sync.message);
    }
    await expect(readDataFileAsync('/proc/self/status', { maxBytes: 16 })).rejects.toThrow('is larger than the 0.0 MB limit');
  });
});

describe('DataFileReader', () => {
  /** A reader whose reads are counted, path by path. */
  function countingReader(): { reader: DataFileReader; reads: string[] } {
    const reads: string[] = [];
    return { reads, reader: new DataFileReader((path) => (reads.push(path), readDataFileAsync(path))) };
  }

  it('reads a file once while it is unchanged: the New run loop validating after every edit stats it, no more', async () => {
    const path = file('cached.txt', 'first text\n');
    const { reader, reads } = countingReader();
    for (let edit = 0; edit < 5; edit++) expect(await reader.text(path)).toBe('first text\n');
    expect(reads).toEqual([path]);
  });

  it('reads it again once it changes, even to the same size and the same mtime (ctime moves)', async () => {
    const path = file('edited.txt', 'version one\n');
    const wholeSecond = 1_700_000_000;
    utimesSync(path, wholeSecond, wholeSecond);
    const { reader, reads } = countingReader();
    await reader.text(path);
    writeFileSync(path, 'version two\n');
    utimesSync(path, wholeSecond, wholeSecond);
    expect(statSync(path).mtimeMs).toBe(wholeSecond * 1000);
    expect(await reader.text(path)).toBe('version two\n');
    expect(reads).toHaveLength(2);
  });

  it('reads a file replaced by another under the same name, and each path on its own', async () => {
    const path = file('replaced.txt', 'old\n');
    const other = file('other.txt', 'other\n');
    const { reader, reads } = countingReader();
    await reader.text(path);
    renameSync(file('replacement.txt', 'new\n'), path);
    expect(await reader.text(path)).toBe('new\n');
    expect(await reader.text(other)).toBe('other\n');
    expect(await reader.text(path)).toBe('new\n');
    expect(reads).toEqual([path, path, other, path]);
  });

  it('refuses a remembered file that is gone or no longer a file, with readDataFile’s messages', async () => {
    const path = file('vanishing.txt', 'here\n');
    const { reader } = countingReader();
    await reader.text(path);
    unlinkSync(path);
    await expect(reader.text(path)).rejects.toThrow(`data file not found: ${path}`);
    mkdirSync(path);
    await expect(reader.text(path)).rejects.toThrow(`data file ${path} is a directory, not a file`);
    const empty = file('becomes-empty.txt', 'text\n');
    await reader.text(empty);
    writeFileSync(empty, '');
    await expect(reader.text(empty)).rejects.toThrow(`data file ${empty} is empty`);
  });
});
