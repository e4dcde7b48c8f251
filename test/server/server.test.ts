/**
 * The web server in front of a stand-in lab service: token, loopback, Host/Origin, body limit, validation, static
 * files, events; and the renderer's client over HTTP + WebSocket against it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLabClient, httpTransport, LabClientError, type WebSocketFactory } from '../../src/renderer/client';
import { contentSecurityPolicy, isLoopbackHost, ServerConfigError, startServer, type LabBackend, type RunningServer } from '../../src/server/server';
import { CALL_NAMES, LabError, type LabEvent, type LabEventListener } from '../../src/shared/api';

/** Answers every call with a canned value and records what reached it. */
function fakeService(): LabBackend & { calls: { name: string; request: unknown }[]; emit(event: LabEvent): void } {
  const listeners = new Set<LabEventListener>();
  const calls: { name: string; request: unknown }[] = [];
  const answers: Record<string, (request: unknown) => unknown> = {
    listRuns: () => [],
    queueState: () => ({ running: null, queued: [] }),
    startRun: () => ({ runId: 42, status: 'queued' }),
    getRun: () => {
      throw new LabError('not-found', 'run 9 does not exist');
    },
  };
  const service = Object.fromEntries(
    CALL_NAMES.map((name) => [
      name,
      async (request: unknown) => {
        calls.push({ name, request });
        return (answers[name] ?? (() => ({})))(request);
      },
    ]),
  );
  return Object.assign(service, {
    calls,
    subscribe: (listener: LabEventListener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit: (event: LabEvent) => listeners.forEach((l) => l(event)),
  }) as never;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request, so tests can send any Host, Origin or body. */
function send(server: RunningServer, path: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function api(server: RunningServer, name: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return send(server, `/api/${name}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  });
}

/** Opens a socket and reports whether it opened, or how it was refused. */
function connect(url: string, headers: Record<string, string> = {}): Promise<{ opened: boolean; status?: number; socket?: WebSocket }> {
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

let dir: string;
let service: ReturnType<typeof fakeService>;
let server: RunningServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpt-lab-server-'));
  mkdirSync(join(dir, 'renderer', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'renderer', 'index.html'), '<!doctype html><title>GPT Lab</title>');
  writeFileSync(join(dir, 'renderer', 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'do not serve');
  service = fakeService();
  server = await startServer({ service, rendererDir: join(dir, 'renderer'), maxBodyBytes: 4096 });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('binding', () => {
  it.each(['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', ''])('refuses to listen on %j', async (host) => {
    await expect(startServer({ service, host })).rejects.toBeInstanceOf(ServerConfigError);
  });

  it('knows the loopback names', () => {
    for (const host of ['127.0.0.1', '::1', '[::1]', 'localhost']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '127.0.0.2.example.com', 'localhost.evil']) expect(isLoopbackHost(host)).toBe(false);
  });

  it('listens on 127.0.0.1 with a long random token per start', async () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.token).toMatch(/^[0-9a-f]{64}$/);
    const other = await startServer({ service });
    expect(other.token).not.toBe(server.token);
    await other.close();
  });
});

describe('the token', () => {
  it('is required on every API request: 401 without it or with a wrong one', async () => {
    const none = await send(server, '/api/listRuns', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect((await api(server, 'listRuns', undefined, { Authorization: 'Bearer nope' })).status).toBe(401);
    expect((await api(server, 'listRuns', undefined, { Authorization: `Bearer ${server.token}x` })).status).toBe(401);
    expect(service.calls.some((c) => c.name === 'listRuns')).toBe(false);
  });

  it('is required for pages too, and the page opened with it gets a cookie for its assets', async () => {
    expect((await send(server, '/')).status).toBe(401);
    expect((await send(server, '/assets/app.js')).status).toBe(401);
    const page = await send(server, `/?token=${server.token}`);
    expect(page.status).toBe(200);
    const cookie = String(page.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const asset = await send(server, '/assets/app.js', { headers: { Cookie: cookie.split(';')[0] } });
    expect(asset.status).toBe(200);
    expect(asset.body).toBe('console.log(1)');
  });

  it('answers a browser without it with a page saying how to open GPT Lab, and programs with the JSON error', async () => {
    const page = await send(server, '/', { headers: { Accept: 'text/html,application/xhtml+xml' } });
    expect(page.status).toBe(401);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(page.body).toContain('GPT Lab is running at http://127.0.0.1:PORT/?token=');
    expect(page.body).not.toContain(server.token);
    const wrong = await send(server, '/?token=wrong', { headers: { Accept: 'text/html' } });
    expect(wrong.headers['content-type']).toMatch(/^text\/html/);
    const program = await send(server, '/');
    expect(JSON.parse(program.body)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    const api = await send(server, '/api/listRuns', { method: 'POST', headers: { Accept: 'text/html', 'Content-Type': 'application/json' }, body: '{}' });
    expect(JSON.parse(api.body)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
  });

  it('is not taken from the cookie by the API', async () => {
    const cookie = `gpt_lab_token=${server.token}`;
    const reply = await send(server, '/api/listRuns', { method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/json' }, body: '' });
    expect(reply.status).toBe(401);
  });

  it('accepts ?token= and Authorization: Bearer on the API', async () => {
    expect((await api(server, 'listRuns', undefined)).status).toBe(200);
    const viaQuery = await send(server, `/api/listRuns?token=${server.token}`, { method: 'POST', headers: { 'Content-Type': 'application/json' } });
    expect(JSON.parse(viaQuery.body)).toEqual({ ok: true, value: [] });
  });

  it('is required on the event socket: without it the socket is refused and closed', async () => {
    const ws = `ws://127.0.0.1:${server.port}/events`;
    expect(await connect(ws)).toEqual({ opened: false, status: 401 });
    expect(await connect(`${ws}?token=wrong`)).toEqual({ opened: false, status: 401 });
    const ok = await connect(`${ws}?token=${server.token}`);
    expect(ok.opened).toBe(true);
    ok.socket!.close();
  });
});

describe('DNS rebinding', () => {
  it('refuses a foreign Host header', async () => {
    const reply = await api(server, 'listRuns', undefined, { Host: `evil.example:${server.port}` });
    expect(reply.status).toBe(403);
    expect((await send(server, `/?token=${server.token}`, { headers: { Host: 'evil.example' } })).status).toBe(403);
  });

  it('refuses a foreign Origin and accepts its own', async () => {
    expect((await api(server, 'listRuns', undefined, { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await api(server, 'listRuns', undefined, { Origin: `http://127.0.0.1:${server.port + 1}` })).status).toBe(403);
    expect((await api(server, 'listRuns', undefined, { Origin: `http://127.0.0.1:${server.port}` })).status).toBe(200);
    expect((await api(server, 'listRuns', undefined, { Host: `localhost:${server.port}`, Origin: `http://localhost:${server.port}` })).status).toBe(200);
  });

  it('refuses a socket from a foreign origin even with the token', async () => {
    const refused = await connect(`ws://127.0.0.1:${server.port}/events?token=${server.token}`, { Origin: 'http://evil.example' });
    expect(refused).toEqual({ opened: false, status: 403 });
  });
});

describe('requests', () => {
  it('validates payloads against the contract before the service sees them', async () => {
    const before = service.calls.length;
    for (const body of [{ config: { nLayer: 'three' } }, { config: {}, extra: 1 }, 'train', [1, 2]]) {
      const reply = await api(server, 'startRun', body);
      expect(reply.status).toBe(400);
      expect(JSON.parse(reply.body)).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    }
    expect((await api(server, 'stopRun', { runId: -3 })).status).toBe(400);
    expect(service.calls.length).toBe(before);
    const ok = await api(server, 'startRun', { config: { preset: 'nano' } });
    expect(JSON.parse(ok.body)).toEqual({ ok: true, value: { runId: 42, status: 'queued' } });
    expect(service.calls.at(-1)).toEqual({ name: 'startRun', request: { config: { preset: 'nano' } } });
  });

  it('answers bad JSON, wrong methods, types and unknown calls clearly', async () => {
    const headers = { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' };
    expect((await send(server, '/api/startRun', { method: 'POST', headers, body: '{"config":' })).status).toBe(400);
    expect((await send(server, '/api/listRuns', { headers: { Authorization: headers.Authorization } })).status).toBe(405);
    expect((await send(server, '/api/listRuns', { method: 'POST', headers: { ...headers, 'Content-Type': 'text/plain' }, body: '{}' })).status).toBe(415);
    expect((await api(server, 'launchMissiles', {})).status).toBe(404);
    expect((await api(server, 'getRun', { runId: 9 })).status).toBe(404);
  });

  it('limits the body size', async () => {
    const big = JSON.stringify({ config: { data: 'x'.repeat(5000) } });
    const reply = await send(server, '/api/startRun', { method: 'POST', headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' }, body: big });
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body)).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    // Without a Content-Length (chunked), the limit holds while reading.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: server.port, path: '/api/startRun', method: 'POST', headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(1000));
      req.end();
    });
    expect(chunked).toBe(413);
  });

  it('takes a text upload (addText) past the ordinary body limit, and validates it', async () => {
    const base64 = Buffer.from('a'.repeat(6000)).toString('base64');
    const headers = { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' };
    const upload = await send(server, '/api/addText', { method: 'POST', headers, body: JSON.stringify({ name: 'a.txt', base64 }) });
    expect(upload.status).toBe(200);
    expect(service.calls.at(-1)).toEqual({ name: 'addText', request: { name: 'a.txt', base64 } });
    const notBase64 = await send(server, '/api/addText', { method: 'POST', headers, body: JSON.stringify({ name: 'a.txt', base64: 'not base64!' }) });
    expect(notBase64.status).toBe(400);
    expect(JSON.parse(notBase64.body)).toMatchObject({ error: { code: 'invalid-request', problems: [{ field: 'base64' }] } });
  });
});

describe('static files', () => {
  it('serves the renderer with a CSP and falls back to index.html, never outside its folder', async () => {
    const auth = { Authorization: `Bearer ${server.token}` };
    const page = await send(server, '/runs/3', { headers: auth });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>GPT Lab</title>');
    expect(page.headers['content-security-policy']).toBe(contentSecurityPolicy(server.port));
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt']) {
      const reply = await send(server, path, { headers: auth });
      expect(reply.body).not.toContain('do not serve');
    }
    expect((await send(server, '/', { method: 'POST', headers: auth })).status).toBe(405);
  });

  it('says how to build the interface when it is missing', async () => {
    const bare = await startServer({ service, rendererDir: join(dir, 'nothing-here') });
    const reply = await send(bare, `/?token=${bare.token}`);
    expect(reply.status).toBe(503);
    expect(reply.body).toMatch(/npm run build/);
    await bare.close();
  });
});

describe("the renderer's client over HTTP and WebSocket", () => {
  it('calls, receives events, and turns failures into LabClientError', async () => {
    const client = createLabClient(httpTransport({ baseUrl: server.url, token: server.token, WebSocket: WebSocket as unknown as WebSocketFactory }));
    expect(await client.listRuns()).toEqual([]);
    expect(await client.startRun({ config: { preset: 'micro' } })).toEqual({ runId: 42, status: 'queued' });

    const error = await client.getRun({ runId: 9 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LabClientError);
    expect(error).toMatchObject({ code: 'not-found', message: 'run 9 does not exist' });
    const invalid = await client.stopRun({ runId: 0 }).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ code: 'invalid-request', problems: [{ field: 'runId' }] });

    const events: LabEvent[] = [];
    const opened = new Promise<void>((resolve) => client.onConnection((state) => state === 'open' && resolve()));
    client.onEvent((event) => events.push(event));
    await opened;
    const event: LabEvent = { channel: 'run:status', payload: { runId: 42, status: 'running' } };
    service.emit(event);
    service.emit({ channel: 'queue', payload: { running: 42, queued: [] } });
    await expect.poll(() => events.length).toBe(2);
    expect(events[0]).toEqual(event);
    client.close();
  });

  it('reports a server that is gone as a clear error', async () => {
    const gone = await startServer({ service });
    const client = createLabClient(httpTransport({ baseUrl: gone.url, token: gone.token, WebSocket: WebSocket as unknown as WebSocketFactory }));
    await gone.close();
    await expect(client.listRuns()).rejects.toMatchObject({ message: expect.stringContaining('cannot reach') });
  });
});
