/**
 * The lab process as the installed app launches it: the launch decision (installed / `npm start` / in-process),
 * electron-builder's layout under resources/, and the bundled out/ files started with exactly the packaged launch
 * (Electron-as-Node is emulated by the system Node, which ignores ELECTRON_RUN_AS_NODE; the layout's app.asar is a
 * plain folder here, as Electron's fs makes it look to the app).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLabProcess, type RemoteLab } from '../../src/hosts/lab/client';
import { labProcessLaunch } from '../../src/main/labLaunch';
import { checkPackagedFiles, dawnTarget, packagedLayout } from '../../src/main/packagedLayout';
import type { LabEvent } from '../../src/shared/api';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ELECTRON = '/opt/GPT Lab/gpt-lab';

describe('how the lab process is launched', () => {
  const base = { execPath: ELECTRON, mainDir: '/app/out/main', dbPath: '/home/u/runs.db' };

  it("installed: Electron's own binary as Node, whatever GPT_LAB_NODE says", () => {
    const launch = labProcessLaunch({ ...base, isPackaged: true, env: { HOME: '/home/u', GPT_LAB_NODE: '/usr/bin/node' }, exists: () => true });
    expect(launch).toEqual({
      modulePath: '/app/out/main/labProcess.js',
      dbPath: '/home/u/runs.db',
      nodePath: ELECTRON,
      env: { HOME: '/home/u', GPT_LAB_NODE: '/usr/bin/node', ELECTRON_RUN_AS_NODE: '1' },
    });
  });

  it('npm start: the system Node it names, with the environment as it is', () => {
    const env = { GPT_LAB_NODE: '/usr/bin/node' };
    expect(labProcessLaunch({ ...base, isPackaged: false, env, exists: (path) => path === '/usr/bin/node' })).toEqual({
      modulePath: '/app/out/main/labProcess.js',
      dbPath: '/home/u/runs.db',
      nodePath: '/usr/bin/node',
      env,
    });
  });

  it('in this process when there is no Node to run it with', () => {
    expect(labProcessLaunch({ ...base, isPackaged: false, env: {}, exists: () => true })).toBeNull();
    expect(labProcessLaunch({ ...base, isPackaged: false, env: { GPT_LAB_NODE: '/gone/node' }, exists: () => false })).toBeNull();
  });
});

describe("the installed app's layout", () => {
  it('puts the app in app.asar and native and wasm files in app.asar.unpacked', () => {
    expect(packagedLayout('/opt/GPT Lab/resources', 'linux', 'x64')).toEqual({
      appDir: '/opt/GPT Lab/resources/app.asar',
      mainDir: '/opt/GPT Lab/resources/app.asar/out/main',
      preload: '/opt/GPT Lab/resources/app.asar/out/preload/index.cjs',
      rendererIndex: '/opt/GPT Lab/resources/app.asar/out/renderer/index.html',
      icon: '/opt/GPT Lab/resources/app.asar.unpacked/resources/icon.png',
      sqliteBinary: '/opt/GPT Lab/resources/app.asar.unpacked/node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      wasmDir: '/opt/GPT Lab/resources/app.asar.unpacked/node_modules/@tensorflow/tfjs-backend-wasm/dist',
      dawnBinary: '/opt/GPT Lab/resources/app.asar.unpacked/node_modules/webgpu/dist/linux-x64/dawn.node',
      blasAddon: '/opt/GPT Lab/resources/app.asar.unpacked/native/blas/build/Release/gpt_lab_blas.node',
    });
  });

  it("finds Dawn in the webgpu package's folder for each platform", () => {
    expect(dawnTarget('darwin', 'arm64')).toBe('darwin-universal');
    expect(dawnTarget('darwin', 'x64')).toBe('darwin-universal');
    expect(dawnTarget('win32', 'arm64')).toBe('win32-arm64');
    expect(dawnTarget('linux', 'arm64')).toBe('linux-arm64');
    expect(packagedLayout('/r', 'darwin', 'arm64').dawnBinary).toBe('/r/app.asar.unpacked/node_modules/webgpu/dist/darwin-universal/dawn.node');
  });

  it('names what the packager left out, and tells the optional Dawn and BLAS addon apart', () => {
    const layout = packagedLayout('/r', 'linux', 'x64');
    expect(layout.blasAddon).toBe('/r/app.asar.unpacked/native/blas/build/Release/gpt_lab_blas.node');
    const present = new Set([join(layout.mainDir, 'labProcess.js'), join(layout.wasmDir, 'tfjs-backend-wasm.wasm'), layout.dawnBinary, layout.sqliteBinary, layout.blasAddon]);
    expect(checkPackagedFiles(layout, (path) => present.has(path))).toEqual({ missing: [], optionalMissing: [] });
    present.delete(layout.sqliteBinary);
    present.delete(layout.dawnBinary);
    present.delete(layout.blasAddon);
    expect(checkPackagedFiles(layout, (path) => present.has(path))).toEqual({
      missing: [`better-sqlite3's native module (${layout.sqliteBinary})`],
      optionalMissing: [`Dawn, for the WebGPU backend (${layout.dawnBinary})`, `the BLAS addon, for faster matmuls on the CPU (${layout.blasAddon})`],
    });
  });
});

describe('the bundled lab process, started as the installed app starts it', () => {
  // Inside the project, so the bundle's bare imports resolve to node_modules as they do inside app.asar.
  mkdirSync(join(ROOT, '.vitest-tmp'), { recursive: true });
  const temp = mkdtempSync(join(ROOT, '.vitest-tmp', 'packaged-'));
  const layout = packagedLayout(join(temp, 'resources'));
  let lab: RemoteLab;

  beforeAll(() => {
    mkdirSync(layout.appDir, { recursive: true });
    copyFileSync(join(ROOT, 'package.json'), join(layout.appDir, 'package.json'));
    const built = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build', '--logLevel', 'error', '--outDir', join(layout.appDir, 'out')], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    if (built.status !== 0) throw new Error(`electron-vite build failed:\n${built.stderr}${built.stdout}`);
  });
  afterAll(async () => {
    await lab?.close();
    rmSync(temp, { recursive: true, force: true });
  });

  it('answers calls and trains a run through the bundled hosts', async () => {
    const launch = labProcessLaunch({ isPackaged: true, execPath: process.execPath, mainDir: layout.mainDir, dbPath: join(temp, 'runs.db'), env: process.env });
    expect(launch?.env?.ELECTRON_RUN_AS_NODE).toBe('1');
    lab = startLabProcess(launch!);
    await lab.ready;
    const events: LabEvent[] = [];
    lab.subscribe((event) => events.push(event));
    expect(await lab.api.listRuns({})).toEqual([]);

    await lab.api.startRun({ config: { data: 'builtin:toy-english', nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16, batchSize: 8, steps: 3, evalEvery: 3, sampleEvery: 0 } } as never);
    const completed = () => events.some((e) => e.channel === 'run:status' && /completed/.test(JSON.stringify(e.payload)));
    for (let waited = 0; waited < 60_000 && !completed(); waited += 200) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(completed()).toBe(true);
    const [run] = (await lab.api.listRuns({})) as { status: string }[];
    expect(run.status).toBe('completed');
  }, 120_000);
});
