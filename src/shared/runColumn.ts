/**
 * The shape of one entry of RUN_COLUMNS (src/shared/api.ts), the one declaration of a run's fields: the store derives
 * its SELECT, INSERT, UPDATE and row mapping from the table, the contract its RunInfo. Kept apart from api.ts because
 * it holds no schema of its own, only the rules every column follows.
 */
import { z } from 'zod';

export interface RunColumn {
  /** The SQL column. */
  column: string;
  /**
   * Its declared type as `PRAGMA table_info` reports it ("TEXT NOT NULL", "INTEGER NOT NULL DEFAULT 0"); the
   * migration in src/store/schema.ts creates it (foreign keys too, which table_info does not show), and
   * test/store/schema.test.ts checks that the migrated table and this declaration agree.
   */
  sql: string;
  /** The value as the store returns it. */
  value: z.ZodType;
  /** The field as RunInfo shows it; null for what the store keeps to itself (the owner process, the vocabulary). */
  contract: z.ZodType | null;
  /** Stored as JSON text rather than as it is. */
  json?: true;
  /** Read instead of SQL NULL: for columns added after rows existed. */
  whenNull?: unknown;
  /**
   * Set for a column whose stored value is checked when read back (unreadable JSON, or a value `value` refuses): the
   * row is then listed anyway, marked damaged, with this value in the field. A column without it is read as it is.
   */
  ifInvalid?: unknown;
  /** Given to createRun: required, optional, or not at all (the store sets it, or only updates do). */
  create?: 'required' | 'optional';
  /** Settable through updateRun. */
  update?: true;
  /** Writes are checked against `value` and refused with its description (for enums, which SQLite would take as any text). */
  checkWrites?: true;
}

type ContractShape<Columns extends Record<string, RunColumn>> = {
  [K in keyof Columns as Columns[K]['contract'] extends z.ZodType ? K : never]: Extract<Columns[K]['contract'], z.ZodType>;
};

/** The zod shape of the fields the contract shows, in the table's order. */
export function contractShape<Columns extends Record<string, RunColumn>>(columns: Columns): ContractShape<Columns> {
  return Object.fromEntries(Object.entries(columns).flatMap(([field, { contract }]) => (contract ? [[field, contract]] : []))) as ContractShape<Columns>;
}
