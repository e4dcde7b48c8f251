/**
 * The files a command names: the database (`--db`) and an output file (`export --out`), checked before anything is
 * opened, so a slip of the keyboard cannot train into a throwaway database or overwrite the runs.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultDbPath } from '../store/defaultPath';
import { UsageError } from './args';

/** The database file a command uses. `""` and `:memory:` would give SQLite a temporary database that vanishes on exit. */
export function dbPathOf(opts: { db?: string }): string {
  if (opts.db === undefined) return defaultDbPath();
  if (opts.db.trim() === '' || opts.db === ':memory:' || opts.db.startsWith('file:'))
    throw new UsageError(`--db: expected the path of a database file, got ${JSON.stringify(opts.db)} (a temporary database would lose every run on exit)`);
  return opts.db;
}

/** SQLite's own files beside a database: writing over any of them damages it. */
const DATABASE_FILES = ['', '-wal', '-shm', '-journal'];

/** Refuses an output path that is the database (by name, or by inode through a link) or a directory. */
export function checkOutputPath(out: string, dbPath: string): void {
  const target = statSync(out, { throwIfNoEntry: false });
  if (target?.isDirectory()) throw new UsageError(`--out: ${out} is a directory; give a file name`);
  for (const suffix of DATABASE_FILES) {
    const file = `${dbPath}${suffix}`;
    const sameName = resolve(out) === resolve(file);
    const existing = target && statSync(file, { throwIfNoEntry: false });
    const sameFile = existing && existing.dev === target.dev && existing.ino === target.ino;
    if (sameName || sameFile) throw new UsageError(`--out: ${out} is the database${suffix ? `'s ${suffix.slice(1)} file` : ''} (${dbPath}); writing the export there would destroy the runs`);
  }
}
