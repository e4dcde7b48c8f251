import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUN_COLUMNS } from '../../src/shared/api';
import { RunStore, SCHEMA_VERSION, StoreError } from '../../src/store';
import { APPLICATION_ID, openDatabase } from '../../src/store/schema';
import { useTempDir } from './helpers';

const TABLES = ['checkpoints', 'evals', 'metrics', 'runs', 'samples', 'texts'];

function inspect<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const tableNames = (db: Database.Database): string[] =>
  db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
const userVersion = (db: Database.Database): number => db.pragma('user_version', { simple: true }) as number;

function openError(path: string): StoreError {
  try {
    RunStore.open(path).close();
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    return err as StoreError;
  }
  throw new Error(`expected RunStore.open(${path}) to fail`);
}

describe('schema', () => {
  const tempDir = useTempDir();

  it('migrates an empty file to the current version', () => {
    const path = join(tempDir(), 'runs.db');
    writeFileSync(path, '');
    RunStore.open(path).close();
    expect(SCHEMA_VERSION).toBe(7);
    inspect(path, (db) => {
      expect(userVersion(db)).toBe(SCHEMA_VERSION);
      expect(tableNames(db)).toEqual(TABLES);
    });
  });

  /** A database as GPT Lab v1 wrote it (before application_id stamps); `extraColumn` adds one to its runs table. */
  function v1Database(path: string, extraColumn = ''): void {
    const v1 = new Database(path);
    v1.exec(`CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, config_json TEXT NOT NULL,
      backend_json TEXT, data_source TEXT NOT NULL, data_hash TEXT, vocab_json TEXT, params INTEGER, sweep_key TEXT,
      created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER, last_step INTEGER NOT NULL DEFAULT 0,
      final_train_loss REAL, final_val_loss REAL, tokens_per_second REAL, error TEXT${extraColumn});
      INSERT INTO runs (name, status, config_json, data_source, created_at) VALUES ('old run', 'running', '{}', 'd', 1);
      PRAGMA user_version = 1;`);
    v1.close();
  }

  it('upgrades a v1 database in place, keeping its runs, and stamps it as GPT Lab\'s', () => {
    const path = join(tempDir(), 'v1.db');
    v1Database(path);
    const store = RunStore.open(path);
    expect(store.listRuns().map((r) => [r.name, r.ownerPid, r.ownerTag, r.tags, r.notes, r.parentId])).toEqual([['old run', null, null, [], '', null]]);
    store.close();
    inspect(path, (db) => {
      expect(userVersion(db)).toBe(SCHEMA_VERSION);
      expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
      expect(tableNames(db)).toEqual(['runs', 'texts']);
    });
  });

  /** Each column of the migrated runs table as `PRAGMA table_info` describes it, in RunColumn.sql's words. */
  function declaredColumns(db: Database.Database): Record<string, string> {
    const info = db.prepare('SELECT name, type, "notnull" AS required, dflt_value AS byDefault, pk FROM pragma_table_info(\'runs\')').all() as {
      name: string; type: string; required: number; byDefault: string | null; pk: number;
    }[];
    return Object.fromEntries(info.map((c) => [c.name, [c.type, c.pk ? 'PRIMARY KEY' : '', c.required ? 'NOT NULL' : '', c.byDefault === null ? '' : `DEFAULT ${c.byDefault}`].filter(Boolean).join(' ')]));
  }

  it('migrates the runs table to exactly the columns RUN_COLUMNS declares, with their declared types, from empty and from v1', () => {
    const declared = Object.fromEntries(Object.values(RUN_COLUMNS).map(({ column, sql }) => [column, sql]));
    const fresh = join(tempDir(), 'fresh.db');
    const old = join(tempDir(), 'old.db');
    v1Database(old);
    for (const path of [fresh, old]) {
      RunStore.open(path).close();
      expect(inspect(path, declaredColumns), path).toEqual(declared);
    }
  });

  it('v6 links a fine-tuned run to its parent, and deleting the parent keeps the child, unlinked', () => {
    const path = join(tempDir(), 'v1.db');
    v1Database(path);
    const store = RunStore.open(path);
    const [old] = store.listRuns();
    const child = store.createRun({ name: 'child', config: {}, dataSource: 'd', parentId: old!.id });
    expect(store.getRun(child)!.parentId).toBe(old!.id);
    expect(() => store.createRun({ name: 'orphan', config: {}, dataSource: 'd', parentId: 999 })).toThrow(/FOREIGN KEY/);
    store.deleteRun(old!.id);
    expect(store.listRuns().map((r) => [r.name, r.parentId])).toEqual([['child', null]]);
    store.close();
  });

  it('creates missing parent directories', () => {
    const path = join(tempDir(), 'a', 'b', 'runs.db');
    RunStore.open(path).close();
    inspect(path, (db) => expect(userVersion(db)).toBe(SCHEMA_VERSION));
  });

  it('re-opening changes nothing and keeps data', () => {
    const path = join(tempDir(), 'runs.db');
    const first = RunStore.open(path);
    const id = first.createRun({ name: 'kept', config: { nLayer: 2 }, dataSource: 'tiny' });
    first.close();
    const schemaCookie = inspect(path, (db) => db.pragma('schema_version', { simple: true }));

    const second = RunStore.open(path);
    expect(second.getRun(id)?.name).toBe('kept');
    expect(second.listRuns()).toHaveLength(1);
    second.close();
    inspect(path, (db) => {
      expect(userVersion(db)).toBe(SCHEMA_VERSION);
      expect(db.pragma('schema_version', { simple: true })).toBe(schemaCookie);
    });
  });

  it('configures every connection: WAL, synchronous=NORMAL, foreign keys, busy timeout', () => {
    const db = openDatabase(join(tempDir(), 'runs.db'));
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(1);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(2000);
    } finally {
      db.close();
    }
  });

  it('never leaves a half-migrated file', () => {
    // A column the v2 migration also adds makes it fail halfway through.
    const path = join(tempDir(), 'runs.db');
    v1Database(path, ', owner_pid INTEGER');

    expect(openError(path).message).toMatch(/duplicate column name: owner_pid/);
    inspect(path, (db) => {
      expect(userVersion(db)).toBe(1);
      expect(tableNames(db)).toEqual(['runs']);
      expect(db.prepare('SELECT name FROM runs').pluck().all()).toEqual(['old run']);
    });
  });

  it('refuses another application\'s SQLite file without changing a byte (no migration, no WAL)', () => {
    const dir = tempDir();
    const path = join(dir, 'other.db');
    const raw = new Database(path);
    raw.exec('CREATE TABLE evals (x); CREATE TABLE notes (text)');
    raw.close();
    const before = readFileSync(path);

    const err = openError(path);
    expect(err.code).toBe('NOT_OURS');
    expect(err.message).toBe(`${path} is another application's SQLite database (tables evals, notes), not GPT Lab's; it was left unchanged`);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(['other.db']);
  });

  it('refuses a file stamped with another application_id, even if it has a runs table', () => {
    const path = join(tempDir(), 'stamped.db');
    v1Database(path);
    const raw = new Database(path);
    raw.pragma('application_id = 1234');
    raw.close();
    const before = readFileSync(path);
    expect(openError(path).message).toMatch(/belongs to another application \(SQLite application_id 0x4d2\)/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('names the file and what quick_check found when a page is damaged, and changes nothing', () => {
    const path = join(tempDir(), 'damaged.db');
    const store = RunStore.open(path);
    const runId = store.createRun({ name: 'r', config: {}, dataSource: 'd' });
    store.appendMetrics(runId, Array.from({ length: 2000 }, (_, step) => ({ step, tokens: step, wallMs: step, trainLoss: 1, valLoss: null, lr: 1, gradNorm: 1 })));
    store.close();
    // Fold the WAL into the file, then scribble over the b-tree page headers of pages 3 to 5 (page 1 holds the schema).
    const raw = new Database(path);
    raw.pragma('wal_checkpoint(TRUNCATE)');
    raw.pragma('journal_mode = DELETE');
    raw.close();
    const bytes = readFileSync(path);
    const pageSize = bytes.readUInt16BE(16);
    for (const page of [3, 4, 5]) bytes.fill(0x5a, pageSize * (page - 1), pageSize * (page - 1) + 12);
    writeFileSync(path, bytes);

    const err = openError(path);
    expect(err.code).toBe('CORRUPT');
    expect(err.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is damaged \\(SQLite quick_check: `));
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('refuses a text file without touching it', () => {
    const dir = tempDir();
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'these are my notes, not a database\n'.repeat(50));
    const before = readFileSync(path);

    const err = openError(path);
    expect(err.code).toBe('NOT_SQLITE');
    expect(err.message).toBe(`${path} is not a GPT Lab database (not SQLite)`);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });

  it('refuses a database from a newer schema without modifying it', () => {
    const path = join(tempDir(), 'runs.db');
    RunStore.open(path).close();
    const raw = new Database(path);
    raw.pragma('user_version = 99');
    raw.close();
    const before = readFileSync(path);

    const err = openError(path);
    expect(err.code).toBe('NEWER_SCHEMA');
    expect(err.message).toBe(`${path} was written by a newer GPT Lab (schema v99, this build knows v${SCHEMA_VERSION})`);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('reports garbage after a valid SQLite header as corruption', () => {
    const dir = tempDir();
    const good = join(dir, 'good.db');
    RunStore.open(good).close();
    const path = join(dir, 'corrupt.db');
    writeFileSync(path, Buffer.concat([readFileSync(good).subarray(0, 100), randomBytes(16384)]));

    const err = openError(path);
    expect(err.code).toBe('CORRUPT');
    expect(err.message).toContain(`${path} is a corrupt SQLite database (`);
  });

  it('refuses a directory', () => {
    const path = join(tempDir(), 'runs.db');
    mkdirSync(path);
    const err = openError(path);
    expect(err.code).toBe('IS_DIRECTORY');
    expect(err.message).toBe(`${path} is a directory, not a GPT Lab database file`);
  });

  // Root ignores file modes, so as root we drop to 'nobody' for the open. That needs
  // process.seteuid, which exists in forked test workers but not in worker threads; there the
  // case cannot be reproduced and is skipped.
  const isRoot = process.getuid?.() === 0;
  const canDropRoot = isRoot && typeof process.seteuid === 'function';
  it.runIf(!isRoot || canDropRoot)('refuses a read-only file with a clear message', () => {
    const dir = tempDir();
    const path = join(dir, 'runs.db');
    const store = RunStore.open(path);
    store.createRun({ name: 'r', config: {}, dataSource: 'tiny' });
    store.close();
    chmodSync(path, 0o444);
    // The directory stays writable: SQLite could then open the file read-only without complaint.
    chmodSync(dir, 0o777);

    const err = withoutRoot(() => openError(path));
    expect(err.code).toBe('READ_ONLY');
    expect(err.message).toContain(`${path} is read-only`);
  });

  it('reports a database locked by another connection', () => {
    const path = join(tempDir(), 'runs.db');
    RunStore.open(path).close();
    const holder = new Database(path);
    try {
      // An exclusive-mode writer shuts out even readers, as another process mid-write would.
      holder.pragma('locking_mode = EXCLUSIVE');
      holder.exec('BEGIN EXCLUSIVE');
      holder.exec("INSERT INTO runs (name, status, config_json, data_source, created_at) VALUES ('x', 'queued', '{}', 'd', 0)");

      const err = openError(path);
      expect(err.code).toBe('LOCKED');
      expect(err.message).toBe(`${path} is locked by another process (still busy after 2000 ms)`);
    } finally {
      holder.close();
    }
  }, 10_000);
});

function withoutRoot<T>(fn: () => T): T {
  if (process.getuid?.() !== 0) return fn();
  const nobody = 65534;
  process.seteuid!(nobody);
  try {
    return fn();
  } finally {
    process.seteuid!(0);
  }
}
