import envPaths from 'env-paths';
import { join } from 'node:path';

/**
 * Where runs live unless told otherwise: $GPT_LAB_DB, else runs.db in the platform's data directory.
 * (env-paths itself reads XDG_DATA_HOME etc. from process.env, not from `env`.)
 */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.GPT_LAB_DB || join(envPaths('gpt-lab', { suffix: '' }).data, 'runs.db');
}
