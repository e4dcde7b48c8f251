/**
 * Where each child process's entry is: from TypeScript source (run through tsx: web mode, the CLI, tests) or bundled
 * by electron-vite into out/main (the desktop app), whose file names are kept here once.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The bundled entries in out/main (electron.vite.config.ts names them). */
export const BUNDLED_ENTRIES = {
  lab: 'labProcess.js',
  training: 'host.js',
  analysis: 'analysisHost.js',
  gradientWorker: 'gradientWorker.js',
} as const;

/** How LabService starts its hosts: their modules for child_process.fork and the Node flags they need. */
export interface HostLaunch {
  /** The training host's entry. */
  modulePath: string;
  analysisModulePath: string;
  execArgv: string[];
}

/** Node flags that let a child run TypeScript source. */
export function tsxExecArgv(): string[] {
  return ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href];
}

/** The hosts from TypeScript source, through tsx. */
export function sourceHostLaunch(): HostLaunch {
  return {
    modulePath: fileURLToPath(new URL('./training/entry.ts', import.meta.url)),
    analysisModulePath: fileURLToPath(new URL('./analysis/entry.ts', import.meta.url)),
    execArgv: tsxExecArgv(),
  };
}

/** The hosts bundled beside the main process files (out/main). */
export function bundledHostLaunch(mainDir: string): HostLaunch {
  return { modulePath: join(mainDir, BUNDLED_ENTRIES.training), analysisModulePath: join(mainDir, BUNDLED_ENTRIES.analysis), execArgv: [] };
}
