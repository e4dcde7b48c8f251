/** What the browser tests share: Debian's Chromium and its flags, a renderer build when stale, downloads. */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  return stat.isDirectory() ? Math.max(0, ...readdirSync(path).map((entry) => newest(join(path, entry)))) : stat.mtimeMs;
}

/** Builds the renderer when out/renderer is missing or older than its sources. */
export function buildRendererIfStale(): void {
  const built = newest(join(ROOT, 'out', 'renderer', 'index.html'));
  const sources = Math.max(newest(join(ROOT, 'src', 'renderer')), newest(join(ROOT, 'src', 'shared')), newest(join(ROOT, 'electron.vite.config.ts')));
  if (built > sources) return;
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build', '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`electron-vite build failed:\n${result.stderr}${result.stdout}`);
}

/** Clicks an export menu item and returns the saved file's path and name. */
export async function download(page: Page, scope: string, kind: string, dir: string): Promise<{ path: string; name: string }> {
  await page.click(`${scope} [data-testid=export-toggle]`);
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(`${scope} [data-testid=export-${kind}]`)]);
  const path = join(dir, `${kind}-${file.suggestedFilename()}`);
  await file.saveAs(path);
  return { path, name: file.suggestedFilename() };
}


/**
 * Collects what would tell a user something broke: uncaught page errors, console errors and, unless turned off,
 * every response with status ≥ 400 (as "status /path").
 */
export function recordPageErrors(page: Page, errors: string[], { failedResponses = true } = {}): void {
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  if (failedResponses)
    page.on('response', (response) => {
      if (response.status() >= 400) errors.push(`${response.status()} ${new URL(response.url()).pathname}`);
    });
}
