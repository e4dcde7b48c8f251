/**
 * The renderer's one typed client: the LabApi over a Transport, throwing LabClientError for failed calls, plus
 * events. `connectLab()` picks the transport: the preload's `window.gptLab` when present, HTTP + WebSocket otherwise.
 */
import { BRIDGE_KEY, type ConfigProblemData, type LabApi, type LabBridge, type LabErrorCode, type LabErrorInfo, type LabEventListener } from '../../shared/api';
import { callProxy } from '../../shared/callProxy';
import { bridgeTransport, httpTransport, type ConnectionState, type Transport } from './transport';

export { bridgeTransport, httpTransport } from './transport';
export type { Transport, ConnectionState, HttpTransportOptions, WebSocketFactory } from './transport';

export class LabClientError extends Error {
  readonly code: LabErrorCode;
  readonly problems: ConfigProblemData[];

  constructor(info: LabErrorInfo) {
    super(info.message);
    this.name = 'LabClientError';
    this.code = info.code;
    this.problems = info.problems ?? [];
  }
}

export type LabClient = LabApi & {
  readonly transport: Transport['kind'];
  onEvent(listener: LabEventListener): () => void;
  onConnection(listener: (state: ConnectionState) => void): () => void;
  close(): void;
};

export function createLabClient(transport: Transport): LabClient {
  const calls = callProxy((name, request) => transport.call(name, request), (info) => new LabClientError(info));
  return {
    ...calls,
    transport: transport.kind,
    onEvent: (listener) => transport.subscribe(listener),
    onConnection: (listener) => transport.onConnection(listener),
    close: () => transport.close(),
  };
}

/** The token the web server printed, from ?token= (kept for this tab so an in-app reload still works). */
function webToken(): string {
  const fromUrl = new URLSearchParams(window.location.search).get('token');
  if (fromUrl) {
    sessionStorage.setItem('gpt-lab-token', fromUrl);
    return fromUrl;
  }
  return sessionStorage.getItem('gpt-lab-token') ?? '';
}

export function connectLab(): LabClient {
  const bridge = (window as unknown as Record<string, unknown>)[BRIDGE_KEY] as LabBridge | undefined;
  if (bridge) return createLabClient(bridgeTransport(bridge));
  return createLabClient(httpTransport({ baseUrl: window.location.origin, token: webToken() }));
}
