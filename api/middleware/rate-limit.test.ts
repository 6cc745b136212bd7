/**
 * Rate limits counted in Redis: two API replicas (two apps, each with its own limiter on the same
 * Redis) share one count per key, so a client gets its limit in all, not per replica.
 */
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../test/support/redis.js';
import { rateLimit } from './rate-limit.js';

let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const replica = () =>
  new Hono()
    .use(
      rateLimit({
        what: 'sessions opened',
        limit: 3,
        windowMs: 60_000,
        keyOf: (c) => c.req.header('x-client'),
        redis,
      }),
    )
    .get('/', (c) => c.text('ok'));

describe('rate limits in Redis', () => {
  it('count a client across replicas, and each client on its own', async () => {
    const replicas = [replica(), replica()];
    const statuses = [];
    for (let request = 0; request < 6; request++) {
      const app = replicas[request % 2] as Hono;
      statuses.push((await app.request('/', { headers: { 'x-client': 'a' } })).status);
    }
    expect(statuses).toStrictEqual([200, 200, 200, 429, 429, 429]);
    const other = await (replicas[0] as Hono).request('/', { headers: { 'x-client': 'b' } });
    expect(other.status).toBe(200);

    const refused = await (replicas[1] as Hono).request('/', { headers: { 'x-client': 'a' } });
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });
});
