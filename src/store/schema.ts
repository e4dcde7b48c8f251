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
  // v4: the owner's host and start time (owner.ts), so a reused pid is not taken for the run's trainer.
  `
  ALTER TABLE runs ADD COLUMN owner_tag TEXT;
  `,
  // v5: the user's tags (a JSON array of strings) and notes on a run.
  `
  ALTER TABLE runs ADD COLUMN tags_json TEXT;
  ALTER TABLE runs ADD COLUMN notes TEXT;
  `,
  // v6: the run a fine-tune continued (gpt-lab finetune); deleting the parent keeps the child, unlinked.
  `
  ALTER TABLE runs ADD COLUMN parent_run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL;
  `,
  // v7: how many cells the sweep that made a run had, so the Sweeps view can say how many were deleted since.
  `
  ALTER TABLE runs ADD COLUMN sweep_size INTEGER;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
/** PRAGMA application_id of every GPT Lab database ('GPLb'), so other applications' SQLite files are told apart. */
export const APPLICATION_ID = 0x47504c62;
const BUSY_TIMEOUT_MS = 2000;
const SQLITE_MAGIC = 'SQLite format 3\0';
/** quick_check reads every page; above this size opening would take seconds, so larger files skip it. */
export const QUICK_CHECK_MAX_BYTES = 256 * 1024 * 1024;

/** Opens (creating it unless `mustExist`) a GPT Lab database, or throws a StoreError saying why it cannot. */
export function openDatabase(path: string, { mustExist = false } = {}): Database.Database {
  let db: Database.Database | undefined;
  try {
    const size = path === ':memory:' ? 0 : checkFile(path, mustExist);
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    // Connection settings only (nothing is written to the file): deleteRun relies on ON DELETE CASCADE, which
    // SQLite ignores unless foreign keys are on.
    db.pragma('foreign_keys = ON');
    // Nothing in the file changes before these pass: a foreign or damaged file is left exactly as it was.
    checkOwnership(db, path);
    checkVersion(db, path);
    if (size > 0) checkIntegrity(db, path, size);
    // NORMAL is durable enough under WAL: a power cut can lose the last commits, never corrupt the file.
    db.pragma('synchronous = NORMAL');
    db.pragma('journal_mode = WAL');
    migrate(db);
    return db;
  } catch (err) {
    db?.close();
    throw explain(err, path);
  }
}

/** Refuses what cannot be a database file; returns its size (0 for a file to create). */
function checkFile(path: string, mustExist: boolean): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) {
    // Reading commands must not leave an empty database behind for a mistyped path.
    if (mustExist) throw new StoreError('NOT_FOUND', `no GPT Lab database at ${path}`);
    mkdirSync(dirname(path), { recursive: true });
    return 0;
  }
  if (stat.isDirectory()) {
    throw new StoreError('IS_DIRECTORY', `${path} is a directory, not a GPT Lab database file`);
  }
  // An empty file is a valid empty database; anything else must carry SQLite's header.
  if (stat.size > 0 && readHead(path, SQLITE_MAGIC.length) !== SQLITE_MAGIC) {
    throw new StoreError('NOT_SQLITE', `${path} is not a GPT Lab database (not SQLite)`);
  }
  checkWritable(path);
  return stat.size;
}

/**
 * Ours: stamped with APPLICATION_ID, or empty (no tables yet), or written before the stamp existed (user_version
 * set and GPT Lab's runs table). Anything else is another application's file and is refused untouched.
 */
function checkOwnership(db: Database.Database, path: string): void {
  const appId = db.pragma('application_id', { simple: true }) as number;
  if (appId === APPLICATION_ID) return;
  if (appId !== 0)
    throw new StoreError('NOT_OURS', `${path} belongs to another application (SQLite application_id 0x${(appId >>> 0).toString(16)}), not GPT Lab; it was left unchanged`);
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
  if (tables.length === 0 && userVersion(db) === 0) return;
  const runColumns = new Set((db.prepare("SELECT name FROM pragma_table_info('runs')").all() as { name: string }[]).map((c) => c.name));
  const legacy = userVersion(db) >= 1 && ['config_json', 'data_source', 'status'].every((c) => runColumns.has(c));
  if (legacy) return;
  const listed = tables.length ? `tables ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}` : `no tables, user_version ${userVersion(db)}`;
  throw new StoreError('NOT_OURS', `${path} is another application's SQLite database (${listed}), not GPT Lab's; it was left unchanged`);
}

/** PRAGMA quick_check on an existing file (bounded: skipped above QUICK_CHECK_MAX_BYTES), so damage is named at open, not mid-run. */
function checkIntegrity(db: Database.Database, path: string, size: number): void {
  if (size > QUICK_CHECK_MAX_BYTES) return;
  const found = (db.pragma('quick_check(3)') as { quick_check: string }[]).map((r) => r.quick_check);
  if (found.length === 1 && found[0] === 'ok') return;
  throw new StoreError('CORRUPT', `${path} is damaged (SQLite quick_check: ${found.join('; ')}); restore a backup, or copy what is readable out with \`sqlite3 ${path} .recover\``);
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
  if (db.pragma('application_id', { simple: true }) !== APPLICATION_ID) db.pragma(`application_id = ${APPLICATION_ID}`);
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
