import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allowedDataSource } from '../../src/lab/dataAccess';

const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-data-access-'));
const folder = join(dir, 'data');
mkdirSync(join(folder, 'nested'), { recursive: true });
writeFileSync(join(folder, 'nested', 'a.txt'), 'a');
writeFileSync(join(dir, 'outside.txt'), 'secret');
symlinkSync(join(dir, 'outside.txt'), join(folder, 'link.txt'));
symlinkSync(join(folder, 'nested'), join(dir, 'into-folder'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SHA = 'ab'.repeat(32);

describe('allowedDataSource', () => {
  it('allows everything (relative paths resolved) when there is no rule: the desktop app and the CLI', () => {
    expect(allowedDataSource('/etc/passwd', dir, undefined)).toBe('/etc/passwd');
    expect(allowedDataSource('x.txt', dir, undefined)).toBe(join(dir, 'x.txt'));
  });

  it('in web mode allows builtins, uploaded texts and files under the data folder (also through a link into it)', () => {
    const rule = { dataDir: folder };
    expect(allowedDataSource('builtin:copy', dir, rule)).toBe('builtin:copy');
    expect(allowedDataSource(`text:${SHA}`, dir, rule)).toBe(`text:${SHA}`);
    expect(allowedDataSource(join(folder, 'nested', 'a.txt'), dir, rule)).toBe(join(folder, 'nested', 'a.txt'));
    expect(allowedDataSource('data/nested/a.txt', dir, rule)).toBe(join(folder, 'nested', 'a.txt'));
    expect(allowedDataSource(join(dir, 'into-folder', 'a.txt'), dir, rule)).toBe(join(dir, 'into-folder', 'a.txt'));
    // A file that does not exist yet inside the folder is allowed; reading it then says "not found".
    expect(allowedDataSource(join(folder, 'later.txt'), dir, rule)).toBe(join(folder, 'later.txt'));
  });

  it('refuses paths outside the folder, the folder itself, links out of it, malformed text ids and NUL bytes', () => {
    const rule = { dataDir: folder };
    for (const source of ['/etc/passwd', join(dir, 'outside.txt'), join(folder, '..', 'outside.txt'), join(folder, 'link.txt'), folder, `${folder}-evil/x.txt`, `${join(folder, 'nested', 'a.txt')}\0`])
      expect(() => allowedDataSource(source, dir, rule), source).toThrow(/in web mode the data must be builtin:NAME, an uploaded text \(text:<sha256>\) or a file in the data folder \(.*\); ".*" is outside it/);
  });

  it('refuses every file, saying how to allow a folder, when web mode has none', () => {
    expect(() => allowedDataSource(join(folder, 'nested', 'a.txt'), dir, {})).toThrow('no data folder is set (start with --data-dir DIR or GPT_LAB_DATA_DIR=DIR), so files cannot be used');
    expect(allowedDataSource('builtin:count', dir, {})).toBe('builtin:count');
  });
});
