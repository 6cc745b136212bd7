/**
 * The Redis store against a real redis-server, with the store contract, and what only a shared
 * store does: events appended through one store reach the subscribers of another (another API
 * replica), once each and in order, and the cap on open sessions holds across them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent, TimedEventBody } from '../../common/protocol.js';
import { startRedis, type TestRedis } from '../../test/support/redis.js';
import { newSession } from '../../test/support/sessions.js';
import { openRedisStore } from './redis.js';
import { describeSessionStore } from './store-contract.js';
import { OpenSessionLimitError } from './types.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('the Redis store', () => {
  describeSessionStore({
    setUp: () => redis.flush(),
    open: (clock) => openRedisStore({ url: redis.url, clock }),
    async tearDown() {},
  });
});

const transcript = (text: string): TimedEventBody => ({
  event_type: 'transcription',
  text,
  is_final: true,
  is_interruption: false,
  timestamp: '2025-01-01T00:00:01.000Z',
});

describe('two Redis stores (two API replicas)', () => {
  it('hand each subscriber every event once and in order, whichever replica appended it', async () => {
    await redis.flush();
    const [a, b] = await Promise.all([
      openRedisStore({ url: redis.url }),
      openRedisStore({ url: redis.url }),
    ]);
    try {
      await a.createSession(newSession('s1', { owner: 'client-1' }));
      const seenOnB: SessionEvent[] = [];
      b.subscribe('s1', (events) => seenOnB.push(...events));
      // The subscription is in place once a round trip through Redis has been made.
      await b.isHealthy();
      await new Promise((resolve) => setTimeout(resolve, 50));

      // Appends from both replicas at once, racing for the next seq.
      await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          (index % 2 === 0 ? a : b).appendEvents('s1', [transcript(`t${index}`)]),
        ),
      );
      await expect
        .poll(() => seenOnB.map((event) => event.seq), { timeout: 2000 })
        .toStrictEqual(Array.from({ length: 20 }, (_, index) => index + 1));
      expect(new Set(seenOnB.map((event) => (event as { text: string }).text)).size).toBe(20);
      expect((await a.readEvents('s1', 0, 100)).map((event) => event.seq)).toHaveLength(20);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("deliver to a replica's subscribers of many sessions, each session's events to its own", async () => {
    await redis.flush();
    const a = await openRedisStore({ url: redis.url });
    const ids = Array.from({ length: 10 }, (_, index) => `s${index}`);
    for (const id of ids) await a.createSession(newSession(id));
    const b = await openRedisStore({ url: redis.url });
    try {
      const seen = new Map<string, number[]>();
      for (const id of ids) {
        b.subscribe(id, (events) =>
          seen.set(id, [...(seen.get(id) ?? []), ...events.map((e) => e.seq)]),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      await Promise.all(ids.map((id) => a.appendEvents(id, [transcript(id)])));
      await expect
        .poll(() => ids.map((id) => seen.get(id)), { timeout: 2000 })
        .toStrictEqual(ids.map(() => [1]));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('follow a session subscribed to while Redis was down, once it is back', async () => {
    await redis.flush();
    const [a, b] = await Promise.all([
      openRedisStore({ url: redis.url }),
      openRedisStore({ url: redis.url }),
    ]);
    try {
      await a.createSession(newSession('s1'));
      await redis.halt();
      const seen: number[] = [];
      b.subscribe('s1', (events) => seen.push(...events.map((event) => event.seq)));
      // Long enough for ioredis to give up on the first attempts.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await redis.start();
      await expect.poll(() => a.isHealthy(), { timeout: 10_000 }).toBe(true);

      await a.appendEvents('s1', [transcript('after')]);
      await expect.poll(() => seen, { timeout: 10_000 }).toStrictEqual([1]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('keep the cap on open sessions across replicas opening sessions at once', async () => {
    await redis.flush();
    const [a, b] = await Promise.all([
      openRedisStore({ url: redis.url }),
      openRedisStore({ url: redis.url }),
    ]);
    try {
      const limit = { max: 3, activeSince: new Date(Date.now() - 60_000).toISOString() };
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, index) =>
          (index % 2 === 0 ? a : b).createSession(
            newSession(`s${index}`, { owner: 'client-1' }),
            limit,
          ),
        ),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(3);
      for (const result of results.filter((result) => result.status === 'rejected')) {
        expect(result.reason).toBeInstanceOf(OpenSessionLimitError);
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
