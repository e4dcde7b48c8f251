/**
 * Which data sources a client may name. The desktop app trains on any file its user picks; in web mode an API
 * client (anyone holding the token, a script, a tab that got it) must not read arbitrary files of the user
 * (samples would store their bytes, probe errors reveal their characters), so there only the built-in corpora,
 * uploaded texts (`text:<sha256>`) and files under one allow-listed data folder are accepted.
 */
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { DataError } from '../engine/data/errors';
import { isTextSource } from './uploadedTexts';

/** Web mode's rule: the folder files may come from (`--data-dir` or GPT_LAB_DATA_DIR), or none at all. */
export interface WebDataRule {
  dataDir?: string;
}

export const DATA_DIR_ENV = 'GPT_LAB_DATA_DIR';

/** Symlinks resolved where the file exists, so a link inside the folder cannot point out of it. */
function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * The source as the lab should read it (relative paths resolved against `cwd`), or a DataError 'not-allowed'
 * saying what web mode accepts. Without a rule (the desktop app, the CLI) every path is allowed.
 */
export function allowedDataSource(source: string, cwd: string, rule: WebDataRule | undefined): string {
  // Uploaded texts live in the lab's database; loading one checks its id (uploadedTexts.ts).
  if (source.startsWith('builtin:') || isTextSource(source)) return source;
  const path = isAbsolute(source) ? source : resolve(cwd, source);
  if (!rule) return path;
  const accepted = 'in web mode the data must be builtin:NAME, an uploaded text (text:<sha256>) or a file in the data folder';
  if (!rule.dataDir) throw new DataError('not-allowed', `${accepted}; no data folder is set (start with --data-dir DIR or ${DATA_DIR_ENV}=DIR), so files cannot be used`);
  const folder = realOrResolved(rule.dataDir);
  const inside = relative(folder, realOrResolved(path));
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside) || source.includes('\0'))
    throw new DataError('not-allowed', `${accepted} (${folder}); ${JSON.stringify(source.slice(0, 200))} is outside it`);
  return path;
}
