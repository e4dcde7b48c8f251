/**
 * The lab over HTTP + WebSocket, for browsers (no Electron binary), e2e tests and remote GPU boxes via an SSH tunnel.
 * Loopback only. Every request needs the per-start token (Authorization: Bearer, ?token=, or the cookie the page
 * gets when it is first opened with ?token=); Host and Origin must name this server, against DNS rebinding.
 *
 *   POST /api/<call>   JSON request → JSON CallResult (see src/shared/api.ts); /api/addText is the text upload
 *   GET  /events       WebSocket; every lab event as `{ channel, payload }`
 *   GET  /*            the built renderer (out/renderer), index.html for unknown paths
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { apiPath, EVENTS_PATH, isCallName, MAX_UPLOAD_BASE64_CHARS, type CallResult, type LabApi, type LabEvent, type LabEventListener } from '../shared/api';
import { dispatch } from '../hosts/dispatch';
import { sendNoTokenPage } from './noTokenPage';

export const LOOPBACK_HOSTS = ['127.0.0.1', '::1', 'localhost'] as const;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** addText's JSON: the base64 text plus its name and the JSON around them. */
export const UPLOAD_MAX_BODY_BYTES = MAX_UPLOAD_BASE64_CHARS + 4096;
export const DEFAULT_MAX_CLIENT_BACKLOG_BYTES = 8 * 1024 * 1024;
const TOKEN_COOKIE = 'gpt_lab_token';

/** The service as the server needs it: the calls plus a way to hear events. */
export interface LabBackend extends LabApi {
  subscribe(listener: LabEventListener): () => void;
}

export interface ServerOptions {
  service: LabBackend;
  /** Must be loopback: 127.0.0.1 (default), ::1 or localhost. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default: 32 random bytes, hex. */
  token?: string;
  /** The built renderer; when missing, pages answer with a hint to build it. */
  rendererDir?: string;
  maxBodyBytes?: number;
  /** An event socket whose unsent backlog passes this (a client that stopped reading) is dropped. Default 8 MiB. */
  maxClientBacklogBytes?: number;
  /** A request whose headers and body have not all arrived after this long is answered 408 and closed. Default 30 s. */
  requestTimeoutMs?: number;
}

/** Slow clients (a body trickled a byte a minute) must not hold a connection for Node's default 300 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const HEADERS_TIMEOUT_MS = 10_000;

export interface RunningServer {
  url: string;
  /** The URL to open in a browser: with the token. */
  openUrl: string;
  port: number;
  host: string;
  token: string;
  /** Open event sockets (WebSocket clients) right now. */
  clientCount(): number;
  close(): Promise<void>;
}

export class ServerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerConfigError';
  }
}

export function isLoopbackHost(host: string): boolean {
  return (LOOPBACK_HOSTS as readonly string[]).includes(host.replace(/^\[|\]$/g, ''));
}

/** The Content-Security-Policy of every page the server sends. */
export function contentSecurityPolicy(port: number): string {
  const sockets = ['127.0.0.1', 'localhost'].map((h) => `ws://${h}:${port}`).join(' ');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self' ${sockets}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host))
    throw new ServerConfigError(`refusing to listen on ${JSON.stringify(host)}: the web mode binds to loopback only (${LOOPBACK_HOSTS.join(', ')}); use an SSH tunnel to reach it from elsewhere`);
  const token = options.token ?? randomBytes(32).toString('hex');
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const rendererDir = options.rendererDir ? resolve(options.rendererDir) : undefined;
  const sockets = new Set<WebSocket>();
  let port = 0;

  const allowedAuthorities = (): Set<string> => new Set(['127.0.0.1', 'localhost', '[::1]'].map((h) => `${h}:${port}`));
  const allowedOrigins = (): Set<string> => new Set([...allowedAuthorities()].map((a) => `http://${a}`));

  /** DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends Host: evil.example. */
  const checkOrigin = (req: IncomingMessage): string | undefined => {
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    if (!allowedAuthorities().has(hostHeader)) return `Host ${JSON.stringify(req.headers.host ?? '')} is not this server`;
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin.toLowerCase())) return `Origin ${JSON.stringify(origin)} is not allowed`;
    return undefined;
  };

  const tokenMatches = (given: string | undefined | null): boolean => {
    if (!given) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  const requestToken = (req: IncomingMessage, url: URL, allowCookie: boolean): string | undefined => {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return auth.slice('Bearer '.length).trim();
    const query = url.searchParams.get('token');
    if (query) return query;
    if (allowCookie) return cookie(req, TOKEN_COOKIE);
    return undefined;
  };

  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const server: Server = createServer(
    // Node checks the timeouts every connectionsCheckingInterval (default 30 s), so check often enough to honour them.
    { requestTimeout, headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeout), connectionsCheckingInterval: Math.min(1_000, requestTimeout / 2) },
    (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, failure('internal', error instanceof Error ? error.message : String(error)));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    const originProblem = checkOrigin(req);
    if (originProblem) {
      sendJson(res, 403, failure('forbidden', originProblem));
      return;
    }
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const isApi = url.pathname.startsWith('/api/');
    // The API takes the token only from the header or query, never the cookie, so no other page can ride on it.
    if (!tokenMatches(requestToken(req, url, !isApi))) {
      // A person opening the page gets a page saying how to get in; programs get the JSON error.
      if (!isApi && (req.headers.accept ?? '').includes('text/html')) return sendNoTokenPage(res);
      res.setHeader('WWW-Authenticate', 'Bearer');
      sendJson(res, 401, failure('unauthorized', 'missing or wrong token: open the URL GPT Lab printed when it started'));
      return;
    }
    if (isApi) {
      await handleApi(req, res, url.pathname.slice('/api/'.length));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, failure('invalid-request', `${req.method} is not allowed here`));
      return;
    }
    if (url.searchParams.has('token')) res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    serveStatic(req, res, url.pathname);
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    if (!isCallName(name)) {
      sendJson(res, 404, failure('not-found', `unknown call ${JSON.stringify(name)}`));
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      sendJson(res, 405, failure('invalid-request', `${apiPath(name)} takes POST with a JSON body`));
      return;
    }
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type)) {
      sendJson(res, 415, failure('invalid-request', 'the body must be JSON (Content-Type: application/json)'));
      return;
    }
    // An uploaded text may be up to MAX_DATA_BYTES (in base64); every other call is small.
    const limit = name === 'addText' ? UPLOAD_MAX_BODY_BYTES : maxBodyBytes;
    const body = await readBody(req, limit);
    if (body === 'too-large') {
      sendJson(res, 413, failure('invalid-request', `the request body is larger than ${limit} bytes`), true);
      return;
    }
    let payload: unknown;
    try {
      payload = body.length === 0 ? undefined : JSON.parse(body);
    } catch {
      sendJson(res, 400, failure('invalid-request', 'the body is not valid JSON'));
      return;
    }
    const result = await dispatch(options.service, name, payload);
    sendJson(res, result.ok ? 200 : statusOf(result.error.code), result);
  }

  function serveStatic(req: IncomingMessage, res: ServerResponse, pathname: string): void {
    res.setHeader('Content-Security-Policy', contentSecurityPolicy(port));
    res.setHeader('X-Frame-Options', 'DENY');
    const index = rendererDir && join(rendererDir, 'index.html');
    if (!rendererDir || !existsSync(index!)) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('GPT Lab: the user interface is not built yet. Run `npm run build` (or `npm start`, which builds it).\n');
      return;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      sendJson(res, 400, failure('invalid-request', 'malformed path'));
      return;
    }
    const candidate = normalize(join(rendererDir, decoded));
    const inside = candidate === rendererDir || candidate.startsWith(rendererDir + sep);
    const file = inside && existsSync(candidate) && statSync(candidate).isFile() ? candidate : index!;
    const isIndex = file === index;
    res.writeHead(200, {
      'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
      'Cache-Control': isIndex ? 'no-store' : 'public, max-age=3600',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  server.on('upgrade', (req, socket, head) => {
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    // Host is checked before it goes into a URL: `Host: a b` made new URL() throw here, an uncaught exception that
    // took the whole app down on one unauthenticated request.
    if (checkOrigin(req)) return refuse(403, 'Forbidden');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    } catch {
      return refuse(400, 'Bad Request');
    }
    if (url.pathname !== EVENTS_PATH) return refuse(404, 'Not Found');
    if (!tokenMatches(requestToken(req, url, false))) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => sockets.delete(ws));
      // Clients only listen; anything they send is ignored.
      ws.on('message', () => undefined);
    });
  });

  const maxBacklog = options.maxClientBacklogBytes ?? DEFAULT_MAX_CLIENT_BACKLOG_BYTES;
  const broadcast: LabEventListener = (event: LabEvent) => {
    const text = JSON.stringify(event);
    for (const ws of sockets) {
      if (ws.readyState !== ws.OPEN) continue;
      // A client that stops reading would otherwise make the server buffer every event for it, without bound.
      if (ws.bufferedAmount > maxBacklog) {
        sockets.delete(ws);
        ws.terminate();
        continue;
      }
      ws.send(text);
    }
  };
  const unsubscribe = options.service.subscribe(broadcast);

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  port = (server.address() as AddressInfo).port;
  const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const url = `http://${authority}`;

  return {
    url,
    openUrl: `${url}/?token=${token}`,
    port,
    host,
    token,
    clientCount: () => sockets.size,
    close: async () => {
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

function failure(code: Extract<CallResult, { ok: false }>['error']['code'], message: string): CallResult {
  return { ok: false, error: { code, message } };
}

function statusOf(code: string): number {
  switch (code) {
    case 'invalid-request':
    case 'invalid-config':
    case 'invalid-data':
      return 400;
    case 'not-found':
      return 404;
    case 'conflict':
      return 409;
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'host-failed':
      return 503;
    default:
      return 500;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, close = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...(close ? { Connection: 'close' } : {}) });
  res.end(text);
}

/** The body as text, or 'too-large' as soon as it passes the limit (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<string | 'too-large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve('too-large');
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolveBody('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}
