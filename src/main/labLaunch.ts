/**
 * How the desktop app runs its lab process, as plain data so a test can check it (and start it) without Electron:
 * - installed (app.isPackaged): under Electron's own Node, `process.execPath` with ELECTRON_RUN_AS_NODE=1: there
 *   is no system Node, and electron-builder rebuilt better-sqlite3 for exactly this ABI;
 * - `npm start`: under the system Node named by GPT_LAB_NODE, whose ABI better-sqlite3 was built for;
 * - otherwise (e.g. `electron-vite dev`) null: the lab runs inside the main process.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LabProcessLaunch } from '../hosts/lab/client';
import { BUNDLED_ENTRIES } from '../hosts/launch';

export interface LabLaunchContext {
  isPackaged: boolean;
  /** Electron's binary (process.execPath in the main process). */
  execPath: string;
  /** The folder of the bundled main process files (out/main). */
  mainDir: string;
  dbPath: string;
  env: NodeJS.ProcessEnv;
  exists?: (path: string) => boolean;
}

export function labProcessLaunch({ isPackaged, execPath, mainDir, dbPath, env, exists = existsSync }: LabLaunchContext): LabProcessLaunch | null {
  const modulePath = join(mainDir, BUNDLED_ENTRIES.lab);
  if (isPackaged) return { modulePath, dbPath, nodePath: execPath, env: { ...env, ELECTRON_RUN_AS_NODE: '1' } };
  const systemNode = env.GPT_LAB_NODE;
  if (systemNode && exists(systemNode)) return { modulePath, dbPath, nodePath: systemNode, env };
  return null;
}
