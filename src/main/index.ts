/**
 * Electron main: one secure window over the lab. The lab (LabService, the store and the training host) runs in a
 * process of its own (src/hosts/lab): in the installed app under Electron's own Node, from `npm start` under the
 * system's Node (GPT_LAB_NODE), so better-sqlite3 always meets the ABI it was built for (labLaunch.ts); with neither
 * it runs in this process, which needs `npx @electron/rebuild -f -w better-sqlite3`. The contract is bound to IPC (ipc.ts) and every
 * event sent to the window. Window options, security checks, IPC binding and menu are plain functions in their own
 * files; this file only wires them to Electron.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeTheme, session } from 'electron';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { bundledHostLaunch } from '../hosts/launch';
import { LabService } from '../service/labService';
import { describeStartupError } from '../hosts/startupErrors';
import { defaultDbPath } from '../store/defaultPath';
import type { EventPayload, LabApi, LabEventListener } from '../shared/api';
import { EventChannel } from '../shared/channels';
import { bindLabIpc, forwardEvents } from './ipc';
import { startLabProcess } from '../hosts/lab/client';
import { labProcessLaunch } from './labLaunch';
import { appMenuTemplate } from './menu';
import { checkPackagedFiles, packagedLayout } from './packagedLayout';
import { denyAllPermissions, hardenWebContents, isTrustedSender } from './security';
import { mainWindowOptions } from './window';

const here = fileURLToPath(new URL('.', import.meta.url));
const isDev = !app.isPackaged && process.env.ELECTRON_RENDERER_URL !== undefined;
const appUrl = isDev ? process.env.ELECTRON_RENDERER_URL! : pathToFileURL(join(here, '../renderer/index.html')).href;
const windows = new Set<BrowserWindow>();
/** webContents ids of the app's own windows: the only senders IPC answers. */
const trustedIds = new Set<number>();
interface Lab {
  api: LabApi;
  subscribe(listener: LabEventListener): () => void;
  close(): Promise<void>;
}
let lab: Lab | null = null;

/** The lab in its own process (see labLaunch.ts); in this process when there is no Node to run it with. */
async function startLab(): Promise<Lab> {
  const dbPath = defaultDbPath();
  const launch = labProcessLaunch({ isPackaged: app.isPackaged, execPath: process.execPath, mainDir: here, dbPath, env: process.env });
  if (launch) {
    const remote = startLabProcess(launch);
    await remote.ready;
    return remote;
  }
  const service = new LabService({ dbPath, host: bundledHostLaunch(here) });
  service.warmUp();
  return { api: service, subscribe: (listener) => service.subscribe(listener), close: () => service.close() };
}

function sendCommand(payload: EventPayload<'uiCommand'>): void {
  const target = BrowserWindow.getFocusedWindow() ?? [...windows][0];
  target?.webContents.send(EventChannel.uiCommand, payload);
}

async function openDataFile(): Promise<void> {
  const parent = BrowserWindow.getFocusedWindow() ?? undefined;
  const options = { title: 'Open training text', properties: ['openFile' as const], filters: [{ name: 'Text', extensions: ['txt', 'md', 'csv', 'json', 'py', 'js', 'ts'] }, { name: 'All files', extensions: ['*'] }] };
  const result = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
  if (!result.canceled && result.filePaths[0]) sendCommand({ command: 'open-data', path: result.filePaths[0] });
}

function createWindow(): void {
  const icon = app.isPackaged ? packagedLayout(process.resourcesPath).icon : join(here, '../../resources/icon.png');
  const window = new BrowserWindow(mainWindowOptions(join(here, '../preload/index.cjs'), nativeTheme.shouldUseDarkColors, icon));
  windows.add(window);
  const id = window.webContents.id;
  window.on('closed', () => windows.delete(window));
  window.once('ready-to-show', () => window.show());
  void window.loadURL(appUrl);
  trustedIds.add(id);
  window.webContents.once('destroyed', () => trustedIds.delete(id));
}

/** What an installed app lacks (the packager left it out), as a sentence; null when it is complete. */
function installationProblem(): string | null {
  const layout = packagedLayout(process.resourcesPath);
  const { missing, optionalMissing } = checkPackagedFiles(layout, existsSync);
  for (const what of optionalMissing) process.stderr.write(`gpt-lab: missing ${what}; running without it\n`);
  // The lab process, its hosts and their helper threads inherit it (src/engine/model/nativeGemm.ts).
  if (existsSync(layout.blasAddon)) process.env.GPT_LAB_BLAS_ADDON ??= layout.blasAddon;
  return missing.length ? `This installation of GPT Lab is incomplete: missing ${missing.join('; ')}. Reinstall it.` : null;
}

function fail(error: unknown): void {
  const hint = app.isPackaged ? 'Reinstalling GPT Lab may help.' : 'The browser version works without the desktop shell: npm start -- --web';
  dialog.showErrorBox('GPT Lab cannot start', `${describeStartupError(error)}\n\n${hint}`);
  app.exit(1);
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  const incomplete = app.isPackaged ? installationProblem() : null;
  if (incomplete) {
    dialog.showErrorBox('GPT Lab cannot start', incomplete);
    app.exit(1);
    return;
  }
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, appUrl));
  denyAllPermissions(session.defaultSession);

  try {
    lab = await startLab();
  } catch (error) {
    fail(error);
    return;
  }
  bindLabIpc(ipcMain, lab.api, (event) => isTrustedSender(event, trustedIds, appUrl));
  forwardEvents(lab, () => [...windows].map((w) => w.webContents));

  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      appMenuTemplate({
        isDev,
        isMac: process.platform === 'darwin',
        actions: {
          newRun: () => sendCommand({ command: 'new-run' }),
          openDataFile: () => void openDataFile(),
          exportRun: () => sendCommand({ command: 'export' }),
          toggleTheme: () => sendCommand({ command: 'toggle-theme' }),
        },
      }),
    ),
  );

  createWindow();
  app.on('second-instance', () => [...windows][0]?.focus());
  app.on('activate', () => {
    if (windows.size === 0) createWindow();
  });
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

let quitting = false;
app.on('before-quit', (event) => {
  if (quitting || !lab) return;
  // Let the training host write a checkpoint of the current run before the app exits.
  event.preventDefault();
  quitting = true;
  void lab.close().finally(() => app.quit());
});

main().catch(fail);
