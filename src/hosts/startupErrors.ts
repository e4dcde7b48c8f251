/** Turns the ways starting the lab fails on a user's machine into one sentence that says what to do. */
import { StoreError } from '../store/errors';

export function describeStartupError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/NODE_MODULE_VERSION|was compiled against a different Node\.js version/.test(message))
    return 'better-sqlite3 was built for a different Node.js/Electron version: run `npm rebuild better-sqlite3` (or `npx @electron/rebuild -f -w better-sqlite3` for the desktop app).';
  if (/better[-_]sqlite3|bindings file|better_sqlite3\.node/i.test(message))
    return 'the SQLite module (better-sqlite3) is not built: run `npm rebuild better-sqlite3` (it needs a C++ compiler and Python).';
  if (error instanceof StoreError) return `cannot open the run database: ${message}`;
  if (/EADDRINUSE/.test(message)) return 'that port is already in use: pick another with --port, or leave it out to get a free one.';
  return message.split('\n')[0];
}
