/**
 * src/main/index.ts wired to a fake `electron` module (and a fake lab process): single-instance, the window it
 * opens, the security settings it applies, the IPC it binds, the menu's File → Open, how it launches the lab in
 * development and when installed, and what it does when an installation is incomplete.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LabProcessLaunch } from '../../src/hosts/lab/client';
import { packagedLayout } from '../../src/main/packagedLayout';
import { CALL_NAMES, Channel } from '../../src/shared/api';
import { EventChannel } from '../../src/shared/channels';

type Listener = (...args: unknown[]) => unknown;

/** Just enough of Electron for index.ts, recording what it is asked to do. */
function fakeElectron(options: { isPackaged: boolean; lock?: boolean; dialogPath?: string }) {
  const appHandlers = new Map<string, Listener[]>();
  const windows: FakeWindow[] = [];
  let nextId = 1;
  class FakeWindow {
    readonly options: Record<string, unknown>;
    readonly sent: [string, unknown][] = [];
    readonly handlers = new Map<string, Listener>();
    loaded = '';
    focused = 0;
    readonly webContents = {
      id: nextId++,
      send: (channel: string, payload: unknown) => this.sent.push([channel, payload]),
      once: vi.fn(),
    };
    constructor(windowOptions: Record<string, unknown>) {
      this.options = windowOptions;
      windows.push(this);
    }
    on(event: string, listener: Listener) {
      this.handlers.set(event, listener);
    }
    once(event: string, listener: Listener) {
      this.handlers.set(event, listener);
    }
    loadURL(url: string) {
      this.loaded = url;
      return Promise.resolve();
    }
    show() {}
    focus() {
      this.focused++;
    }
    static getFocusedWindow() {
      return windows[0] ?? null;
    }
  }
  const ipcHandlers = new Map<string, Listener>();
  const fake = {
    windows,
    ipcHandlers,
    appHandlers,
    menu: null as unknown,
    errorBoxes: [] as [string, string][],
    permissionHandlers: { request: null as unknown, check: null as unknown },
    app: {
      isPackaged: options.isPackaged,
      requestSingleInstanceLock: () => options.lock ?? true,
      whenReady: () => Promise.resolve(),
      on: (event: string, listener: Listener) => appHandlers.set(event, [...(appHandlers.get(event) ?? []), listener]),
      quit: vi.fn(),
      exit: vi.fn(),
    },
    BrowserWindow: FakeWindow,
    dialog: {
      showOpenDialog: vi.fn(async () => ({ canceled: options.dialogPath === undefined, filePaths: options.dialogPath ? [options.dialogPath] : [] })),
      showErrorBox: (title: string, body: string) => fake.errorBoxes.push([title, body]),
    },
    ipcMain: { handle: (channel: string, listener: Listener) => ipcHandlers.set(channel, listener), removeHandler: (channel: string) => ipcHandlers.delete(channel) },
    Menu: { buildFromTemplate: (template: unknown) => template, setApplicationMenu: (menu: unknown) => (fake.menu = menu) },
    nativeTheme: { shouldUseDarkColors: false },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (handler: unknown) => (fake.permissionHandlers.request = handler),
        setPermissionCheckHandler: (handler: unknown) => (fake.permissionHandlers.check = handler),
      },
    },
  };
  return fake;
}

type Fake = ReturnType<typeof fakeElectron>;
type MenuItem = { label?: string; submenu?: MenuItem[]; click?: () => void };

let launches: LabProcessLaunch[];
const labClose = vi.fn(async () => undefined);
const temps: string[] = [];
const savedEnv = { ...process.env };

/** Imports a fresh copy of index.ts against `fake`, and waits until it has opened its window (or given up). */
async function startMain(fake: Fake): Promise<void> {
  vi.resetModules();
  vi.doMock('electron', () => fake);
  vi.doMock('../../src/hosts/lab/client', () => ({
    startLabProcess: (launch: LabProcessLaunch) => {
      launches.push(launch);
      return { api: {}, subscribe: () => () => undefined, ready: Promise.resolve(), close: labClose };
    },
  }));
  await import('../../src/main/index');
  await vi.waitFor(() => expect(fake.windows.length + fake.errorBoxes.length + fake.app.quit.mock.calls.length).toBeGreaterThan(0));
}

/** A resources folder laid out as electron-builder leaves it; `omit` leaves one file out. */
function installedResources(omit?: 'sqliteBinary'): string {
  const resources = mkdtempSync(join(tmpdir(), 'gpt-lab-resources-'));
  temps.push(resources);
  const layout = packagedLayout(resources);
  const files = [join(layout.mainDir, 'labProcess.js'), join(layout.wasmDir, 'tfjs-backend-wasm.wasm'), layout.dawnBinary, layout.blasAddon, ...(omit ? [] : [layout.sqliteBinary])];
  for (const file of files) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, '');
  }
  return resources;
}

beforeEach(() => {
  launches = [];
  labClose.mockClear();
  process.env.GPT_LAB_DB = join(tmpdir(), 'gpt-lab-main-test.db');
});
afterEach(() => {
  process.env = { ...savedEnv };
  Reflect.deleteProperty(process, 'resourcesPath');
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
  vi.doUnmock('electron');
  vi.doUnmock('../../src/hosts/lab/client');
});

describe('the desktop shell', () => {
  it('under npm start: runs the lab under the system Node it was given, opens one secure window, binds every call', async () => {
    process.env.GPT_LAB_NODE = process.execPath;
    const fake = fakeElectron({ isPackaged: false });
    await startMain(fake);

    expect(launches).toHaveLength(1);
    expect(launches[0]).toMatchObject({ nodePath: process.execPath, dbPath: process.env.GPT_LAB_DB, modulePath: expect.stringMatching(/src[\\/]main[\\/]labProcess\.js$/) });
    expect(launches[0].env?.ELECTRON_RUN_AS_NODE).toBeUndefined();

    expect(fake.windows).toHaveLength(1);
    const [window] = fake.windows;
    expect(window.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true });
    expect(window.options.icon).toMatch(/resources[\\/]icon\.png$/);
    expect(window.loaded).toMatch(/^file:.*renderer\/index\.html$/);
    expect([...fake.ipcHandlers.keys()].sort()).toEqual(CALL_NAMES.map((name) => Channel[name]).sort());
    expect(fake.appHandlers.has('web-contents-created')).toBe(true);
    const allow = vi.fn();
    (fake.permissionHandlers.request as (c: unknown, p: string, cb: (ok: boolean) => void) => void)(null, 'media', allow);
    expect(allow).toHaveBeenCalledWith(false);
  });

  it('answers IPC only from its own window', async () => {
    const fake = fakeElectron({ isPackaged: false });
    process.env.GPT_LAB_NODE = process.execPath;
    await startMain(fake);
    const [window] = fake.windows;
    const listRuns = fake.ipcHandlers.get(Channel.listRuns)!;
    const stranger = { sender: { id: window.webContents.id + 100 }, senderFrame: { url: window.loaded, parent: null } };
    expect(await listRuns(stranger)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('installed: runs the lab under its own binary as Node, with the icon from app.asar.unpacked', async () => {
    const resources = installedResources();
    Object.defineProperty(process, 'resourcesPath', { value: resources, configurable: true });
    process.env.GPT_LAB_NODE = '/usr/bin/node';
    const fake = fakeElectron({ isPackaged: true });
    await startMain(fake);

    expect(launches).toHaveLength(1);
    expect(launches[0]).toMatchObject({ nodePath: process.execPath, env: expect.objectContaining({ ELECTRON_RUN_AS_NODE: '1' }) });
    expect(fake.windows[0].options.icon).toBe(packagedLayout(resources).icon);
  });

  it('installed but incomplete: says what is missing and exits, starting nothing', async () => {
    const resources = installedResources('sqliteBinary');
    Object.defineProperty(process, 'resourcesPath', { value: resources, configurable: true });
    const fake = fakeElectron({ isPackaged: true });
    await startMain(fake);

    expect(launches).toEqual([]);
    expect(fake.windows).toEqual([]);
    expect(fake.errorBoxes).toHaveLength(1);
    expect(fake.errorBoxes[0][1]).toContain(`better-sqlite3's native module (${packagedLayout(resources).sqliteBinary})`);
    expect(fake.app.exit).toHaveBeenCalledWith(1);
  });

  it('a second instance quits at once, and the first focuses its window when one is started', async () => {
    const second = fakeElectron({ isPackaged: false, lock: false });
    await startMain(second);
    expect(second.app.quit).toHaveBeenCalled();
    expect(second.windows).toEqual([]);

    process.env.GPT_LAB_NODE = process.execPath;
    const first = fakeElectron({ isPackaged: false });
    await startMain(first);
    for (const listener of first.appHandlers.get('second-instance') ?? []) listener();
    expect(first.windows[0].focused).toBe(1);
  });

  it('File → Open Data File… sends the chosen path to the window, and quitting closes the lab first', async () => {
    process.env.GPT_LAB_NODE = process.execPath;
    const fake = fakeElectron({ isPackaged: false, dialogPath: '/home/u/corpus.txt' });
    await startMain(fake);
    const flatten = (items: MenuItem[]): MenuItem[] => items.flatMap((item) => [item, ...flatten(item.submenu ?? [])]);
    flatten(fake.menu as MenuItem[])
      .find((item) => item.label === 'Open Data File…')!
      .click!();
    await vi.waitFor(() => expect(fake.windows[0].sent).toEqual([[EventChannel.uiCommand, { command: 'open-data', path: '/home/u/corpus.txt' }]]));

    const event = { preventDefault: vi.fn() };
    for (const listener of fake.appHandlers.get('before-quit') ?? []) listener(event);
    expect(event.preventDefault).toHaveBeenCalled();
    expect(labClose).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(fake.app.quit).toHaveBeenCalled());
  });
});
