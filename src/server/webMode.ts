/**
 * Web mode: the lab service and the HTTP/WebSocket server in this process, the renderer in a browser. Started by
 * `npm start` when there is no Electron binary (or with --web). Problems are reported as one line, never a stack.
 */
import { fileURLToPath } from 'node:url';
import { DATA_DIR_ENV } from '../lab/dataAccess';
import { LabService } from '../service/labService';
import { describeStartupError } from '../hosts/startupErrors';
import { defaultDbPath } from '../store/defaultPath';
import { startServer, type RunningServer } from './server';

export interface WebModeOptions {
  port?: number;
  host?: string;
  dbPath?: string;
  rendererDir?: string;
  /** The folder API clients may train on files from (dataAccess.ts); default $GPT_LAB_DATA_DIR, else none. */
  dataDir?: string;
  /** Called with the URL to open (with token) once the server listens. */
  onListening?(server: RunningServer): void;
}

export interface WebMode {
  server: RunningServer;
  service: LabService;
  close(): Promise<void>;
}

export const DEFAULT_RENDERER_DIR = fileURLToPath(new URL('../../out/renderer', import.meta.url));

export async function startWebMode(options: WebModeOptions = {}): Promise<WebMode> {
  const dataDir = options.dataDir ?? (process.env[DATA_DIR_ENV] || undefined);
  const service = new LabService({ dbPath: options.dbPath ?? defaultDbPath(), webData: { dataDir } });
  let server: RunningServer;
  try {
    server = await startServer({ service, host: options.host, port: options.port, rendererDir: options.rendererDir ?? DEFAULT_RENDERER_DIR });
  } catch (error) {
    await service.close();
    throw error;
  }
  service.warmUp();
  options.onListening?.(server);
  let closing: Promise<void> | null = null;
  return {
    server,
    service,
    close: () => (closing ??= server.close().then(() => service.close())),
  };
}

/** For bin/start.mjs: run until SIGINT/SIGTERM, then stop the current run cleanly (it keeps a checkpoint). */
export async function runWebMode(options: WebModeOptions): Promise<void> {
  let mode: WebMode;
  try {
    mode = await startWebMode(options);
  } catch (error) {
    process.stderr.write(`gpt-lab: cannot start the web mode: ${describeStartupError(error)}\n`);
    process.exitCode = 1;
    return;
  }
  const stop = (): void => {
    process.stderr.write('gpt-lab: stopping (the current run keeps a checkpoint)…\n');
    void mode.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
