/** `--queue` URLs: a clear error for what cannot work before anything connects, and for a wrong password after. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueUrlError, checkRedis, redisOptionsOf } from '../../src/worker/connection';
import { startCli } from '../helpers/cli';
import { NO_REDIS_REASON, hasRedis, startRedis, type TestRedis } from '../helpers/redis';

describe('redisOptionsOf', () => {
  it('reads user, password, host, port and TLS', () => {
    expect(redisOptionsOf('redis://127.0.0.1:6390')).toEqual({ host: '127.0.0.1', port: 6390, maxRetriesPerRequest: null });
    expect(redisOptionsOf('rediss://lab:p%40ss@gpu-box:7000')).toEqual({ host: 'gpu-box', port: 7000, username: 'lab', password: 'p@ss', tls: {}, maxRetriesPerRequest: null });
    expect(redisOptionsOf('redis://localhost').port).toBe(6379);
  });

  const refused: [string, RegExp][] = [
    ['http://127.0.0.1:6379', /unknown scheme "http:"; use redis:\/\/\[user:password@\]host:port, or rediss:\/\/ for TLS/],
    ['127.0.0.1:6379', /"127.0.0.1:6379" is not a URL; use redis:\/\/\[user:password@\]host:port/],
    ['not a url', /"not a url" is not a URL/],
    ['redis://10.0.0.5:6379', /10\.0\.0\.5 is not this machine, so the Redis there needs a password/],
  ];
  for (const [url, message] of refused)
    it(`refuses ${url}`, () => {
      expect(() => redisOptionsOf(url)).toThrow(QueueUrlError);
      expect(() => redisOptionsOf(url)).toThrow(message);
    });
});

describe.skipIf(!hasRedis)(`a Redis with a password${hasRedis ? '' : ` (skipped: ${NO_REDIS_REASON})`}`, () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis({ password: 's3cret' });
  });
  afterAll(() => redis?.stop());

  it('accepts the right one and names a wrong or missing one', async () => {
    await expect(checkRedis(redisOptionsOf(redis.url))).resolves.toBeUndefined();
    const at = `127.0.0.1:${redis.port}`;
    await expect(checkRedis(redisOptionsOf(`redis://:wrong@${at}`))).rejects.toThrow(/the Redis at redis:\/\/127\.0\.0\.1:\d+ refused the credentials in --queue \(WRONGPASS/);
    await expect(checkRedis(redisOptionsOf(`redis://${at}`))).rejects.toThrow(/refused the credentials in --queue \(NOAUTH/);
  });

  it('a worker with a wrong password exits 1 with that message instead of retrying forever', async () => {
    const worker = startCli(['worker', '--queue', `redis://:wrong@127.0.0.1:${redis.port}`]);
    expect(await worker.exited).toBe(1);
    expect(worker.stderr()).toMatch(/^gpt-lab: the Redis at redis:\/\/127\.0\.0\.1:\d+ refused the credentials in --queue/m);
  });

  it('nothing listening is its own message', async () => {
    await expect(checkRedis(redisOptionsOf('redis://127.0.0.1:1'))).rejects.toThrow(/cannot reach the Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.*is redis-server running there\?/);
  });
});
