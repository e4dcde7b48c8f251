/**
 * How the client reaches the lab: the preload's bridge in the desktop app, HTTP + WebSocket in a browser. Both
 * deliver CallResults and contract events; the client on top (index.ts) is the same for either.
 */
import { apiPath, EVENTS_PATH, parseLabEvent, type CallName, type CallResult, type LabBridge, type LabEvent, type LabEventListener } from '../../shared/api';

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface Transport {
  readonly kind: 'ipc' | 'http';
  call(name: CallName, request: unknown): Promise<CallResult>;
  subscribe(listener: LabEventListener): () => void;
  /** Live-connection changes; after 'open' following 'closed', events may have been missed: refetch. */
  onConnection(listener: (state: ConnectionState) => void): () => void;
  close(): void;
}

export function bridgeTransport(bridge: LabBridge): Transport {
  return {
    kind: 'ipc',
    call: (name, request) => (bridge[name] as (request: unknown) => Promise<CallResult>)(request),
    subscribe: (listener) => bridge.onEvent(listener),
    onConnection: (listener) => {
      listener('open');
      return () => undefined;
    },
    close: () => undefined,
  };
}

/** The parts of the browser's WebSocket the transport uses (Node tests pass the `ws` package's class). */
export interface WebSocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  close(): void;
}
export type WebSocketFactory = new (url: string) => WebSocketLike;

export interface HttpTransportOptions {
  /** e.g. http://127.0.0.1:5599 */
  baseUrl: string;
  token: string;
  WebSocket?: WebSocketFactory;
  fetch?: typeof fetch;
  /** Delay before reconnecting a dropped event socket; doubles up to 10 s. */
  reconnectMs?: number;
}

export function httpTransport(options: HttpTransportOptions): Transport {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const SocketImpl = options.WebSocket ?? (globalThis.WebSocket as unknown as WebSocketFactory);
  const listeners = new Set<LabEventListener>();
  const connectionListeners = new Set<(state: ConnectionState) => void>();
  let socket: WebSocketLike | null = null;
  let closed = false;
  let delay = options.reconnectMs ?? 500;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const setState = (state: ConnectionState): void => {
    for (const listener of connectionListeners) listener(state);
  };

  const connect = (): void => {
    if (closed || socket) return;
    const url = new URL(EVENTS_PATH, options.baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', options.token);
    setState('connecting');
    const ws = new SocketImpl(url.href);
    socket = ws;
    ws.onopen = () => {
      delay = options.reconnectMs ?? 500;
      setState('open');
    };
    ws.onmessage = ({ data }) => {
      let parsed: LabEvent | undefined;
      try {
        parsed = parseLabEvent(JSON.parse(String(data)));
      } catch {
        parsed = undefined;
      }
      if (parsed) for (const listener of listeners) listener(parsed);
    };
    ws.onerror = () => undefined;
    ws.onclose = () => {
      if (socket === ws) socket = null;
      setState('closed');
      if (closed || listeners.size === 0) return;
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10_000);
    };
  };

  return {
    kind: 'http',
    async call(name, request) {
      let response: Response;
      try {
        response = await fetchImpl(new URL(apiPath(name), options.baseUrl).href, {
          method: 'POST',
          headers: { Authorization: `Bearer ${options.token}`, 'Content-Type': 'application/json' },
          body: request === undefined ? '' : JSON.stringify(request),
        });
      } catch {
        return { ok: false, error: { code: 'internal', message: 'cannot reach the GPT Lab server: is it still running?' } };
      }
      try {
        const body = (await response.json()) as CallResult;
        if (typeof body === 'object' && body !== null && typeof body.ok === 'boolean') return body;
      } catch {
        // fall through: not a CallResult
      }
      return { ok: false, error: { code: 'internal', message: `the server answered ${response.status} ${response.statusText}` } };
    },
    subscribe(listener) {
      listeners.add(listener);
      connect();
      return () => listeners.delete(listener);
    },
    onConnection(listener) {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
    close() {
      closed = true;
      clearTimeout(timer);
      socket?.close();
      socket = null;
    },
  };
}
