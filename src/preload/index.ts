/** The sandboxed preload: exposes the typed lab API as `window.gptLab`, and nothing else. */
import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_KEY } from '../shared/channels';
import { createBridge } from './bridge';

contextBridge.exposeInMainWorld(BRIDGE_KEY, createBridge(ipcRenderer));
