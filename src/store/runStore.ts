/**
 * Everything GPT Lab remembers about runs: their config and status, metric curves, samples,
 * checkpoints and evals, in one SQLite file that the UI, the CLI and training hosts share.
 */
import Database from 'better-sqlite3';
import type { z } from 'zod';
import { RUN_COLUMNS, type RunStatus } from '../shared/api';
import type { RunColumn } from '../shared/runColumn';
import { StoreError } from './errors';
import { describeOwner, ownerIsAlive, type RunOwner } from './owner';
import { openDatabase } from './schema';

export type { RunStatus };

type Columns = typeof RUN_COLUMNS;
type Field = keyof Columns;
type Value<K extends Field> = z.infer<Columns[K]['value']>;
type FieldsWhere<Entry> = { [K in Field]: Columns[K] extends Entry ? K : never }[Field];

/** A stored run, one field per RUN_COLUMNS entry. */
export type RunRecord = { [K in Field]: Value<K> } & {
  /** Set when the stored row cannot be read back (e.g. invalid config_json): what is wrong; the row is listed anyway. */
  damaged: string | null;
};

export type NewRun = { [K in FieldsWhere<{ create: 'required' }>]: Value<K> } & { [K in FieldsWhere<{ create: 'optional' }>]?: Value<K> } & {
  /** The process that will train it, set with the row (a 'running' run is never without an owner). */
  owner?: RunOwner;
};

export type RunPatch = Partial<{ [K in FieldsWhere<{ update: true }>]: Value<K> }>;

export interface MetricRow {
  step: number;
  tokens: number;
  wallMs: number;
  trainLoss: number | null;
  valLoss: number | null;
  lr: number | null;
  gradNorm: number | null;
}

export interface SampleRow {
  step: number;
  prompt: string | null;
  text: string;
  createdAt: number;
}

export interface EvalRow {
  id: number;
  kind: string;
  createdAt: number;
  payload: unknown;
}

const FIELDS = Object.keys(RUN_COLUMNS) as Field[];
const SELECT_RUNS = `SELECT ${FIELDS.map((f) => RUN_COLUMNS[f].column).join(', ')} FROM runs`;
/** What createRun fills in itself, besides what NewRun gives. */
const SET_BY_CREATE: readonly Field[] = ['createdAt', 'ownerPid', 'ownerTag'];
const CREATE_FIELDS = FIELDS.filter((f) => 'create' in RUN_COLUMNS[f] || SET_BY_CREATE.includes(f));
const INSERT_RUN = `INSERT INTO runs (${CREATE_FIELDS.map((f) => RUN_COLUMNS[f].column).join(', ')}) VALUES (${CREATE_FIELDS.map(() => '?').join(', ')})`;

const column = (field: Field): RunColumn => RUN_COLUMNS[field];
const toJson = (value: unknown): string | null => (value == null ? null : JSON.stringify(value));
const fromJson = (text: string | null): unknown => (text === null ? null : JSON.parse(text));
const UNREADABLE = Symbol('unreadable');

/** A field's value as SQLite stores it; an enum field (checkWrites) refuses what it does not list. */
function encode(field: Field, value: unknown): unknown {
  const { json, value: schema, checkWrites } = column(field);
  if (checkWrites) {
    const checked = schema.safeParse(value);
    if (!checked.success) throw new StoreError('INVALID_ARGUMENT', `'${String(value)}' is not ${schema.description} (${checked.error.issues[0]?.message})`);
  }
  return json ? toJson(value) : value;
}

/** A field of a stored row; what is wrong with a checked one goes to `damage` and it reads as its `ifInvalid`. */
function decode(field: Field, stored: unknown, damage: string[]): unknown {
  const { column: name, json, whenNull, value: schema, ifInvalid } = column(field);
  // Copies: the table's defaults are shared, a caller may change the record it gets.
  if (stored === null && whenNull !== undefined) return structuredClone(whenNull);
  if (!('ifInvalid' in column(field))) return json ? fromJson(stored as string | null) : stored;
  const value = json ? readJson(stored as string | null, name, damage, UNREADABLE) : stored;
  if (value === UNREADABLE) return structuredClone(ifInvalid);
  if (schema.safeParse(value).success) return value;
  damage.push(`${name} ${JSON.stringify(value).slice(0, 60)} is not ${schema.description}`);
  return structuredClone(ifInvalid);
}

/** A text uploaded to the lab; `id` is the SHA-256 of `bytes` in hex. */
export interface StoredText {
  id: string;
  name: string;
  bytes: Uint8Array;
  size: number;
  createdAt: number;
}

export class RunStore {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Opens or creates the database at `path` (parent directories too); ':memory:' for a throwaway one. */
  static open(path: string, options: { mustExist?: boolean } = {}): RunStore {
    return new RunStore(openDatabase(path, options));
  }

  close(): void {
    this.db.close();
  }

  createRun({ owner, ...input }: NewRun): number {
    const run: Partial<Record<Field, unknown>> = { ...input, status: input.status ?? 'queued', createdAt: Date.now(), ownerPid: owner?.pid, ownerTag: owner?.tag };
    const { lastInsertRowid } = this.sql(INSERT_RUN).run(...CREATE_FIELDS.map((field) => encode(field, run[field] ?? null)));
    return Number(lastInsertRowid);
  }

  getRun(id: number): RunRecord | undefined {
    const row = this.sql(`${SELECT_RUNS} WHERE id = ?`).get(id) as StoredRow | undefined;
    return row && toRunRecord(row);
  }

  /** Newest first. */
  listRuns(): RunRecord[] {
    return (this.sql(`${SELECT_RUNS} ORDER BY created_at DESC, id DESC`).all() as StoredRow[]).map(toRunRecord);
  }

  /** In creation order. */
  findRunsBySweepKey(key: string): RunRecord[] {
    return (this.sql(`${SELECT_RUNS} WHERE sweep_key = ? ORDER BY created_at, id`).all(key) as StoredRow[]).map(toRunRecord);
  }

  renameRun(id: number, name: string): void {
    this.setFields(id, { name });
  }

  /** Replaces the run's tags and notes. */
  annotateRun(id: number, tags: readonly string[], notes: string): void {
    this.setFields(id, { tags, notes });
  }

  /** Also deletes the run's metrics, samples, checkpoints and evals. */
  deleteRun(id: number): void {
    this.changeRun(id, 'DELETE FROM runs WHERE id = ?', [id]);
  }

  /** Sets the given fields; fields left out (or undefined) keep their value, null clears one. */
  updateRun(id: number, patch: RunPatch): void {
    for (const [key, value] of Object.entries(patch))
      if (value !== undefined && !(Object.hasOwn(RUN_COLUMNS, key) && column(key as Field).update))
        throw new StoreError('INVALID_ARGUMENT', `updateRun: '${key}' is not an updatable run field`);
    this.setFields(id, patch);
  }

  /**
   * Makes `owner` the run's trainer and sets it running (with `patch`), in one write transaction, unless another
   * live process trains it: then a StoreError RUN_BUSY says which. The check and the write cannot be split by a
   * second process doing the same, so two trainers never share a run.
   */
  claimRun(id: number, owner: RunOwner, patch: RunPatch = {}): void {
    this.db.transaction(() => {
      const run = this.getRun(id);
      if (!run) throw unknownRun(id);
      const live = (run.status === 'running' || run.status === 'paused') && run.ownerPid !== null;
      if (live && !(run.ownerPid === owner.pid && run.ownerTag === owner.tag) && ownerIsAlive(run.ownerPid, run.ownerTag))
        throw new StoreError('RUN_BUSY', `run ${id} is ${run.status} in ${describeOwner(run.ownerPid!, run.ownerTag)}; stop it there first`);
      this.updateRun(id, { ...patch, status: 'running', ownerPid: owner.pid, ownerTag: owner.tag });
    }).immediate();
  }

  /**
   * Drops the metrics and samples a run stored after `step` (the checkpoint it restarts from; -1 for none) and
   * moves last_step back, so a resumed attempt neither duplicates the killed one's rows nor leaves them behind.
   */
  truncateAfter(runId: number, step: number): void {
    this.writeForRun(runId, () => {
      this.sql('DELETE FROM metrics WHERE run_id = ? AND step > ?').run(runId, step);
      this.sql('DELETE FROM samples WHERE run_id = ? AND step > ?').run(runId, step);
      this.sql('UPDATE runs SET last_step = ? WHERE id = ?').run(Math.max(step, 0), runId);
    });
  }

  /**
   * Writes a batch in one transaction (so the caller decides how often to pay for a commit) and
   * moves the run's last_step forward. A step already stored is replaced, so a resumed run that
   * repeats steps since its checkpoint never duplicates them.
   */
  appendMetrics(runId: number, rows: readonly MetricRow[]): void {
    if (rows.length === 0) return;
    const insert = this.sql(
      `INSERT OR REPLACE INTO metrics (run_id, step, tokens, wall_ms, train_loss, val_loss, lr, grad_norm)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.writeForRun(runId, () => {
      let maxStep = 0;
      for (const row of rows) {
        insert.run(runId, row.step, row.tokens, row.wallMs,
          row.trainLoss ?? null, row.valLoss ?? null, row.lr ?? null, row.gradNorm ?? null);
        maxStep = Math.max(maxStep, row.step);
      }
      this.sql('UPDATE runs SET last_step = max(last_step, ?) WHERE id = ?').run(maxStep, runId);
    });
  }

  /** Rows with step > sinceStep, by step; pass the last step you have to poll for new ones. */
  metrics(runId: number, sinceStep = -1): MetricRow[] {
    return this.sql(
      `SELECT step, tokens, wall_ms AS wallMs, train_loss AS trainLoss, val_loss AS valLoss, lr,
              grad_norm AS gradNorm
       FROM metrics WHERE run_id = ? AND step > ? ORDER BY step`,
    ).all(runId, sinceStep) as MetricRow[];
  }

  addSample(runId: number, step: number, text: string, prompt?: string): void {
    this.writeForRun(runId, () => {
      this.sql('INSERT INTO samples (run_id, step, prompt, text, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(runId, step, prompt ?? null, text, Date.now());
    });
  }

  samples(runId: number): SampleRow[] {
    return this.sql(
      'SELECT step, prompt, text, created_at AS createdAt FROM samples WHERE run_id = ? ORDER BY step, id',
    ).all(runId) as SampleRow[];
  }

  /** Stores a checkpoint and drops all but the `keep` highest steps, atomically. */
  saveCheckpoint(runId: number, step: number, data: Uint8Array, keep = 2): void {
    if (!Number.isInteger(keep) || keep < 1) {
      throw new StoreError('INVALID_ARGUMENT', `saveCheckpoint: keep must be a positive integer, got ${keep}`);
    }
    this.writeForRun(runId, () => {
      this.sql('INSERT OR REPLACE INTO checkpoints (run_id, step, created_at, data) VALUES (?, ?, ?, ?)')
        .run(runId, step, Date.now(), data);
      this.sql(
        `DELETE FROM checkpoints WHERE run_id = ? AND step NOT IN
           (SELECT step FROM checkpoints WHERE run_id = ? ORDER BY step DESC LIMIT ?)`,
      ).run(runId, runId, keep);
    });
  }

  latestCheckpoint(runId: number): { step: number; data: Uint8Array } | undefined {
    return this.sql('SELECT step, data FROM checkpoints WHERE run_id = ? ORDER BY step DESC LIMIT 1')
      .get(runId) as { step: number; data: Uint8Array } | undefined;
  }

  addEval(runId: number, kind: string, payload: unknown): number {
    const { lastInsertRowid } = this.writeForRun(runId, () =>
      this.sql('INSERT INTO evals (run_id, kind, created_at, payload_json) VALUES (?, ?, ?, ?)')
        .run(runId, kind, Date.now(), JSON.stringify(payload ?? null)),
    );
    return Number(lastInsertRowid);
  }

  /** In the order they were added, optionally only one kind. */
  evals(runId: number, kind?: string): EvalRow[] {
    const rows = (
      kind === undefined
        ? this.sql('SELECT id, kind, created_at, payload_json FROM evals WHERE run_id = ? ORDER BY id').all(runId)
        : this.sql('SELECT id, kind, created_at, payload_json FROM evals WHERE run_id = ? AND kind = ? ORDER BY id')
            .all(runId, kind)
    ) as { id: number; kind: string; created_at: number; payload_json: string }[];
    return rows.map((row) => ({
      id: row.id,
      kind: row.kind,
      createdAt: row.created_at,
      // A damaged payload reads as null, which every caller's schema refuses: one bad row does not hide the rest.
      payload: readJson(row.payload_json, 'payload_json', [], null),
    }));
  }

  /**
   * Runs left 'running' or 'paused' by a process that no longer exists become 'interrupted'; returns how many.
   * A run whose owner is still alive (a CLI training in another terminal, say) is left alone.
   */
  markInterrupted(isAlive: (pid: number, tag: string | null) => boolean = ownerIsAlive): number {
    const stale = this.sql("SELECT id, owner_pid, owner_tag FROM runs WHERE status IN ('running', 'paused')")
      .all()
      .filter((row) => {
        const { owner_pid: pid, owner_tag: tag } = row as { owner_pid: number | null; owner_tag: string | null };
        return pid === null || !isAlive(pid, tag);
      }) as { id: number }[];
    const mark = this.sql("UPDATE runs SET status = 'interrupted' WHERE id = ? AND status IN ('running', 'paused')");
    this.db.transaction(() => stale.forEach((row) => mark.run(row.id)))();
    return stale.length;
  }

  /** Keeps `bytes` under `id` (their SHA-256, computed by the caller); the same bytes twice keep the first name. */
  addText(text: Omit<StoredText, 'size' | 'createdAt'>): StoredText {
    this.sql('INSERT INTO texts (id, name, bytes, size, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING').run(
      text.id,
      text.name,
      text.bytes,
      text.bytes.length,
      Date.now(),
    );
    return this.getText(text.id)!;
  }

  getText(id: string): StoredText | undefined {
    const row = this.sql('SELECT id, name, bytes, size, created_at FROM texts WHERE id = ?').get(id) as
      | { id: string; name: string; bytes: Uint8Array; size: number; created_at: number }
      | undefined;
    return row && { id: row.id, name: row.name, bytes: row.bytes, size: row.size, createdAt: row.created_at };
  }

  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /** Writes the defined fields of `values` to run `id` (none: only checks that the run exists). */
  private setFields(id: number, values: Partial<Record<Field, unknown>>): void {
    const fields = (Object.keys(values) as Field[]).filter((field) => values[field] !== undefined);
    if (fields.length === 0) {
      if (this.getRun(id) === undefined) throw unknownRun(id);
      return;
    }
    const assignments = fields.map((field) => `${column(field).column} = ?`).join(', ');
    this.changeRun(id, `UPDATE runs SET ${assignments} WHERE id = ?`, [...fields.map((field) => encode(field, values[field])), id]);
  }

  private changeRun(id: number, text: string, values: unknown[]): void {
    if (this.sql(text).run(...values).changes === 0) throw unknownRun(id);
  }

  /** Runs `write` in a transaction, reporting a missing run by id rather than as a constraint failure. */
  private writeForRun<T>(runId: number, write: () => T): T {
    try {
      return this.db.transaction(write)();
    } catch (err) {
      if (err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
        throw unknownRun(runId);
      }
      throw err;
    }
  }
}

/** A JSON column, or what is wrong with it (pushed to `damage`) and `fallback`: one bad row must not hide the rest. */
function readJson(text: string | null, column: string, damage: string[], fallback: unknown): unknown {
  try {
    return fromJson(text);
  } catch (error) {
    damage.push(`${column} is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
    return fallback;
  }
}

/** A row as SQLite returns it: column name → stored value. */
type StoredRow = Record<string, unknown>;

function toRunRecord(row: StoredRow): RunRecord {
  const damage: string[] = [];
  const run = Object.fromEntries(FIELDS.map((field) => [field, decode(field, row[column(field).column], damage)]));
  return { ...run, damaged: damage.length ? damage.join('; ') : null } as RunRecord;
}

function unknownRun(id: number): StoreError {
  return new StoreError('UNKNOWN_RUN', `no run with id ${id}`);
}
