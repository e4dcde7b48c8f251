/**
 * The Electron side without Electron: the window's options, the preload bridge, the IPC binding with its sender
 * check and validation, navigation rules, the menu, and the renderer's CSP.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { bindLabIpc, forwardEvents, type IpcMainLike } from '../../src/main/ipc';
import { appMenuTemplate, type MenuActions } from '../../src/main/menu';
import { isAppUrl, isTrustedSender, RENDERER_CSP, type IpcSenderInfo } from '../../src/main/security';
import { mainWindowOptions, secureWebPreferences } from '../../src/main/window';
import { createBridge, type IpcRendererLike } from '../../src/preload/bridge';
import { BRIDGE_EVENTS_KEY, CALL_NAMES, Channel, EVENT_CHANNELS, type CallResult, type LabApi, type LabEvent, type LabEventListener } from '../../src/shared/api';

const APP_URL = 'file:///opt/gpt-lab/out/renderer/index.html';

describe('the main window', () => {
  it('is created with the secure options', () => {
    const options = mainWindowOptions('/opt/gpt-lab/out/preload/index.cjs');
    expect(options.webPreferences).toEqual(secureWebPreferences('/opt/gpt-lab/out/preload/index.cjs'));
    expect(options.webPreferences).toMatchObject({
      preload: '/opt/gpt-lab/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
    });
    expect(options.show).toBe(false);
    expect(mainWindowOptions('p', true).backgroundColor).not.toBe(mainWindowOptions('p', false).backgroundColor);
    expect(mainWindowOptions('p', false, '/r/app.asar.unpacked/resources/icon.png').icon).toBe('/r/app.asar.unpacked/resources/icon.png');
    expect(options).not.toHaveProperty('icon');
  });
});

describe('the preload bridge', () => {
  function fakeIpcRenderer(): IpcRendererLike & { invoked: unknown[][]; emit(channel: string, payload: unknown): void; listeners: Map<string, Set<(e: unknown, p: unknown) => void>> } {
    const listeners = new Map<string, Set<(e: unknown, p: unknown) => void>>();
    const invoked: unknown[][] = [];
    return {
      invoked,
      listeners,
      invoke: async (...args: unknown[]) => {
        invoked.push(args);
        return { ok: true, value: 'done' };
      },
      on: (channel, listener) => {
        if (!listeners.has(channel)) listeners.set(channel, new Set());
        listeners.get(channel)!.add(listener);
      },
      removeListener: (channel, listener) => listeners.get(channel)?.delete(listener),
      emit: (channel, payload) => listeners.get(channel)?.forEach((l) => l({ sender: 'ipcRenderer itself' }, payload)),
    };
  }

  it('exposes exactly one named function per call plus onEvent, and nothing of ipcRenderer', () => {
    const ipc = fakeIpcRenderer();
    const bridge = createBridge(ipc);
    expect(Object.keys(bridge).sort()).toEqual([...CALL_NAMES, BRIDGE_EVENTS_KEY].sort());
    for (const key of Object.keys(bridge)) expect(typeof (bridge as unknown as Record<string, unknown>)[key]).toBe('function');
    expect(Object.values(bridge)).not.toContain(ipc);
    expect(Object.isFrozen(bridge)).toBe(true);
  });

  it('sends each call on its own channel with the request as the only argument', async () => {
    const ipc = fakeIpcRenderer();
    const bridge = createBridge(ipc);
    expect(await bridge.stopRun({ runId: 3 })).toEqual({ ok: true, value: 'done' });
    await bridge.listRuns();
    expect(ipc.invoked).toEqual([
      [Channel.stopRun, { runId: 3 }],
      [Channel.listRuns, undefined],
    ]);
  });

  it('passes events on as { channel, payload } without the IPC event, and unsubscribes', () => {
    const ipc = fakeIpcRenderer();
    const bridge = createBridge(ipc);
    const seen: unknown[] = [];
    const off = bridge.onEvent((event) => seen.push(event));
    expect([...ipc.listeners.keys()].sort()).toEqual([...EVENT_CHANNELS].sort());
    ipc.emit('run:status', { runId: 1, status: 'running' });
    expect(seen).toEqual([{ channel: 'run:status', payload: { runId: 1, status: 'running' } }]);
    off();
    ipc.emit('run:status', { runId: 1, status: 'stopped' });
    expect(seen).toHaveLength(1);
    expect(() => bridge.onEvent('not a function' as unknown as LabEventListener)).toThrow(TypeError);
  });
});

describe('IPC binding', () => {
  function fakeIpcMain(): IpcMainLike & { handlers: Map<string, (event: IpcSenderInfo, ...args: unknown[]) => Promise<unknown>> } {
    const handlers = new Map<string, (event: IpcSenderInfo, ...args: unknown[]) => Promise<unknown>>();
    return { handlers, handle: (channel, listener) => handlers.set(channel, listener), removeHandler: (channel) => handlers.delete(channel) };
  }
  function fakeApi(): LabApi {
    return Object.fromEntries(CALL_NAMES.map((name) => [name, vi.fn(async () => ({ from: name }))])) as unknown as LabApi;
  }
  const trusted: IpcSenderInfo = { sender: { id: 1 }, senderFrame: { url: APP_URL, parent: null } };
  const isTrusted = (event: IpcSenderInfo) => isTrustedSender(event, new Set([1]), APP_URL);

  it('handles every call channel, and unbinds them', () => {
    const ipc = fakeIpcMain();
    const unbind = bindLabIpc(ipc, fakeApi(), isTrusted);
    expect([...ipc.handlers.keys()].sort()).toEqual(CALL_NAMES.map((n) => Channel[n]).sort());
    unbind();
    expect(ipc.handlers.size).toBe(0);
  });

  it('answers a trusted sender with a valid payload', async () => {
    const ipc = fakeIpcMain();
    const api = fakeApi();
    bindLabIpc(ipc, api, isTrusted);
    expect(await ipc.handlers.get(Channel.stopRun)!(trusted, { runId: 5 })).toEqual({ ok: true, value: { from: 'stopRun' } });
    expect(api.stopRun).toHaveBeenCalledWith({ runId: 5 });
  });

  it('rejects malformed payloads before the service sees them', async () => {
    const ipc = fakeIpcMain();
    const api = fakeApi();
    bindLabIpc(ipc, api, isTrusted);
    for (const payload of [{ runId: 'five' }, { runId: 5, extra: true }, null, 'stop']) {
      const result = (await ipc.handlers.get(Channel.stopRun)!(trusted, payload)) as CallResult;
      expect(result).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    }
    const config = (await ipc.handlers.get(Channel.startRun)!(trusted, { config: { dropoutAttn: 'lots' } })) as CallResult;
    expect(config).toMatchObject({ ok: false, error: { code: 'invalid-request', problems: [{ field: 'config.dropoutAttn' }] } });
    expect(await ipc.handlers.get(Channel.stopRun)!(trusted, { runId: 5 }, 'second argument')).toMatchObject({ ok: false });
    expect(api.stopRun).not.toHaveBeenCalled();
    expect(api.startRun).not.toHaveBeenCalled();
  });

  it.each<[string, IpcSenderInfo]>([
    ['another window', { sender: { id: 2 }, senderFrame: { url: APP_URL, parent: null } }],
    ['a subframe', { sender: { id: 1 }, senderFrame: { url: APP_URL, parent: {} } }],
    ['a page navigated elsewhere', { sender: { id: 1 }, senderFrame: { url: 'https://evil.example/', parent: null } }],
    ['another local file', { sender: { id: 1 }, senderFrame: { url: 'file:///tmp/evil.html', parent: null } }],
    ['a destroyed frame', { sender: { id: 1 }, senderFrame: null }],
  ])('refuses %s', async (_label, event) => {
    const ipc = fakeIpcMain();
    const api = fakeApi();
    bindLabIpc(ipc, api, isTrusted);
    expect(await ipc.handlers.get(Channel.listRuns)!(event, undefined)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(api.listRuns).not.toHaveBeenCalled();
  });

  it('forwards every service event to every live window', () => {
    const listeners = new Set<LabEventListener>();
    const source = { subscribe: (l: LabEventListener) => (listeners.add(l), () => listeners.delete(l)) };
    const sent: [string, unknown][] = [];
    const live = { isDestroyed: () => false, send: (channel: string, payload: unknown) => sent.push([channel, payload]) };
    const dead = { isDestroyed: () => true, send: () => expect.unreachable() };
    const off = forwardEvents(source, () => [live, dead]);
    const event: LabEvent = { channel: 'queue', payload: { running: 1, queued: [] } };
    listeners.forEach((l) => l(event));
    expect(sent).toEqual([['queue', { running: 1, queued: [] }]]);
    off();
    expect(listeners.size).toBe(0);
  });
});

describe('navigation', () => {
  it("allows only the app's own page", () => {
    expect(isAppUrl(APP_URL, APP_URL)).toBe(true);
    expect(isAppUrl(`${APP_URL}#/runs/3`, APP_URL)).toBe(true);
    expect(isAppUrl('file:///etc/passwd', APP_URL)).toBe(false);
    expect(isAppUrl('https://example.com/', APP_URL)).toBe(false);
    expect(isAppUrl('not a url', APP_URL)).toBe(false);
    const dev = 'http://localhost:5173/';
    expect(isAppUrl('http://localhost:5173/#/live', dev)).toBe(true);
    expect(isAppUrl('http://localhost:5174/', dev)).toBe(false);
  });
});

describe('the application menu', () => {
  const actions: MenuActions = { newRun: vi.fn(), openDataFile: vi.fn(), exportRun: vi.fn(), toggleTheme: vi.fn() };
  type Item = { label?: string; role?: string; submenu?: Item[]; click?: () => void };
  const flatten = (items: Item[]): Item[] => items.flatMap((item) => [item, ...flatten(item.submenu ?? [])]);

  it('offers New run, Open data file…, Export… and Toggle theme, wired to their actions', () => {
    const items = flatten(appMenuTemplate({ actions, isDev: false, isMac: false }) as Item[]);
    const byLabel = (label: string) => items.find((item) => item.label === label)!;
    byLabel('New Run').click!();
    byLabel('Open Data File…').click!();
    byLabel('Export…').click!();
    byLabel('Toggle Theme').click!();
    expect(actions.newRun).toHaveBeenCalled();
    expect(actions.openDataFile).toHaveBeenCalled();
    expect(actions.exportRun).toHaveBeenCalled();
    expect(actions.toggleTheme).toHaveBeenCalled();
  });

  it('has developer tools only in development', () => {
    const roles = (isDev: boolean) => flatten(appMenuTemplate({ actions, isDev, isMac: false }) as Item[]).map((item) => item.role);
    expect(roles(false)).not.toContain('toggleDevTools');
    expect(roles(false)).not.toContain('reload');
    expect(roles(true)).toContain('toggleDevTools');
  });
});

describe('the Content-Security-Policy', () => {
  it('in index.html is the one main declares, with no inline or remote script', () => {
    const html = readFileSync(new URL('../../src/renderer/index.html', import.meta.url), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBe(RENDERER_CSP);
    expect(RENDERER_CSP).toContain("script-src 'self';");
    expect(RENDERER_CSP).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
    expect(RENDERER_CSP).toContain("object-src 'none'");
  });
});
