/**
 * The reference results shipped with the app: the summary tables of docs/RECIPES.md (the full-size runs, and the
 * quick-size ones for recipes not re-run at full size), parsed from the document itself so they are never a stale
 * copy. Shown beside "run it yourself" until a recipe has a result of its own here.
 */

export interface RecipeReference {
  name: string;
  version: number;
  verdict: string;
  summary: string;
  /** Which table it came from: the full-size runs, or (when a recipe has none) the quick-size ones. */
  size: 'full' | 'quick';
}

/** The cells of a table row; `\|` inside a cell is a literal bar. */
function cells(line: string): string[] {
  return line
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

/**
 * Rows like "| `name` v2 | **held** | measured |" (or with a claim column before the verdict), under a "## Full size"
 * or "## Quick size…" heading; rows before any such heading count as full size. A full-size row wins.
 */
export function parseRecipeReferences(markdown: string): Map<string, RecipeReference> {
  const references = new Map<string, RecipeReference>();
  let size: RecipeReference['size'] | null = 'full';
  for (const raw of markdown.split('\n')) {
    const line = raw.trim();
    const heading = /^##\s+(.*)$/.exec(line);
    if (heading) {
      size = /full size/i.test(heading[1]) ? 'full' : /quick size/i.test(heading[1]) ? 'quick' : null;
      continue;
    }
    const row = /^\| `([a-z0-9-]+)` v(\d+) \|.*\|$/.exec(line);
    if (!row || size === null) continue;
    const [, ...rest] = cells(line);
    const verdict = rest.map((cell) => /^\*\*(.+)\*\*$/.exec(cell)?.[1]).find((v) => v !== undefined);
    if (!verdict) continue;
    if (size === 'quick' && references.get(row[1])?.size === 'full') continue;
    references.set(row[1], { name: row[1], version: Number(row[2]), verdict, summary: rest[rest.length - 1], size });
  }
  return references;
}
