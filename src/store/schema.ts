/**
 * Opening a database file: refuse anything that is not ours (or is newer than us) before touching it,
 * then configure the connection and bring the schema up to date.
 */
import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreError } from './errors';

// MIGRATIONS[v] takes a database from user_version v to v + 1. Append only: never edit a shipped one.
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    config_json TEXT NOT NULL,
    backend_json TEXT,
    data_source TEXT NOT NULL,
    data_hash TEXT,
    vocab_json TEXT,
    params INTEGER,
    sweep_key TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    last_step INTEGER NOT NULL DEFAULT 0,
    final_train_loss REAL,
    final_val_loss REAL,
    tokens_per_second REAL,
    error TEXT
  );
  CREATE INDEX runs_status ON runs(status);
  CREATE INDEX runs_created_at ON runs(created_at);
  CREATE INDEX runs_sweep_key ON runs(sweep_key);

  CREATE TABLE metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    wall_ms REAL NOT NULL,
    train_loss REAL,
    val_loss REAL,
    lr REAL,
    grad_norm REAL,
    PRIMARY KEY (run_id, step)
  ) WITHOUT ROWID;

  CREATE TABLE samples (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    prompt TEXT,
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX samples_run_step ON samples(run_id, step);

  CREATE TABLE checkpoints (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (run_id, step)
  );

  CREATE TABLE evals (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    payload_json TEXT NOT NULL
  );
  CREATE INDEX evals_run_kind ON evals(run_id, kind);
  `,
  // v2: the process training a run, so a crash can be told apart from a run another process is still training.
  `
  ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
  `,
  // v3: texts uploaded to the lab (web upload, desktop drop), named by the SHA-256 of their bytes: a run's data
  // source `text:<id>` keeps working after the original file moves or is deleted.
  `
  CREATE TABLE texts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    bytes BLOB NOT NULL,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
const BUSY_TIMEOUT_MS = 2000;
const SQLITE_MAGIC = 'SQLite format 3\0';

/** Opens (creating it unless `mustExist`) a GPT Lab database, or throws a StoreError saying why it cannot. */
export function openDatabase(path: string, { mustExist = false } = {}): Database.Database {
  let db: Database.Database | undefined;
  try {
    if (path !== ':memory:') checkFile(path, mustExist);
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    // deleteRun relies on ON DELETE CASCADE, which SQLite ignores unless foreign keys are on.
    db.pragma('foreign_keys = ON');
    // NORMAL is durable enough under WAL: a power cut can lose the last commits, never corrupt the file.
    db.pragma('synchronous = NORMAL');
    checkVersion(db, path);
    // Switching to WAL is also the first read of the schema, so a damaged file fails here, not mid-run.
    db.pragma('journal_mode = WAL');
    migrate(db);
    return db;
  } catch (err) {
    db?.close();
    throw explain(err, path);
  }
}

function checkFile(path: string, mustExist: boolean): void {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) {
    // Reading commands must not leave an empty database behind for a mistyped path.
    if (mustExist) throw new StoreError('NOT_FOUND', `no GPT Lab database at ${path}`);
    mkdirSync(dirname(path), { recursive: true });
    return;
  }
  if (stat.isDirectory()) {
    throw new StoreError('IS_DIRECTORY', `${path} is a directory, not a GPT Lab database file`);
  }
  // An empty file is a valid empty database; anything else must carry SQLite's header.
  if (stat.size > 0 && readHead(path, SQLITE_MAGIC.length) !== SQLITE_MAGIC) {
    throw new StoreError('NOT_SQLITE', `${path} is not a GPT Lab database (not SQLite)`);
  }
  checkWritable(path);
}

function readHead(path: string, length: number): string {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(length);
    const read = readSync(fd, head, 0, length, 0);
    return head.subarray(0, read).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

// SQLite silently falls back to read-only when it cannot open for writing, and the failure would
// only surface at the first write, mid-run. Asking the OS up front gives the real reason.
function checkWritable(path: string): void {
  try {
    closeSync(openSync(path, 'r+'));
  } catch (err) {
    if (hasCode(err, ['EACCES', 'EPERM', 'EROFS'])) throw readOnly(path, err);
    throw err;
  }
}

function checkVersion(db: Database.Database, path: string): void {
  const version = userVersion(db);
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      'NEWER_SCHEMA',
      `${path} was written by a newer GPT Lab (schema v${version}, this build knows v${SCHEMA_VERSION})`,
    );
  }
}

function migrate(db: Database.Database): void {
  for (const [from, sql] of MIGRATIONS.entries()) {
    if (userVersion(db) > from) continue;
    // IMMEDIATE takes the write lock before re-reading the version, so two processes opening a
    // fresh file cannot both apply the same migration.
    db.transaction(() => {
      if (userVersion(db) !== from) return;
      db.exec(sql);
      db.pragma(`user_version = ${from + 1}`);
    }).immediate();
  }
}

function userVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function explain(err: unknown, path: string): StoreError {
  if (err instanceof StoreError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof Database.SqliteError ? err.code : '';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(
      'LOCKED',
      `${path} is locked by another process (still busy after ${BUSY_TIMEOUT_MS} ms)`,
      { cause: err },
    );
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new StoreError('CORRUPT', `${path} is a corrupt SQLite database (${message})`, { cause: err });
  }
  if (code.startsWith('SQLITE_READONLY')) return readOnly(path, err);
  return new StoreError('CANNOT_OPEN', `cannot open ${path}: ${message}`, { cause: err });
}

function readOnly(path: string, cause: unknown): StoreError {
  return new StoreError(
    'READ_ONLY',
    `${path} is read-only; GPT Lab needs write access to the file and its directory`,
    { cause },
  );
}

function hasCode(err: unknown, codes: string[]): boolean {
  return err instanceof Error && codes.includes((err as NodeJS.ErrnoException).code ?? '');
}
