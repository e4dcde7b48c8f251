/** Which stored length evaluations a view shows: per run, the newest of each rope scaling (plain rope included). */
import { evalLengthResultSchema, type EvalLengthResultData } from '../shared/api';

/** `rows` oldest first, as the store lists them; rows that do not parse (older formats, damage) are skipped. */
export function newestLengthEvals(rows: readonly { payload: unknown }[]): EvalLengthResultData[] {
  const byScaling = new Map<string, EvalLengthResultData>();
  for (const row of rows) {
    const parsed = evalLengthResultSchema.safeParse(row.payload);
    if (parsed.success) byScaling.set(parsed.data.ropeScaling ?? 'none', parsed.data);
  }
  return [...byScaling.values()];
}
