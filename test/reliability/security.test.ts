/**
 * The security checklist of DESIGN.md §6 (issue 9), as the "Attacks" table of docs/RELIABILITY.md. What
 * test/main and test/server already check is named there and only checked to still exist here; this file adds the
 * rest: navigation, new windows, webviews and permissions denied on a web contents; a strict CSP with no remote
 * origin; the sender check ahead of validation; main wiring them all; web mode reachable on loopback only; the token
 * on every call, page and socket; DNS rebinding through Host and Origin (also on the socket, also malformed); the
 * socket's message limit and a client that stops reading.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { bindLabIpc, type IpcMainLike } from '../../src/main/ipc';
import { denyAllPermissions, hardenWebContents, isTrustedSender, RENDERER_CSP, type IpcSenderInfo } from '../../src/main/security';
import { contentSecurityPolicy, DEFAULT_REQUEST_TIMEOUT_MS, ServerConfigError, startServer, type LabBackend, type RunningServer } from '../../src/server/server';
import { startWebMode } from '../../src/server/webMode';
import { CALL_NAMES, Channel, type CallResult, type LabApi, type LabEvent, type LabEventListener } from '../../src/shared/api';
import { Outcomes, syncDocTable } from './docTable';
import { until } from './helpers';

const outcomes = new Outcomes();
const APP_URL = 'file:///opt/gpt-lab/out/renderer/index.html';

/** A check that lives in another test file: the row names it, and this makes sure it is still there. */
function coveredElsewhere(area: string, attack: string, file: string, title: string, result: string): void {
  it(`${area}: ${attack} (checked in ${file})`, () => {
    expect(readFileSync(file, 'utf8'), `${file} no longer has "${title}"`).toContain(title);
    outcomes.add(area, attack, `${result} — ${file} › "${title}"`);
  });
}

/** Answers every call with {} and records what reached it; events can be pushed with emit. */
function fakeService(): LabBackend & { calls: string[]; emit(event: LabEvent): void; listenerCount(): number } {
  const listeners = new Set<LabEventListener>();
  const calls: string[] = [];
  const api = Object.fromEntries(CALL_NAMES.map((name) => [name, async () => (calls.push(name), {})]));
  return Object.assign(api, {
    calls,
    subscribe: (listener: LabEventListener) => (listeners.add(listener), () => listeners.delete(listener)),
    emit: (event: LabEvent) => listeners.forEach((l) => l(event)),
    listenerCount: () => listeners.size,
  }) as never;
}

/** A raw HTTP/1.x request, so a test can send any Host (or none) and any Origin. Resolves with the status code. */
function raw(port: number, lines: string[], { host = '127.0.0.1', body = '' } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, host, () => socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`));
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (match) {
        socket.destroy();
        resolve(Number(match[1]));
      }
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer within 10 s: ${JSON.stringify(text.slice(0, 80))}`)));
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`no status line: ${JSON.stringify(text.slice(0, 80))}`)));
  });
}

/** A WebSocket handshake with the given header lines (Host, Origin…), over HTTP/1.1 unless told otherwise. */
function wsUpgrade(path: string, headers: string[], version = 'HTTP/1.1'): string[] {
  return [`GET ${path} ${version}`, ...headers, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'];
}

function openSocket(url: string, headers: Record<string, string> = {}): Promise<{ opened: boolean; status?: number; socket?: WebSocket }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers });
    socket.on('open', () => resolve({ opened: true, socket }));
    socket.on('unexpected-response', (_req, res) => {
      resolve({ opened: false, status: res.statusCode });
      socket.terminate();
    });
    socket.on('error', () => resolve({ opened: false }));
  });
}

describe('Electron', () => {
  coveredElsewhere('Electron', 'window: contextIsolation, sandbox, nodeIntegration off (also in workers and subframes), webSecurity on, no webview tag, no insecure content', 'test/main/main.test.ts', 'is created with the secure options', 'every one of these webPreferences is asserted');
  coveredElsewhere('Electron', 'preload hands the page ipcRenderer or an IPC event', 'test/main/main.test.ts', 'exposes exactly one named function per call plus onEvent, and nothing of ipcRenderer', 'the bridge is frozen and has only one function per call plus onEvent');
  coveredElsewhere('Electron', 'IPC from another window, a subframe, a navigated page, another local file, a destroyed frame', 'test/main/main.test.ts', "refuses %s", 'each answered forbidden; the service is not called');

  describe('a web contents, hardened', () => {
    type Handler = (event: { preventDefault(): void }, url?: string) => void;
    function fakeContents() {
      const handlers = new Map<string, Handler>();
      let openHandler: ((details: { url: string }) => { action: string }) | undefined;
      const contents = {
        on: (name: string, handler: Handler) => handlers.set(name, handler),
        setWindowOpenHandler: (handler: typeof openHandler) => (openHandler = handler),
      };
      hardenWebContents(contents as never, APP_URL);
      const fire = (name: string, url?: string): boolean => {
        let prevented = false;
        handlers.get(name)!({ preventDefault: () => (prevented = true) }, url);
        return prevented;
      };
      return { fire, open: (url: string) => openHandler!({ url }).action };
    }

    it('denies navigation and redirects away from the app page, and allows the app page itself', () => {
      const web = fakeContents();
      for (const url of ['https://evil.example/', 'http://127.0.0.1:8080/', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,<script>alert(1)</script>']) {
        expect(web.fire('will-navigate', url), url).toBe(true);
        expect(web.fire('will-redirect', url), url).toBe(true);
      }
      expect(web.fire('will-navigate', `${APP_URL}#/runs/3`)).toBe(false);
      outcomes.add('Electron', 'navigate or redirect to https://evil.example, file:///etc/passwd, javascript:, data:', 'prevented (will-navigate / will-redirect); the app page itself still loads');
    });

    it('denies every new window, including one for the app page, and every webview', () => {
      const web = fakeContents();
      for (const url of ['https://evil.example/', APP_URL, 'about:blank']) expect(web.open(url)).toBe('deny');
      expect(web.fire('will-attach-webview')).toBe(true);
      outcomes.add('Electron', 'window.open (any URL) and <webview>', "setWindowOpenHandler answers { action: 'deny' }; will-attach-webview is prevented");
    });

    it('denies every permission request and check', () => {
      let request: ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void) | undefined;
      let check: ((...args: unknown[]) => boolean) | undefined;
      denyAllPermissions({ setPermissionRequestHandler: (h: typeof request) => (request = h), setPermissionCheckHandler: (h: typeof check) => (check = h) } as never);
      for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'midi', 'openExternal', 'fullscreen']) {
        let granted: boolean | undefined;
        request!(null, permission, (answer) => (granted = answer));
        expect(granted, permission).toBe(false);
        expect(check!(null, permission, 'file://', {})).toBe(false);
      }
      outcomes.add('Electron', 'permission requests: camera/microphone, geolocation, notifications, clipboard, MIDI, openExternal, fullscreen', 'all refused by the session request and check handlers');
    });
  });

  describe('the Content-Security-Policy', () => {
    /** Every source of every directive must be local: no scheme-wide, wildcard or remote origin, no eval. */
    function expectStrict(csp: string): void {
      const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...sources]) => [name, sources]));
      expect(directives.get('default-src')).toEqual(["'self'"]);
      expect(directives.get('script-src')).toEqual(["'self'"]);
      expect(directives.get('object-src')).toEqual(["'none'"]);
      expect(directives.get('base-uri')).toEqual(["'none'"]);
      expect(directives.get('form-action')).toEqual(["'none'"]);
      for (const [name, sources] of directives) {
        for (const source of sources) {
          const local = ["'self'", "'none'"].includes(source) || (['img-src'].includes(name) && ['data:', 'blob:'].includes(source)) || (name === 'style-src' && source === "'unsafe-inline'") || (name === 'connect-src' && /^ws:\/\/(127\.0\.0\.1|localhost):(\*|\d+)$/.test(source));
          expect(local, `${name} ${source}`).toBe(true);
        }
      }
    }

    it('of the desktop renderer and of web mode allow nothing remote, no inline script and no eval', () => {
      expectStrict(RENDERER_CSP);
      expectStrict(contentSecurityPolicy(43210));
      expect(contentSecurityPolicy(43210)).toContain("frame-ancestors 'none'");
      expect(readFileSync('src/renderer/index.html', 'utf8')).toContain(RENDERER_CSP);
      outcomes.add('Electron + web', 'CSP: a remote script, inline script, eval, plugins, <base>, form posts, framing', "every directive is 'self' or 'none' (plus data:/blob: images, inline styles, and ws:// to loopback); the page carries it as a meta tag, web mode also as a header with frame-ancestors 'none'");
    });
  });

  describe('IPC', () => {
    it('checks the sender before the payload, so a foreign frame learns nothing about the schema', async () => {
      const handlers = new Map<string, (event: IpcSenderInfo, ...args: unknown[]) => Promise<unknown>>();
      const ipc: IpcMainLike = { handle: (channel, listener) => handlers.set(channel, listener), removeHandler: () => undefined };
      const called: string[] = [];
      const api = Object.fromEntries(CALL_NAMES.map((name) => [name, async () => called.push(name)])) as unknown as LabApi;
      bindLabIpc(ipc, api, (event) => isTrustedSender(event, new Set([1]), APP_URL));
      const foreign: IpcSenderInfo = { sender: { id: 7 }, senderFrame: { url: APP_URL, parent: null } };
      for (const name of CALL_NAMES) {
        for (const payload of [undefined, { runId: 'x' }, { config: { nLayer: 'many' } }]) {
          const result = (await handlers.get(Channel[name])!(foreign, payload)) as CallResult;
          expect(result).toEqual({ ok: false, error: { code: 'forbidden', message: 'this frame may not use the lab API' } });
        }
      }
      expect(called).toEqual([]);
      outcomes.add('Electron', 'IPC on every channel from a web contents that is not an app window, valid or malformed payload', "forbidden, the same answer for every payload (validation runs only for trusted senders); the service is never called");
    });

    it('main wires all of it: hardening of every web contents, permissions, the sender check, the secure window', () => {
      const main = readFileSync('src/main/index.ts', 'utf8');
      expect(main).toMatch(/app\.on\('web-contents-created', \(_event, contents\) => hardenWebContents\(contents, appUrl\)\)/);
      expect(main).toContain('denyAllPermissions(session.defaultSession)');
      expect(main).toMatch(/bindLabIpc\(ipcMain, [\w.]+, \(event\) => isTrustedSender\(event, trustedIds, appUrl\)\)/);
      expect(main).toContain('new BrowserWindow(mainWindowOptions(');
      // Only the app's own windows become trusted senders, and they stop being trusted when destroyed.
      expect(main.match(/trustedIds\.add\(/g)).toHaveLength(1);
      expect(main).toMatch(/webContents\.once\('destroyed', \(\) => trustedIds\.delete\(id\)\)/);
      outcomes.add('Electron', 'a web contents created any other way (devtools, a child window that slipped through)', 'app.on(web-contents-created) hardens every one; only createWindow adds a trusted sender id, removed when the window is destroyed');
    });
  });
});

describe('web mode', () => {
  let service: ReturnType<typeof fakeService>;
  let server: RunningServer;
  beforeAll(async () => {
    service = fakeService();
    server = await startServer({ service, maxClientBacklogBytes: 256 * 1024 });
  });
  afterAll(async () => {
    await server?.close();
  });
  const authority = () => `127.0.0.1:${server.port}`;
  const events = () => `ws://${authority()}/events`;

  coveredElsewhere('web', 'listen on 0.0.0.0, ::, a LAN address or a hostname', 'test/server/server.test.ts', 'refuses to listen on %j', 'refused with ServerConfigError before binding');
  coveredElsewhere('web', 'the API with the token only in the cookie (cross-site request riding on it)', 'test/server/server.test.ts', 'is not taken from the cookie by the API', '401: the API takes the token from the header or query only; the cookie is HttpOnly and SameSite=Strict');
  coveredElsewhere('web', 'path traversal: /../secret.txt, /%2e%2e/secret.txt, /assets/../../secret.txt', 'test/server/server.test.ts', 'never outside its folder', 'never served; index.html instead');
  coveredElsewhere('web', 'request body over the limit (with and without Content-Length)', 'test/server/server.test.ts', 'limits the body size', '413 before the body is read; see also the payload table for the real 1 MiB limit');

  it('is reachable on loopback only: not from another interface, and a non-loopback host is refused before anything opens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpt-lab-security-'));
    try {
      const web = await startWebMode({ dbPath: join(dir, 'runs.db'), port: 0, rendererDir: join(dir, 'none') });
      try {
        expect(web.server.host).toBe('127.0.0.1');
        const external = Object.values(networkInterfaces())
          .flat()
          .find((a) => a && !a.internal && a.family === 'IPv4')?.address;
        if (external) await expect(raw(web.server.port, ['GET / HTTP/1.1', `Host: ${external}`], { host: external })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
        expect(await raw(web.server.port, ['GET / HTTP/1.1', `Host: 127.0.0.1:${web.server.port}`])).toBe(401);
        outcomes.add('web', 'connect to the web mode from another network interface of the machine', `connection refused (tried ${external ?? 'none: this machine has no other interface'}): the server listens on 127.0.0.1 only`);
      } finally {
        await web.close();
      }
      await expect(startWebMode({ dbPath: join(dir, 'runs.db'), host: '0.0.0.0' })).rejects.toBeInstanceOf(ServerConfigError);
      // Nothing was left open: the database lock is released, so the next start owns the file.
      expect(() => readFileSync(join(dir, 'runs.db.lab-pid'))).toThrow();
      outcomes.add('web', 'start web mode with --host 0.0.0.0', 'refused with a message before listening; the service it opened is closed again (database lock released)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('needs the token on every call, page and socket', async () => {
    const statuses = new Set<number>();
    for (const name of CALL_NAMES) {
      for (const auth of [[], ['Authorization: Bearer wrong'], [`Authorization: Bearer ${server.token.slice(0, -1)}`], [`Cookie: gpt_lab_token=${server.token}`]]) {
        statuses.add(await raw(server.port, [`POST /api/${name} HTTP/1.1`, `Host: ${authority()}`, 'Content-Type: application/json', 'Content-Length: 2', ...auth], { body: '{}' }));
      }
    }
    for (const path of ['/', '/index.html', '/assets/app.js', '/runs/1']) statuses.add(await raw(server.port, [`GET ${path} HTTP/1.1`, `Host: ${authority()}`]));
    expect([...statuses]).toEqual([401]);
    expect(service.calls).toEqual([]);
    expect(await openSocket(events(), { Cookie: `gpt_lab_token=${server.token}` })).toEqual({ opened: false, status: 401 });
    const viaHeader = await openSocket(events(), { Authorization: `Bearer ${server.token}` });
    expect(viaHeader.opened).toBe(true);
    viaHeader.socket!.close();
    outcomes.add('web', 'every call and 4 pages with no token, a wrong one, one a character short, or the token only as a cookie; the event socket with the cookie', `401 each time (all ${CALL_NAMES.length} calls); no call reached the service; the socket opens only with the token in the query or the Authorization header`);
  });

  it('refuses DNS rebinding: a foreign or malformed Host, or a foreign Origin, on the API, pages and the socket', async () => {
    const tries: [string, string[]][] = [
      ['Host: evil.com', ['Host: evil.com']],
      ['Host: evil.com:<port>', [`Host: evil.com:${server.port}`]],
      ['Host: 127.0.0.1.evil.com:<port>', [`Host: 127.0.0.1.evil.com:${server.port}`]],
      ['Host: 127.0.0.1 on another port', [`Host: 127.0.0.1:${server.port + 1}`]],
      ['no Host header (HTTP/1.0)', []],
      ['Origin: http://evil.com', [`Host: ${authority()}`, 'Origin: http://evil.com']],
      ['Origin: null (sandboxed frame, file://)', [`Host: ${authority()}`, 'Origin: null']],
      ['Origin: https://127.0.0.1:<port> (other scheme)', [`Host: ${authority()}`, `Origin: https://${authority()}`]],
    ];
    for (const [label, headers] of tries) {
      const version = headers.length === 0 ? 'HTTP/1.0' : 'HTTP/1.1';
      const api = await raw(server.port, [`POST /api/listRuns?token=${server.token} ${version}`, ...headers, 'Content-Type: application/json', 'Content-Length: 0']);
      const page = await raw(server.port, [`GET /?token=${server.token} ${version}`, ...headers]);
      const socket = await raw(server.port, wsUpgrade(`/events?token=${server.token}`, headers, version));
      expect([label, api, page, socket]).toEqual([label, 403, 403, 403]);
    }
    expect(service.calls).toEqual([]);
    outcomes.add('web', `DNS rebinding, with the right token: ${tries.map(([label]) => label).join('; ')}`, '403 on the API, on pages and on the event socket, every time; no call reached the service');
  });

  coveredElsewhere('web', 'the authenticated API names /etc/shadow, /proc/self/pagemap, ../ paths or a symlink out of the data folder as training data', 'test/reliability/webInput.test.ts', 'a symlink in the data folder pointing out of it', '400 invalid-data: web mode accepts builtin:NAME, uploaded texts (text:<sha256>) and files in the --data-dir folder only, and says so; nothing is read. Before: any file the user could read was trained on, its bytes stored in samples');

  it('closes a request whose body trickles in (slowloris on the body) instead of holding it for 300 s', async () => {
    expect(DEFAULT_REQUEST_TIMEOUT_MS).toBe(30_000);
    const quick = await startServer({ service, requestTimeoutMs: 500 });
    try {
      const lines = [`POST /api/listRuns HTTP/1.1`, `Host: 127.0.0.1:${quick.port}`, `Authorization: Bearer ${quick.token}`, 'Content-Type: application/json', 'Content-Length: 100'];
      // Ten bytes of a hundred, then nothing: Node's default would wait 300 s.
      expect(await raw(quick.port, lines, { body: '{"a":"1234' })).toBe(408);
      expect(await raw(quick.port, [`GET /api/listRuns HTTP/1.1`, `Host: 127.0.0.1:${quick.port}`])).toBe(401);
    } finally {
      await quick.close();
    }
    outcomes.add('web', 'a request body sent 10 bytes of 100, then nothing (slow body)', `408 after the request timeout (${DEFAULT_REQUEST_TIMEOUT_MS / 1000} s by default, headers 10 s; set explicitly), and the server keeps serving. Before: Node's default kept it open 300 s`);
  });

  it('survives a socket upgrade whose Host cannot be parsed (it used to crash the app)', async () => {
    expect(await raw(server.port, wsUpgrade(`/events?token=${server.token}`, ['Host: a b']))).toBe(403);
    expect(await raw(server.port, wsUpgrade(`/events?token=${server.token}`, ['Host: [::1']))).toBe(403);
    expect(await raw(server.port, [`GET / HTTP/1.1`, `Host: ${authority()}`])).toBe(401);
    outcomes.add('web', 'WebSocket upgrade with "Host: a b" (no token needed to send it)', '403, and the server keeps serving. Before the fix: new URL() threw in the upgrade handler, an uncaught exception that killed the whole web-mode app');
  });

  it('closes a socket that sends more than 4 KiB, and drops a client that stops reading', async () => {
    const { socket } = await openSocket(`${events()}?token=${server.token}`);
    const closed = new Promise<number>((resolve) => socket!.once('close', (code) => resolve(code)));
    socket!.send('x'.repeat(5000));
    expect(await closed).toBe(1009);
    await until(() => server.clientCount() === 0, 'the server to forget the socket', 5_000);

    // A client that completes the handshake and then never reads: its backlog grows until the server drops it.
    const stalled = netConnect(server.port, '127.0.0.1', () => stalled.write(`${wsUpgrade(`/events?token=${server.token}`, [`Host: ${authority()}`]).join('\r\n')}\r\n\r\n`));
    stalled.on('error', () => undefined);
    await until(() => server.clientCount() === 1, 'the stalled client to connect', 5_000);
    stalled.pause();
    const big: LabEvent = { channel: 'run:sample', payload: { runId: 1, step: 0, prompt: '', text: 'x'.repeat(64 * 1024) } };
    const reader = await openSocket(`${events()}?token=${server.token}`);
    let received = 0;
    reader.socket!.on('message', () => received++);
    let sent = 0;
    while (server.clientCount() === 2 && sent < 2000) {
      service.emit(big);
      sent++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(server.clientCount()).toBe(1);
    await until(() => received === sent, 'the reading client to get every event', 10_000);
    reader.socket!.close();
    stalled.destroy();
    await until(() => server.clientCount() === 0, 'no clients', 5_000);
    outcomes.add('web', 'event socket: a 5000-byte message from the client; a client that completes the handshake and stops reading', `closed with 1009 (limit 4 KiB); the stalled client was dropped after ${sent} events of 64 KiB once its backlog passed the limit, while a reading client got all ${sent}. Before the fix the server buffered every event for a stalled client, without bound`);
  });

  it('docs/RELIABILITY.md lists every attack', () => {
    syncDocTable('security-table', ['target', 'attack', 'what happened'], outcomes.rows);
  });
});
