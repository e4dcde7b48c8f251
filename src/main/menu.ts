/** The application menu as data: what each item does is passed in, so the template is testable without Electron. */
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  newRun(): void;
  openDataFile(): void;
  exportRun(): void;
  toggleTheme(): void;
}

export interface MenuOptions {
  actions: MenuActions;
  /** Developer tools and reload only in development. */
  isDev: boolean;
  isMac: boolean;
}

export function appMenuTemplate({ actions, isDev, isMac }: MenuOptions): MenuItemConstructorOptions[] {
  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      { label: 'New Run', accelerator: 'CmdOrCtrl+N', click: () => actions.newRun() },
      { label: 'Open Data File…', accelerator: 'CmdOrCtrl+O', click: () => actions.openDataFile() },
      { label: 'Export…', accelerator: 'CmdOrCtrl+E', click: () => actions.exportRun() },
      { type: 'separator' },
      isMac ? { role: 'close' } : { role: 'quit' },
    ],
  };
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      { label: 'Toggle Theme', accelerator: 'CmdOrCtrl+Shift+T', click: () => actions.toggleTheme() },
      { type: 'separator' },
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
      ...(isDev ? ([{ type: 'separator' }, { role: 'reload' }, { role: 'toggleDevTools' }] as MenuItemConstructorOptions[]) : []),
    ],
  };
  return [...(isMac ? [{ role: 'appMenu' } as MenuItemConstructorOptions] : []), file, { role: 'editMenu' }, view, { role: 'windowMenu' }];
}
