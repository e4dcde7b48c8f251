/**
 * The contract bound to Electron IPC: one `handle` per call channel, each checking the sender and validating the
 * payload (in dispatch) before the service sees it; every service event sent to every app window.
 * Takes ipcMain and the windows as parameters, so tests run it without Electron.
 */
import { dispatch } from '../hosts/dispatch';
import { CALL_NAMES, Channel, type CallResult, type LabApi, type LabEvent, type LabEventListener } from '../shared/api';
import type { IpcSenderInfo } from './security';

/** The part of ipcMain this needs. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcSenderInfo, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

/** Binds every call; returns a function that unbinds them. */
export function bindLabIpc(ipc: IpcMainLike, api: LabApi, isTrusted: (event: IpcSenderInfo) => boolean): () => void {
  for (const name of CALL_NAMES) {
    ipc.handle(Channel[name], async (event, ...args): Promise<CallResult> => {
      if (!isTrusted(event)) return { ok: false, error: { code: 'forbidden', message: 'this frame may not use the lab API' } };
      if (args.length > 1) return { ok: false, error: { code: 'invalid-request', message: `${name} takes one request object` } };
      return dispatch(api, name, args[0]);
    });
  }
  return () => {
    for (const name of CALL_NAMES) ipc.removeHandler(Channel[name]);
  };
}

/** Something events can be sent to: a window's webContents. */
export interface EventTarget {
  isDestroyed(): boolean;
  send(channel: string, payload: unknown): void;
}

/** Sends every event of `source` to the current targets; returns the unsubscribe function. */
export function forwardEvents(source: { subscribe(listener: LabEventListener): () => void }, targets: () => Iterable<EventTarget>): () => void {
  return source.subscribe((event: LabEvent) => {
    for (const target of targets()) if (!target.isDestroyed()) target.send(event.channel, event.payload);
  });
}
