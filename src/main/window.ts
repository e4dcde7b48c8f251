/** The main window's options: plain data, so a test can check every security setting without Electron. */
import type { BrowserWindowConstructorOptions, WebPreferences } from 'electron';

/** The renderer gets no Node, no remote content and only the preload's named functions. */
export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  };
}

/** `icon`: the window's icon on Linux and Windows (macOS takes the app bundle's). */
export function mainWindowOptions(preloadPath: string, dark = false, icon?: string): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 840,
    minWidth: 900,
    minHeight: 600,
    title: 'GPT Lab',
    // Shown once the first paint is ready, so the window never flashes white in the dark theme.
    show: false,
    backgroundColor: dark ? '#15171c' : '#f7f7f9',
    autoHideMenuBar: false,
    ...(icon ? { icon } : {}),
    webPreferences: secureWebPreferences(preloadPath),
  };
}
