/** The real `gpt-lab` executable as a child process, for tests that need a process to kill or to talk to. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(ROOT, 'bin', 'gpt-lab.mjs');

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Resolves once stderr has a line matching `pattern`. */
  waitForStderr(pattern: RegExp): Promise<void>;
}

export function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  return startNode([BIN, ...args], env);
}

/** Any Node process (`--import tsx script.ts …` for a TypeScript one) with the same helpers. */
export function startNode(nodeArgs: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, nodeArgs, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    for (const waiter of [...waiters]) if (waiter.pattern.test(err)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  const exited = new Promise<number | null>((resolvePromise) => child.on('close', (code) => resolvePromise(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStderr: (pattern) =>
      new Promise((resolvePromise, reject) => {
        if (pattern.test(err)) return resolvePromise();
        waiters.push({ pattern, resolve: resolvePromise });
        void exited.then((code) => reject(new Error(`${nodeArgs.join(' ').slice(0, 120)} exited (${code}) before printing ${pattern}:\n${err.slice(-1500)}`)));
      }),
  };
}

/** Asks a process to stop and waits for it; kills it if it takes longer than `graceMs`. */
export async function stopCli(cli: CliProcess, graceMs = 20_000): Promise<number | null> {
  if (cli.child.exitCode === null && cli.child.signalCode === null) {
    cli.child.kill('SIGTERM');
    const timer = setTimeout(() => cli.child.kill('SIGKILL'), graceMs);
    await cli.exited;
    clearTimeout(timer);
  }
  return cli.exited;
}
