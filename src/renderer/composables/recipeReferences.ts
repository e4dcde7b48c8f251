/**
 * The reference results shipped with the app: the summary table of docs/RECIPES.md (one full-size run of every
 * recipe, with its machine in the text above the table), parsed from the document itself so it is never a stale
 * copy. Shown beside "run it yourself" until a recipe has a result of its own here.
 */

export interface RecipeReference {
  name: string;
  version: number;
  verdict: string;
  summary: string;
}

/** Rows like "| `name` v2 | claim | **held** | measured |" of the document's summary table. */
export function parseRecipeReferences(markdown: string): Map<string, RecipeReference> {
  const references = new Map<string, RecipeReference>();
  for (const line of markdown.split('\n')) {
    const match = /^\| `([a-z0-9-]+)` v(\d+) \| [^|]+ \| \*\*([^*]+)\*\* \| ([^|]+) \|$/.exec(line.trim());
    if (match) references.set(match[1], { name: match[1], version: Number(match[2]), verdict: match[3], summary: match[4].trim() });
  }
  return references;
}
