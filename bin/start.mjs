#!/usr/bin/env node
// `npm start`: build the app if its sources changed, then open the desktop app, or, when Electron's binary is
// missing and cannot be downloaded (bin/electron.mjs; never tried with --web), serve the lab on 127.0.0.1 and open it in the browser.
//
//   npm start [-- --web] [--port N] [--host 127.0.0.1] [--db FILE] [--data-dir DIR] [--no-open]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import envPaths from 'env-paths';
import { ensureElectron } from './electron.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => process.stderr.write(`gpt-lab: ${line}\n`);

function parseOptions() {
  try {
    const { values } = parseArgs({
      options: {
        web: { type: 'boolean', default: false },
        port: { type: 'string' },
        host: { type: 'string' },
        db: { type: 'string' },
        'data-dir': { type: 'string' },
        'no-open': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      process.stdout.write('usage: npm start [-- --web] [--port N] [--host 127.0.0.1|::1|localhost] [--db FILE] [--data-dir DIR] [--no-open]\n');
      process.exit(0);
    }
    let port = 0;
    if (values.port !== undefined) {
      port = Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a whole number from 0 to 65535, got ${JSON.stringify(values.port)}`);
    }
    return { ...values, port };
  } catch (error) {
    say(error.message);
    process.exit(2);
  }
}

/** Newest modification time under `path` (files only), 0 when it does not exist. */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = 0;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

const OUTPUTS = ['out/main/index.js', 'out/main/host.js', 'out/preload/index.cjs', 'out/renderer/index.html'];

function buildIfNeeded() {
  const outputs = OUTPUTS.map((file) => join(root, file));
  const built = outputs.every((file) => existsSync(file)) ? Math.min(...outputs.map((file) => statSync(file).mtimeMs)) : 0;
  const sources = Math.max(newest(join(root, 'src')), newest(join(root, 'electron.vite.config.ts')), newest(join(root, 'package.json')));
  if (built > sources) return;
  const cli = join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
  if (!existsSync(cli)) {
    if (built > 0) return say('electron-vite is not installed, so the app cannot be rebuilt; using the existing build in out/');
    say('the app is not built and electron-vite is not installed: run `npm install`, then `npm start` again');
    process.exit(1);
  }
  say('building the app (electron-vite build)…');
  const result = spawnSync(process.execPath, [cli, 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    say('building the app failed (see above)');
    process.exit(1);
  }
}

/** Where there is no display Electron cannot open a window, downloaded or not. */
function noDisplay() {
  return process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
}

/** The progress line of Electron's download: rewritten in place on a terminal; elsewhere printed once. */
function progressLine(line, final) {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2Kgpt-lab: ${line}${final ? '\n' : ''}`);
  else if (!progressLine.shown) say(line);
  progressLine.shown = true;
}

function onPath(command) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, command)));
}

/** Opens `url` in the default browser when there is one; never fails. */
function openBrowser(url) {
  if (process.env.CI) return false;
  let command;
  let args = [url];
  if (process.platform === 'darwin') command = 'open';
  else if (process.platform === 'win32') [command, args] = ['rundll32', ['url.dll,FileProtocolHandler', url]];
  else {
    if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return false;
    if (!onPath('xdg-open')) return false;
    command = 'xdg-open';
  }
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}

async function webMode(options) {
  let runWebMode;
  try {
    const { register } = await import('tsx/esm/api');
    register();
    ({ runWebMode } = await import('../src/server/webMode.ts'));
  } catch (error) {
    say(`cannot load the web mode: ${String(error?.message ?? error).split('\n')[0]} (try \`npm install\`)`);
    process.exit(1);
  }
  await runWebMode({
    port: options.port,
    host: options.host,
    dbPath: options.db,
    dataDir: options['data-dir'],
    onListening: (server) => {
      const opened = !options['no-open'] && openBrowser(server.openUrl);
      process.stdout.write(`GPT Lab is running at ${server.openUrl}${opened ? ' (opened in your browser)' : ''}\n`);
      say('press Ctrl+C to stop');
    },
  });
}

const options = parseOptions();
buildIfNeeded();

if (options.web) {
  await webMode(options);
} else {
  const electron = await ensureElectron({
    electronDir: join(root, 'node_modules', 'electron'),
    memoFile: join(envPaths('gpt-lab', { suffix: '' }).cache, 'electron-download.json'),
    progress: progressLine,
  });
  if (electron.binary && noDisplay()) {
    say('there is no display (DISPLAY and WAYLAND_DISPLAY are unset), so GPT Lab runs in your browser instead (web mode).');
    await webMode(options);
  } else if (electron.binary) {
    // The lab runs under this Node (whose ABI better-sqlite3 was built for), not Electron's.
    const env = { ...process.env, GPT_LAB_NODE: process.execPath, ...(options.db ? { GPT_LAB_DB: options.db } : {}) };
    const child = spawn(electron.binary, [root], { stdio: 'inherit', env });
    child.on('error', (error) => {
      say(`Electron could not start (${error.message}), so GPT Lab runs in your browser instead`);
      void webMode(options);
    });
    child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
  } else {
    say(`${electron.why}, so GPT Lab runs in your browser instead (web mode).`);
    await webMode(options);
  }
}
