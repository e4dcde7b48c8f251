/**
 * The one supervisor of GPT Lab's child processes (the lab process, the training host, the analysis host): it forks
 * a child, parses every message it sends against the child's protocol, waits for its `ready` (or `fatal`) handshake
 * within a time limit, restarts it after a crash within a bounded budget, and stops it gracefully before killing it.
 *
 * The handshake is a convention every protocol in src/hosts follows: the child's first message is
 * `{ type: 'ready', … }` once it can work, or `{ type: 'fatal', message }` when it cannot start.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { z } from 'zod';

/** The messages a child sends: a union over `type` that includes the ready handshake. */
export type ChildEvent = { type: string };
export type ReadyOf<E extends ChildEvent> = Extract<E, { type: 'ready' }>;

export interface ChildSpec<E extends ChildEvent> {
  /** The child in messages, as a sentence starts it: "the training host". */
  name: string;
  modulePath: string;
  args?: string[];
  /** Node flags (e.g. tsx's loader when the child runs from TypeScript source). */
  execArgv?: string[];
  /** The Node binary (default: this process's). */
  execPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Every message from the child is parsed with this; a malformed one is logged and dropped. */
  events: z.ZodType<E>;
  /**
   * 'pipe' keeps the last lines of the child's output to explain how it died (stderr is echoed unless echoStderr is
   * false); 'inherit' passes its output straight through.
   */
  output?: 'pipe' | 'inherit';
  echoStderr?: boolean;
  /** How long the child may take to send `ready` before it counts as failed and is killed (default 120 s). */
  readyTimeoutMs?: number;
  /** What stop() sends first; without one, stop() closes the IPC channel (the child's 'disconnect' ends it). */
  stopMessage?: unknown;
  /** How long stop() waits for the child to exit before killing it (default 15 s). */
  stopGraceMs?: number;
  /** Restarts after crashes: at most `max` within `windowMs` (default 3 per minute); `max: 0` never restarts. */
  restart?: RestartPolicy;
}

export interface RestartPolicy {
  max: number;
  windowMs: number;
}

export const DEFAULT_READY_TIMEOUT_MS = 120_000;
export const DEFAULT_STOP_GRACE_MS = 15_000;
export const DEFAULT_RESTART: RestartPolicy = { max: 3, windowMs: 60_000 };
const OUTPUT_TAIL_LINES = 20;

/** How a child ended, for the parent to act on and to tell the user. */
export interface ChildExit {
  pid: number | undefined;
  /** "was killed (SIGKILL)", "exited with code 1", "did not become ready within 120 s". */
  why: string;
  /** The child's name, why, and the last lines it printed: a sentence to show as it is. */
  message: string;
  /** It had sent `ready`: a crash of a working child rather than a failed start. */
  wasReady: boolean;
  /** Set when it never became ready: why it could not start (its `fatal` message when it sent one). */
  startupFailure: string | null;
  /** stop() asked for this exit. */
  requested: boolean;
  /** The supervisor is starting a replacement (a crash within the restart budget). */
  restarting: boolean;
}

export class ChildStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChildStartError';
  }
}

/** One run of the child process, from fork to exit. */
interface Incarnation<E extends ChildEvent> {
  child: ChildProcess;
  ready: Promise<ReadyOf<E>>;
  isReady: boolean;
  fatal: string | null;
  timedOut: boolean;
  /** Why the process could not be spawned at all (no such binary). */
  spawnError: string | null;
  stopRequested: boolean;
  output: string[];
  exited: Promise<void>;
}

export class Supervisor<C, E extends ChildEvent> {
  private current: Incarnation<E> | null = null;
  private readonly eventListeners = new Set<(event: E) => void>();
  private readonly exitListeners = new Set<(exit: ChildExit) => void>();
  /** When the recent crashes happened (ms), for the restart budget. */
  private crashTimes: number[] = [];
  private stopped = false;

  constructor(private readonly spec: ChildSpec<E>) {}

  /** The running child's process id; undefined when none runs. */
  get pid(): number | undefined {
    return this.current?.child.pid;
  }

  /** Whether a child process runs now (started and not yet exited). */
  get isAlive(): boolean {
    const child = this.current?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /**
   * Starts the child unless one runs (a stopped supervisor starts again when asked) and returns its handshake:
   * the ready message, or a ChildStartError saying why it could not start.
   */
  start(): Promise<ReadyOf<E>> {
    this.stopped = false;
    this.current ??= this.fork();
    return this.current.ready;
  }

  /** Sends a message to the running child; false when there is none to hear it. */
  send(command: C): boolean {
    const child = this.current?.child;
    if (!child?.connected) return false;
    child.send(command as object, (error: Error | null) => void error);
    return true;
  }

  onEvent(listener: (event: E) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onExit(listener: (exit: ChildExit) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  /** Asks the child to stop (its stop message, or closing the channel), kills it after the grace period, waits. */
  async stop(): Promise<void> {
    this.stopped = true;
    const incarnation = this.current;
    if (!incarnation || !this.isAlive) return;
    incarnation.stopRequested = true;
    const { child } = incarnation;
    if (this.spec.stopMessage !== undefined && child.connected) child.send(this.spec.stopMessage as object, (error: Error | null) => void error);
    else if (child.connected) child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), this.spec.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
    await incarnation.exited;
    clearTimeout(timer);
  }

  private fork(): Incarnation<E> {
    const { spec } = this;
    const piped = (spec.output ?? 'pipe') === 'pipe';
    const child = fork(spec.modulePath, spec.args ?? [], {
      execArgv: spec.execArgv ?? [],
      ...(spec.execPath ? { execPath: spec.execPath } : {}),
      env: spec.env ?? process.env,
      stdio: piped ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settle!: { resolve: (event: ReadyOf<E>) => void; reject: (error: Error) => void };
    const ready = new Promise<ReadyOf<E>>((resolve, reject) => (settle = { resolve, reject }));
    ready.catch(() => undefined);
    const incarnation: Incarnation<E> = {
      child,
      ready,
      isReady: false,
      fatal: null,
      timedOut: false,
      spawnError: null,
      stopRequested: false,
      output: [],
      exited: exitOf(child),
    };
    if (piped) this.keepOutput(incarnation);

    const readyTimeoutMs = spec.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    const readyTimer = setTimeout(() => {
      incarnation.timedOut = true;
      child.kill('SIGKILL');
    }, readyTimeoutMs);

    child.on('message', (raw) => {
      const parsed = spec.events.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        process.stderr.write(`gpt-lab: ignored a malformed message from ${spec.name} (${issue?.path.join('.') || 'message'}: ${issue?.message})\n`);
        return;
      }
      const event = parsed.data;
      if (event.type === 'ready' && !incarnation.isReady) {
        incarnation.isReady = true;
        clearTimeout(readyTimer);
        settle.resolve(event as ReadyOf<E>);
      } else if (event.type === 'fatal' && !incarnation.isReady) {
        incarnation.fatal = String((event as { message?: unknown }).message);
        settle.reject(new ChildStartError(`${spec.name} could not start: ${incarnation.fatal}`));
      }
      for (const listener of [...this.eventListeners]) listener(event);
    });
    child.on('error', (error) => {
      if (child.pid === undefined) incarnation.spawnError = error.message;
      if (!incarnation.isReady) settle.reject(new ChildStartError(`${spec.name} could not start: ${error.message}`));
      else process.stderr.write(`gpt-lab: ${spec.name} failed: ${error.message}\n`);
    });
    void incarnation.exited.then(() => {
      clearTimeout(readyTimer);
      const exit = this.describeExit(incarnation, child.exitCode, child.signalCode, readyTimeoutMs);
      if (exit.startupFailure) settle.reject(new ChildStartError(exit.startupFailure));
      this.onClose(incarnation, exit);
    });
    return incarnation;
  }

  private keepOutput(incarnation: Incarnation<E>): void {
    const keep = (chunk: Buffer, echo: boolean): void => {
      if (echo) process.stderr.write(chunk);
      incarnation.output.push(...chunk.toString('utf8').split('\n').filter((line) => line.trim() !== ''));
      incarnation.output.splice(0, Math.max(0, incarnation.output.length - OUTPUT_TAIL_LINES));
    };
    incarnation.child.stdout?.on('data', (chunk: Buffer) => keep(chunk, false));
    incarnation.child.stderr?.on('data', (chunk: Buffer) => keep(chunk, this.spec.echoStderr !== false));
  }

  private describeExit(incarnation: Incarnation<E>, code: number | null, signal: NodeJS.Signals | null, readyTimeoutMs: number): ChildExit {
    const why = incarnation.spawnError
      ? `could not be started (${incarnation.spawnError})`
      : incarnation.timedOut
        ? `did not become ready within ${readyTimeoutMs / 1000} s`
        : signal
        ? `was killed (${signal})`
        : `exited with code ${code}`;
    const tail = incarnation.output.length ? `: ${incarnation.output.slice(-3).join(' | ')}` : '';
    const message = `${this.spec.name} ${why}${tail}`;
    const startupFailure = incarnation.isReady
      ? null
      : incarnation.fatal !== null
        ? `${this.spec.name} could not start: ${incarnation.fatal}`
        : `${this.spec.name} ${incarnation.timedOut || incarnation.spawnError ? why : `${why} before it was ready`}${tail}`;
    const requested = incarnation.stopRequested;
    return { pid: incarnation.child.pid, why, message, wasReady: incarnation.isReady, startupFailure, requested, restarting: false };
  }

  /**
   * A child is gone: tell the listeners, then replace it when it crashed after becoming ready and the budget allows.
   * A child that never became ready is not restarted (a second try would fail the same way); the next start() tries.
   */
  private onClose(incarnation: Incarnation<E>, exit: ChildExit): void {
    if (this.current === incarnation) this.current = null;
    const crashed = exit.wasReady && !exit.requested && !this.stopped;
    const restarting = crashed && this.takeRestart();
    for (const listener of [...this.exitListeners]) listener({ ...exit, restarting });
    // A listener may have started a replacement already (LabService does, to train the next queued run).
    if (restarting && !this.stopped) this.current ??= this.fork();
    else if (crashed && !restarting && this.crashTimes.length > 1)
      process.stderr.write(`gpt-lab: ${this.spec.name} crashed ${this.crashTimes.length} times within ${(this.spec.restart ?? DEFAULT_RESTART).windowMs / 1000} s; it is not restarted until it is needed again\n`);
  }

  private takeRestart(): boolean {
    const { max, windowMs } = this.spec.restart ?? DEFAULT_RESTART;
    const now = Date.now();
    this.crashTimes = this.crashTimes.filter((at) => now - at < windowMs);
    this.crashTimes.push(now);
    return this.crashTimes.length <= max;
  }
}

/**
 * Resolves once the child has exited and the output it piped to us is read to the end (so the tail explains its
 * death). Not 'close': after the parent disconnects the channel, Node never emits 'close' for the child.
 */
function exitOf(child: ChildProcess): Promise<void> {
  const drained = (stream: NodeJS.ReadableStream | null): Promise<void> =>
    !stream || (stream as { closed?: boolean }).closed ? Promise.resolve() : new Promise((done) => stream.once('close', () => done()));
  const exited = new Promise<void>((done) => {
    child.once('exit', () => done());
    // A child that could not be spawned at all (no such Node binary) emits only 'error'.
    child.once('error', () => child.pid === undefined && done());
  });
  return exited.then(() => Promise.all([drained(child.stdout), drained(child.stderr)])).then(() => undefined);
}
