/**
 * Two API replicas on one Redis (REDIS_URL), as behind a load balancer: a session opened through
 * one is followed, fed and limited through the other; and a Redis restart, through which the API
 * answers 503 `store_unavailable` and loses nothing.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorBody, TimedEventBody } from '../common/protocol.js';
import { startRedis, type TestRedis } from '../test/support/redis.js';
import {
  buildTestApp,
  createSession,
  postJson,
  readBody,
  sseSeqs,
  type TestApp,
} from '../test/support/test-app.js';
import { openRedisStore } from './store/redis.js';
import type { SessionStore } from './store/types.js';

let server: TestRedis;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

const LIMITS_OFF = { RATE_LIMIT_SESSIONS: '0', MAX_OPEN_SESSIONS_PER_CLIENT: '0' };
let opened: { store: SessionStore; redis: Redis }[] = [];
beforeEach(() => server.flush());
afterEach(async () => {
  await Promise.all(opened.flatMap(({ store, redis }) => [store.close(), redis.quit()]));
  opened = [];
});

/** A replica: its own connections to the shared Redis, its own app. */
async function replica(env: NodeJS.ProcessEnv = LIMITS_OFF) {
  const store = await openRedisStore({ url: server.url });
  const redis = new Redis(server.url);
  redis.on('error', () => {}); // the outage test stops Redis; the app's own calls report it
  opened.push({ store, redis });
  return buildTestApp({ store, redis, env: { REDIS_URL: server.url, ...env } });
}

const transcript = (text: string): TimedEventBody => ({
  event_type: 'transcription',
  text,
  is_final: true,
  is_interruption: false,
  timestamp: new Date().toISOString(),
});

const ingest = (app: TestApp, sessionId: string, token: string, events: TimedEventBody[]) =>
  app.request(
    `/internal/sessions/${sessionId}/events`,
    postJson(JSON.stringify({ events }), { authorization: `Bearer ${token}` }),
  );

describe('two API replicas on one Redis', () => {
  it("streams on one replica the events the session's agent reports to the other, once each", async () => {
    const [a, b] = [await replica(), await replica()];
    const session = await createSession(a.app);
    const ingestToken = a.livekit.createdRooms.at(-1)?.metadata.ingestToken ?? '';
    const feed = readBody(
      await b.app.request(`/api/sessions/${session.sessionId}/events`, {
        headers: { authorization: `Bearer ${session.sessionToken}` },
      }),
    );
    await feed.until((text) => text.startsWith('retry:'));

    for (const text of ['one', 'two', 'three']) {
      const response = await ingest(a.app, session.sessionId, ingestToken, [transcript(text)]);
      expect(response.status).toBe(200);
    }
    await feed.until((text) => sseSeqs(text).includes(3));
    expect(sseSeqs(feed.text)).toStrictEqual([1, 2, 3]);
    await feed.cancel();

    const state = await b.app.request(`/api/sessions/${session.sessionId}`, {
      headers: { authorization: `Bearer ${session.sessionToken}` },
    });
    expect(state.status).toBe(200);
  });

  it('counts a client against one rate limit across replicas', async () => {
    const env = { RATE_LIMIT_SESSIONS: '2', MAX_OPEN_SESSIONS_PER_CLIENT: '0' };
    const [a, b] = [await replica(env), await replica(env)];
    const open = async (app: TestApp) =>
      (await app.request('/api/sessions', postJson('{"voice":false}'))).status;

    expect([await open(a.app), await open(b.app), await open(a.app), await open(b.app)]).toEqual([
      201, 201, 429, 429,
    ]);
  });
});

describe('a Redis restart', () => {
  it('answers 503 store_unavailable while Redis is down, then carries on with the session', async () => {
    const { app, livekit } = await replica();
    const session = await createSession(app);
    const ingestToken = livekit.createdRooms.at(-1)?.metadata.ingestToken ?? '';
    expect((await ingest(app, session.sessionId, ingestToken, [transcript('before')])).status).toBe(
      200,
    );

    await server.halt();
    const refusals = [
      await app.request('/api/sessions', postJson('{"voice":false}')),
      await ingest(app, session.sessionId, ingestToken, [transcript('while down')]),
      await app.request(`/api/sessions/${session.sessionId}`, {
        headers: { authorization: `Bearer ${session.sessionToken}` },
      }),
    ];
    for (const response of refusals) {
      expect(response.status).toBe(503);
      expect(((await response.json()) as ErrorBody).error.code).toBe('store_unavailable');
    }

    await server.start();
    await expect
      .poll(
        async () =>
          (await ingest(app, session.sessionId, ingestToken, [transcript('after')])).status,
        {
          timeout: 10_000,
          interval: 200,
        },
      )
      .toBe(200);
    const events = await opened[0]?.store.readEvents(session.sessionId, 0, 10);
    expect(events?.map((event) => [event.seq, (event as { text?: string }).text])).toStrictEqual([
      [1, 'before'],
      [2, 'after'],
    ]);
  });
});
