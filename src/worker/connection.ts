/**
 * `--queue redis://[user:password@]host:port` → ioredis options, with the checks a user needs before anything
 * connects: a known scheme, and a password on anything beyond loopback (Redis has no other access control).
 */
import { Redis } from 'ioredis';

/** What both BullMQ and ioredis take as connection options. */
export interface QueueConnection {
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls?: Record<string, never>;
  maxRetriesPerRequest: null;
}

export class QueueUrlError extends Error {
  override name = 'QueueUrlError';
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function redisOptionsOf(url: string): QueueConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueUrlError(`--queue: ${JSON.stringify(url)} is not a URL; use redis://[user:password@]host:port`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new QueueUrlError(`--queue: unknown scheme ${JSON.stringify(parsed.protocol)}; use redis://[user:password@]host:port, or rediss:// for TLS`);
  const host = parsed.hostname;
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  if (!LOOPBACK.has(host) && !password)
    throw new QueueUrlError(`--queue: ${host} is not this machine, so the Redis there needs a password (redis://:PASSWORD@${host}:${parsed.port || 6379}); or reach it through ssh -L (see README)`);
  return {
    host: host.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(password ? { password } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    // BullMQ's blocking commands must wait through a Redis restart instead of failing.
    maxRetriesPerRequest: null,
  };
}

/** host:port without the password, for messages. */
export function describeQueue(options: QueueConnection): string {
  return `${options.tls ? 'rediss' : 'redis'}://${options.host}:${options.port}`;
}

/**
 * Connects once and pings, so a wrong password or an unreachable server is one clear error at start-up instead of
 * BullMQ retrying forever in the background.
 */
export async function checkRedis(options: QueueConnection, timeoutMs = 5_000): Promise<void> {
  const probe = new Redis({ ...options, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs });
  // ioredis rejects with "Connection is closed." and tells the cause (refused, WRONGPASS…) only to 'error' listeners.
  let cause: Error | undefined;
  probe.on('error', (error: Error) => (cause = error));
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    const reason = cause ?? error;
    const message = reason instanceof Error ? reason.message : String(reason);
    const where = describeQueue(options);
    if (/WRONGPASS|NOAUTH|invalid password|invalid username/i.test(message))
      throw new QueueUrlError(`the Redis at ${where} refused the credentials in --queue (${message.split('\n')[0]})`);
    throw new QueueUrlError(`cannot reach the Redis at ${where}: ${message.split('\n')[0]}; is redis-server running there?`);
  } finally {
    probe.disconnect();
  }
}
