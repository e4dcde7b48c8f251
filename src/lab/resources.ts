/**
 * Files the lab ships beside its code (resources/ at the project root): built-in texts. Found by walking up from
 * this module, so the same lookup works from src/ under tsx, from the bundled out/ folders, and, through Electron's
 * `process.resourcesPath`, in a packaged app whose builder copies resources/ there.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LEVELS_UP = 4;

export function resourcePath(relative: string): string {
  const packaged = (process as { resourcesPath?: string }).resourcesPath;
  const candidates = packaged ? [join(packaged, 'app.asar.unpacked', 'resources', relative), join(packaged, relative)] : [];
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < LEVELS_UP; i++, dir = dirname(dir)) candidates.push(join(dir, 'resources', relative));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`the lab's resource ${relative} is missing (looked in ${candidates.join(', ')})`);
  return found;
}
