/**
 * The tables of docs/RELIABILITY.md that the reliability tests keep: each lives between `<!-- NAME:begin -->` and
 * `<!-- NAME:end -->`. With UPDATE_DOCS=1 a test rewrites its table from what it just saw; always, it checks that
 * every row it tried is in the doc with the same key columns (the free-text outcome may carry timings or temp paths,
 * so it is not compared).
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';

export const DOC_PATH = 'docs/RELIABILITY.md';

export type Row = string[];

/** One table cell: pipes escaped, one line, and `<` escaped so markup in an attack shows as text in any viewer. */
const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('<', '&lt;').replaceAll('\n', ' / ').trim();
const line = (cells: string[]): string => `| ${cells.map(cell).join(' | ')} |`;

export function markdownTable(header: string[], rows: Row[]): string {
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

/** Several test files may rewrite the doc at once (UPDATE_DOCS=1): one at a time, through a lock file. */
function withLock(work: () => void): void {
  const lock = `${DOC_PATH}.lock`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch {
      // A lock older than 30 s was left by a test process that died.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 30_000) rmSync(lock, { force: true });
      if (Date.now() > deadline) throw new Error(`${lock} is held by another test`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    work();
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * Rewrites (UPDATE_DOCS=1) and checks the table `name`. `keyColumns` leading cells of each row must appear as a row
 * of the doc's table.
 */
export function syncDocTable(name: string, header: string[], rows: Row[], keyColumns = 2): void {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const table = markdownTable(header, rows);
  if (process.env.UPDATE_DOCS === '1') {
    withLock(() => {
      const doc = existsSync(DOC_PATH) ? readFileSync(DOC_PATH, 'utf8') : '';
      const at = doc.indexOf(begin);
      const stop = doc.indexOf(end);
      const updated = at >= 0 && stop > at ? `${doc.slice(0, at)}${begin}\n${table}\n${doc.slice(stop)}` : `${doc.trimEnd()}\n\n${begin}\n${table}\n${end}\n`;
      const tmp = `${DOC_PATH}.${process.pid}.tmp`;
      writeFileSync(tmp, updated);
      renameSync(tmp, DOC_PATH);
    });
  }
  const doc = readFileSync(DOC_PATH, 'utf8');
  const at = doc.indexOf(begin);
  const stop = doc.indexOf(end);
  expect(at, `${DOC_PATH} has no ${begin} (run with UPDATE_DOCS=1)`).toBeGreaterThanOrEqual(0);
  expect(stop, `${DOC_PATH} has no ${end}`).toBeGreaterThan(at);
  const section = doc.slice(at, stop);
  for (const row of rows) {
    const key = `| ${row.slice(0, keyColumns).map(cell).join(' | ')} |`;
    expect(section, `${DOC_PATH} (${name}) lacks the row "${key}"; run the test with UPDATE_DOCS=1`).toContain(key);
  }
}

/** Collects the rows of one test file; `add` records what a test saw. */
export class Outcomes {
  readonly rows: Row[] = [];

  add(...cells: (string | number)[]): void {
    this.rows.push(cells.map(String));
  }
}

/** Milliseconds, rounded for a table. */
export function ms(value: number): string {
  return value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`;
}
