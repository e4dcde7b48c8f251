/**
 * The object the preload exposes: one named function per call and `onEvent`, built over whatever ipcRenderer-like
 * object it is given, so tests can check its exact keys without Electron. It never hands out ipcRenderer or an
 * IPC event (whose `sender` would be ipcRenderer).
 */
import { BRIDGE_EVENTS_KEY, CALL_NAMES, Channel, EVENT_CHANNELS } from '../shared/channels';
import type { LabBridge, LabEvent, LabEventListener } from '../shared/api';

/** The part of ipcRenderer the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
}

export function createBridge(ipc: IpcRendererLike): LabBridge {
  const bridge: Record<string, unknown> = {};
  for (const name of CALL_NAMES) {
    const channel = Channel[name];
    bridge[name] = (request?: unknown) => ipc.invoke(channel, request);
  }
  bridge[BRIDGE_EVENTS_KEY] = (listener: LabEventListener): (() => void) => {
    if (typeof listener !== 'function') throw new TypeError('onEvent needs a function');
    const handlers = EVENT_CHANNELS.map((channel) => {
      const handler = (_event: unknown, payload: unknown): void => listener({ channel, payload } as LabEvent);
      ipc.on(channel, handler);
      return [channel, handler] as const;
    });
    return () => {
      for (const [channel, handler] of handlers) ipc.removeListener(channel, handler);
    };
  };
  return Object.freeze(bridge) as LabBridge;
}
