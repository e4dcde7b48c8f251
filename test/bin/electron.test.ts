/**
 * `npm start`'s Electron download (bin/electron.mjs) against fake node_modules/electron folders whose install.js
 * succeeds, fails, hangs or really fetches (from a closed loopback port), so nothing leaves the machine.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script without types
import * as electron from '../../bin/electron.mjs';

const { downloaderEnv, ensureElectron, failureLine, findElectronBinary, recentDownloadFailure, RETRY_AFTER_MS, runElectronDownloader } = electron;

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fake node_modules/electron whose install.js is `script`; every run of it appends a line to runs.log. */
function fakeElectron(script: string): { dir: string; memoFile: string; runs: () => number } {
  const base = mkdtempSync(join(tmpdir(), 'gpt-lab-electron-'));
  temps.push(base);
  const dir = join(base, 'node_modules', 'electron');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'electron', version: '45.5.0' }));
  writeFileSync(join(dir, 'install.js'), `require('fs').appendFileSync(__dirname + '/runs.log', 'run\\n');\n${script}`);
  const log = join(dir, 'runs.log');
  return { dir, memoFile: join(base, 'cache', 'electron-download.json'), runs: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0) };
}

const INSTALLS = `const fs = require('fs'); fs.mkdirSync(__dirname + '/dist'); fs.writeFileSync(__dirname + '/dist/electron', ''); fs.writeFileSync(__dirname + '/path.txt', 'electron');`;
const FAILS = `console.error(new Error('Response code 404 (Not Found) for https://mirror.example/v45.5.0/electron.zip').stack); process.exit(1);`;
const HANGS = `setInterval(() => undefined, 1000);`;
/** Fetches from a port nothing listens on, as @electron/get would from an unreachable server. */
const FETCHES = `fetch('http://127.0.0.1:' + process.env.CLOSED_PORT + '/electron.zip').catch((err) => { console.error(err.stack); process.exit(1); });`;

const quiet = () => undefined;

describe('finding the binary', () => {
  it('says why when the package, path.txt or the binary is missing, and finds it when present', () => {
    const fake = fakeElectron(INSTALLS);
    expect(findElectronBinary(join(fake.dir, '..', 'nothing-here'))).toEqual({ why: 'the electron package is not installed', downloadable: false });
    expect(findElectronBinary(fake.dir)).toEqual({ why: "Electron's binary is not downloaded", downloadable: true });
    writeFileSync(join(fake.dir, 'path.txt'), 'electron');
    expect(findElectronBinary(fake.dir)).toMatchObject({ why: expect.stringContaining("Electron's binary is missing"), downloadable: true });
    mkdirSync(join(fake.dir, 'dist'));
    writeFileSync(join(fake.dir, 'dist', 'electron'), '');
    expect(findElectronBinary(fake.dir)).toEqual({ binary: join(fake.dir, 'dist', 'electron') });
    expect(findElectronBinary(fake.dir, { ELECTRON_OVERRIDE_DIST_PATH: '/elsewhere' })).toMatchObject({ why: expect.stringContaining('/elsewhere/electron') });
  });
});

describe("running Electron's downloader", () => {
  it('downloads, then finds the binary and forgets any failure', async () => {
    const fake = fakeElectron(INSTALLS);
    const lines: string[] = [];
    const result = await ensureElectron({ electronDir: fake.dir, memoFile: fake.memoFile, progress: (line: string) => lines.push(line) });
    expect(result).toEqual({ binary: join(fake.dir, 'dist', 'electron') });
    expect(lines[0]).toMatch(/^Electron's binary is not downloaded: downloading Electron 45\.5\.0 \(up to 300 s; /);
    expect(lines.at(-1)).toMatch(/done$/);
    expect(existsSync(fake.memoFile)).toBe(false);
  });

  it("reports the downloader's error message in one line, not its stack", async () => {
    const fake = fakeElectron(FAILS);
    const result = await ensureElectron({ electronDir: fake.dir, memoFile: fake.memoFile, progress: quiet });
    expect(result).toEqual({ why: 'downloading Electron failed: Response code 404 (Not Found) for https://mirror.example/v45.5.0/electron.zip' });
  });

  it("names the network error fetch hides in err.cause", async () => {
    const fake = fakeElectron(FETCHES);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const result = await runElectronDownloader({ electronDir: fake.dir, env: { ...process.env, CLOSED_PORT: String(port) } });
    expect(result.ok).toBe(false);
    expect(result.why).toMatch(/^fetch failed \(.*ECONNREFUSED.*\)$/);
  });

  it('stops a download that runs past its time limit', async () => {
    const fake = fakeElectron(HANGS);
    const result = await ensureElectron({ electronDir: fake.dir, memoFile: fake.memoFile, timeoutMs: 300, progress: quiet });
    expect(result).toEqual({ why: 'downloading Electron failed: it did not finish within 300 ms and was stopped' });
    expect(recentDownloadFailure(fake.memoFile)?.reason).toBe('it did not finish within 300 ms and was stopped');
  });

  it('tries at most once an hour after a failure, and says when it last failed', async () => {
    const fake = fakeElectron(FAILS);
    const t0 = Date.UTC(2026, 11, 1, 8, 0, 0);
    const at = (ms: number) => () => ms;
    const start = (ms: number) => ensureElectron({ electronDir: fake.dir, memoFile: fake.memoFile, now: at(ms), progress: quiet });

    await start(t0);
    expect(fake.runs()).toBe(1);
    const memo = await start(t0 + 5 * 60_000);
    expect(fake.runs()).toBe(1);
    expect(memo.why).toBe(
      `Electron's binary is not downloaded; downloading it failed 5 min ago (Response code 404 (Not Found) for https://mirror.example/v45.5.0/electron.zip) and is retried at most once an hour (delete ${fake.memoFile} to retry now)`,
    );
    await start(t0 + RETRY_AFTER_MS - 1);
    expect(fake.runs()).toBe(1);
    await start(t0 + RETRY_AFTER_MS);
    expect(fake.runs()).toBe(2);
  });

  it('retries when the memo is damaged or from the future (a clock set back)', () => {
    const fake = fakeElectron(FAILS);
    mkdirSync(join(fake.memoFile, '..'), { recursive: true });
    writeFileSync(fake.memoFile, '{"failedAt":');
    expect(recentDownloadFailure(fake.memoFile, 1000)).toBeNull();
    writeFileSync(fake.memoFile, JSON.stringify({ failedAt: 5000, reason: 'x' }));
    expect(recentDownloadFailure(fake.memoFile, 1000)).toBeNull();
    expect(recentDownloadFailure(fake.memoFile, 6000)).toEqual({ failedAt: 5000, reason: 'x' });
  });

  it('does not run a downloader that is not there', async () => {
    const fake = fakeElectron(FAILS);
    rmSync(join(fake.dir, 'install.js'));
    expect(await ensureElectron({ electronDir: fake.dir, memoFile: fake.memoFile, progress: quiet })).toEqual({ why: "Electron's binary is not downloaded", downloadable: false });
  });
});

describe("the downloader's environment and output", () => {
  it('turns on proxy support only where a proxy is set, and silences its own progress bar', () => {
    expect(downloaderEnv({ ELECTRON_MIRROR: 'https://m.example/' })).toEqual({ ELECTRON_MIRROR: 'https://m.example/', ELECTRON_GET_NO_PROGRESS: '1' });
    expect(downloaderEnv({ https_proxy: 'http://p:3128' })).toMatchObject({ ELECTRON_GET_USE_PROXY: 'true' });
    expect(downloaderEnv({ HTTPS_PROXY: 'http://p:3128', ELECTRON_GET_USE_PROXY: '' })).toMatchObject({ ELECTRON_GET_USE_PROXY: '' });
  });

  it('picks the error line out of a stack trace', () => {
    const stack = 'TypeError: fetch failed (getaddrinfo ENOTFOUND github.com)\n    at node:internal/deps/undici:1\n    at async FetchDownloader.download (x.js:46:30)';
    expect(failureLine(stack)).toBe('fetch failed (getaddrinfo ENOTFOUND github.com)');
    expect(failureLine('Downloading…\nError: checksum mismatch\n    at y')).toBe('checksum mismatch');
    expect(failureLine('')).toBe('it printed nothing');
  });
});
