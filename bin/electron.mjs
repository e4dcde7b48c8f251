// Electron's binary for `npm start`: find it without `require('electron')` (which would download it with no time
// limit and no way to say why it failed), and otherwise run Electron's own downloader (node_modules/electron/
// install.js, which honours ELECTRON_MIRROR, electron_config_cache and, through ELECTRON_GET_USE_PROXY, HTTPS_PROXY)
// once, with a time limit. A failed download is remembered in the user's cache dir so that the next `npm start`
// within the hour goes straight to web mode instead of failing the same way again.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RETRY_AFTER_MS = 60 * 60 * 1000;
/** Electron is ~100 MB: a minute or two on an ordinary connection; past this the user is better off in web mode. */
export const DOWNLOAD_TIME_LIMIT_MS = 300_000;

const CAUSE_HOOK = join(dirname(fileURLToPath(import.meta.url)), 'electron-download-hook.cjs');

/**
 * Electron's binary under `electronDir` (node_modules/electron), as Electron's own index.js would find it:
 * `{ binary }`, or `{ why, downloadable }` where `downloadable` says install.js is there to fetch it.
 */
export function findElectronBinary(electronDir, env = process.env) {
  if (!existsSync(join(electronDir, 'package.json'))) return { why: 'the electron package is not installed', downloadable: false };
  const downloadable = existsSync(join(electronDir, 'install.js'));
  const pathFile = join(electronDir, 'path.txt');
  if (!existsSync(pathFile)) return { why: "Electron's binary is not downloaded", downloadable };
  const binary = join(env.ELECTRON_OVERRIDE_DIST_PATH || join(electronDir, 'dist'), readFileSync(pathFile, 'utf8').trim());
  if (!existsSync(binary)) return { why: `Electron's binary is missing (${binary})`, downloadable };
  return { binary };
}

/** The failure remembered in `memoFile` if it is less than RETRY_AFTER_MS old: `{ failedAt, reason }`, else null. */
export function recentDownloadFailure(memoFile, now = Date.now()) {
  let memo;
  try {
    memo = JSON.parse(readFileSync(memoFile, 'utf8'));
  } catch {
    return null; // none yet, or unreadable: trying again is the safe side
  }
  const fresh = typeof memo?.failedAt === 'number' && typeof memo.reason === 'string' && memo.failedAt <= now && now - memo.failedAt < RETRY_AFTER_MS;
  return fresh ? { failedAt: memo.failedAt, reason: memo.reason } : null;
}

export function rememberDownloadFailure(memoFile, reason, now = Date.now()) {
  try {
    mkdirSync(dirname(memoFile), { recursive: true });
    writeFileSync(memoFile, `${JSON.stringify({ failedAt: now, reason })}\n`);
  } catch {
    // An unwritable cache dir only costs a retry next time.
  }
}

/** The environment for install.js: proxies are used only when ELECTRON_GET_USE_PROXY is set, so set it for them. */
export function downloaderEnv(env) {
  const proxied = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].some((name) => env[name]);
  return {
    ...env,
    // Its own progress bar appears after 30 s and fights with ours for the line.
    ELECTRON_GET_NO_PROGRESS: '1',
    ...(proxied && env.ELECTRON_GET_USE_PROXY === undefined ? { ELECTRON_GET_USE_PROXY: 'true' } : {}),
  };
}

/** The one line of install.js's output that says why it failed: the error's message, not its stack. */
export function failureLine(output) {
  const lines = output.split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('at '));
  const line = lines.find((candidate) => /error|failed|ENOTFOUND|ECONN|ETIMEDOUT|EAI_AGAIN/i.test(candidate)) ?? lines[0];
  return line ? line.replace(/^[A-Za-z]*Error: /, '') : 'it printed nothing';
}

/**
 * Runs `<electronDir>/install.js` under `nodePath` and resolves `{ ok: true }` or `{ ok: false, why }` (one line);
 * stops it after `timeoutMs`. `onTick(seconds)` is called once a second while it runs.
 */
export function runElectronDownloader({ electronDir, timeoutMs = DOWNLOAD_TIME_LIMIT_MS, env = process.env, nodePath = process.execPath, onTick = () => undefined }) {
  return new Promise((resolve) => {
    const child = spawn(nodePath, ['--require', CAUSE_HOOK, join(electronDir, 'install.js')], { cwd: electronDir, env: downloaderEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    let seconds = 0;
    const collect = (chunk) => {
      output = (output + chunk.toString('utf8')).slice(-16_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const ticker = setInterval(() => onTick(++seconds), 1000);
    const limit = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, timeoutMs);
    const finish = (result) => {
      clearInterval(ticker);
      clearTimeout(limit);
      resolve(result);
    };
    child.on('error', (error) => finish({ ok: false, why: `the downloader could not start (${error.message})` }));
    child.on('exit', (code, signal) => {
      if (timedOut) finish({ ok: false, why: `it did not finish within ${duration(timeoutMs)} and was stopped` });
      else if (code === 0) finish({ ok: true });
      else finish({ ok: false, why: signal ? `the downloader was killed (${signal})` : failureLine(output) });
    });
  });
}

function duration(ms) {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

function minutesAgo(then, now) {
  const minutes = Math.floor((now - then) / 60_000);
  return minutes < 1 ? 'less than a minute ago' : `${minutes} min ago`;
}

/**
 * Electron's binary, downloading it first when it is missing (at most one failed try per hour, remembered in
 * `memoFile`): resolves `{ binary }` or `{ why }`, a phrase that completes "…, so GPT Lab runs in your browser".
 * `progress(line, final)` shows the one progress line (rewritten while the download runs).
 */
export async function ensureElectron({ electronDir, memoFile, timeoutMs = DOWNLOAD_TIME_LIMIT_MS, env = process.env, now = Date.now, progress }) {
  const found = findElectronBinary(electronDir, env);
  if (found.binary || !found.downloadable) return found;
  const failure = recentDownloadFailure(memoFile, now());
  if (failure) {
    return { why: `${found.why}; downloading it failed ${minutesAgo(failure.failedAt, now())} (${failure.reason}) and is retried at most once an hour (delete ${memoFile} to retry now)` };
  }
  const version = JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')).version;
  const line = `${found.why}: downloading Electron ${version} (up to ${duration(timeoutMs)}; ELECTRON_MIRROR and HTTPS_PROXY are honoured)…`;
  progress(line, false);
  const result = await runElectronDownloader({ electronDir, timeoutMs, env, onTick: (seconds) => progress(`${line} ${seconds} s`, false) });
  progress(result.ok ? `${line} done` : `${line} failed`, true);
  if (!result.ok) {
    rememberDownloadFailure(memoFile, result.why, now());
    return { why: `downloading Electron failed: ${result.why}` };
  }
  rmSync(memoFile, { force: true });
  const downloaded = findElectronBinary(electronDir, env);
  return downloaded.binary ? downloaded : { why: `Electron's downloader finished but ${downloaded.why}` };
}
