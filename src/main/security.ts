/**
 * What the app's web contents may do: load the app's own page, and nothing else. No navigation, no new windows,
 * no webviews, no permissions; IPC only from the app's own top frame.
 */
import type { Session, WebContents } from 'electron';

/**
 * The renderer's Content-Security-Policy, carried by src/renderer/index.html as a meta tag (a test keeps the two
 * equal). frame-ancestors is left out because a meta tag cannot set it; the web server sends it as a header.
 */
export const RENDERER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * True when `url` is the app's page: the built index.html (file://, query and hash ignored) or, in development,
 * anything on the dev server's origin.
 */
export function isAppUrl(url: string, appUrl: string): boolean {
  let candidate: URL;
  let app: URL;
  try {
    candidate = new URL(url);
    app = new URL(appUrl);
  } catch {
    return false;
  }
  if (app.protocol === 'file:') return candidate.protocol === 'file:' && candidate.pathname === app.pathname;
  return candidate.origin === app.origin;
}

/** The minimal view of an IPC event the sender check needs (Electron's IpcMainInvokeEvent has these). */
export interface IpcSenderInfo {
  sender: { id: number };
  senderFrame: { url: string; parent: unknown } | null;
}

/** IPC is answered only for the app's own window, from its top frame, showing the app's page. */
export function isTrustedSender(event: IpcSenderInfo, trustedWebContentsIds: ReadonlySet<number>, appUrl: string): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent) return false;
  return trustedWebContentsIds.has(event.sender.id) && isAppUrl(frame.url, appUrl);
}

/** Denies navigation away from the app, new windows and webviews for one web contents. */
export function hardenWebContents(contents: WebContents, appUrl: string): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, appUrl)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url, appUrl)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** No camera, microphone, notifications, geolocation…: the lab needs none. */
export function denyAllPermissions(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}
