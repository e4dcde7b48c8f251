/**
 * `npm start` (bin/start.mjs) deciding between the desktop app and web mode, run for real on a copy of bin/ inside a
 * scratch project whose node_modules/electron has no binary and a fake install.js that fails like an offline
 * download (every run of it is logged). Its out/ is up to date, so nothing builds; it has no src/, so web mode
 * cannot load and start.mjs exits right after choosing it, which is all these tests need.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let project: string;
let cache: string;

function start(...args: string[]): { stderr: string; status: number | null } {
  // XDG_CACHE_HOME is where env-paths puts the user's cache dir (and the download memo) on Linux.
  const result = spawnSync(process.execPath, [join(project, 'bin', 'start.mjs'), '--no-open', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, XDG_CACHE_HOME: cache } });
  return { stderr: result.stderr, status: result.status };
}
const downloads = () => (existsSync(join(project, 'electron.log')) ? readFileSync(join(project, 'electron.log'), 'utf8').split('\n').filter(Boolean).length : 0);

beforeAll(() => {
  mkdirSync(join(ROOT, '.vitest-tmp'), { recursive: true });
  // Inside the project, so start.mjs's imports (env-paths, tsx) resolve to its node_modules.
  project = mkdtempSync(join(ROOT, '.vitest-tmp', 'start-'));
  cache = join(project, 'cache');
  mkdirSync(join(project, 'bin'));
  for (const file of ['start.mjs', 'electron.mjs', 'electron-download-hook.cjs']) copyFileSync(join(ROOT, 'bin', file), join(project, 'bin', file));
  for (const file of ['out/main/index.js', 'out/main/host.js', 'out/preload/index.cjs', 'out/renderer/index.html']) {
    mkdirSync(join(project, file, '..'), { recursive: true });
    writeFileSync(join(project, file), '');
  }
  const electron = join(project, 'node_modules', 'electron');
  mkdirSync(electron, { recursive: true });
  writeFileSync(join(electron, 'package.json'), JSON.stringify({ name: 'electron', version: '45.5.0' }));
  writeFileSync(join(electron, 'install.js'), `require('fs').appendFileSync(${JSON.stringify(join(project, 'electron.log'))}, 'run\\n');\nconsole.error(new TypeError('fetch failed (getaddrinfo ENOTFOUND github.com)').stack);\nprocess.exit(1);\n`);
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('npm start without an Electron binary', () => {
  it('with --web never tries to download it', () => {
    const { stderr } = start('--web');
    expect(downloads()).toBe(0);
    expect(stderr).not.toMatch(/Electron/);
    expect(stderr).toMatch(/cannot load the web mode/);
  });

  it('tries the download once, says why it failed, and falls back to web mode', () => {
    const { stderr } = start();
    expect(downloads()).toBe(1);
    const lines = stderr.split('\n');
    expect(lines[0]).toBe("gpt-lab: Electron's binary is not downloaded: downloading Electron 45.5.0 (up to 300 s; ELECTRON_MIRROR and HTTPS_PROXY are honoured)…");
    expect(lines[1]).toBe('gpt-lab: downloading Electron failed: fetch failed (getaddrinfo ENOTFOUND github.com), so GPT Lab runs in your browser instead (web mode).');
    expect(JSON.parse(readFileSync(join(cache, 'gpt-lab', 'electron-download.json'), 'utf8'))).toMatchObject({ reason: 'fetch failed (getaddrinfo ENOTFOUND github.com)' });
  });

  it('does not retry a download that failed moments ago', () => {
    const { stderr } = start();
    expect(downloads()).toBe(1);
    expect(stderr.split('\n')[0]).toMatch(/^gpt-lab: Electron's binary is not downloaded; downloading it failed less than a minute ago \(fetch failed \(getaddrinfo ENOTFOUND github\.com\)\) and is retried at most once an hour/);
  });
});
