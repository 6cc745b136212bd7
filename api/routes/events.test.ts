/**
 * `GET /api/sessions/:id/events` through `app.request(...)`: the real app on a real SQLite store,
 * read chunk by chunk the way a client reads, so the tests control who reads and when. Who may
 * follow a session is checked with the other session-scoped routes, in api/session-auth.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorBody, TimedEventBody } from '../../common/protocol.js';
import {
  buildTestApp,
  openTestStore,
  readBody,
  sessionTokens,
  sseSeqs,
  type TestApp,
} from '../../test/support/test-app.js';
import type { SessionStore } from '../store/types.js';

const TIME = '2025-01-01T00:00:00.000Z';

let store: SessionStore;
let removeStore: () => Promise<void>;
let activeSubscriptions: number;

beforeEach(async () => {
  const opened = await openTestStore();
  removeStore = opened.remove;
  const sqlite = opened.store;
  activeSubscriptions = 0;
  // Counts live subscriptions, to see a dropped or disconnected subscriber let go of the store.
  store = {
    ...sqlite,
    subscribe(sessionId, listener) {
      activeSubscriptions += 1;
      const unsubscribe = sqlite.subscribe(sessionId, listener);
      let subscribed = true;
      return () => {
        if (subscribed) activeSubscriptions -= 1;
        subscribed = false;
        unsubscribe();
      };
    },
  };
});

afterEach(() => removeStore());

const buildApp = (eventStream = {}, closing?: AbortSignal) =>
  buildTestApp({ store, eventStream, closing }).app;

async function createSession(sessionId = 's1') {
  await store.createSession({
    sessionId,
    roomName: `session-${sessionId}`,
    participantIdentity: 'user-1',
    userId: null,
    username: null,
    instructions: null,
    tools: null,
    createdAt: TIME,
  });
  return (await sessionTokens.issue(sessionId, 3600)).token;
}

const transcript = (text: string): TimedEventBody => ({
  event_type: 'transcription',
  text,
  is_final: true,
  is_interruption: false,
  timestamp: TIME,
});
const transcripts = (count: number, from = 1) =>
  Array.from({ length: count }, (_, index) => transcript(`t${from + index}`));
const ended: TimedEventBody = { event_type: 'session_ended', reason: 'bye', timestamp: TIME };

const hasSeq = (seq: number) => (text: string) => sseSeqs(text).includes(seq);

const follow = (app: TestApp, token: string, init: { query?: string; lastEventId?: string } = {}) =>
  app.request(`/api/sessions/s1/events${init.query ?? ''}`, {
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.lastEventId !== undefined && { 'last-event-id': init.lastEventId }),
    },
  });

describe('GET /api/sessions/:id/events', () => {
  it('starts with a retry hint, then one frame per event: id, event, full event JSON', async () => {
    const token = await createSession();
    await store.appendEvents('s1', [
      { event_type: 'session_started', room_name: 'session-s1', timestamp: TIME },
      transcript('hello'),
    ]);
    const response = await follow(buildApp(), token);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const body = readBody(response);
    await body.until(hasSeq(2));
    expect(body.text).toBe(
      'retry: 3000\n\n' +
        'id: 1\nevent: session_started\ndata: {"event_type":"session_started","session_id":"s1","seq":1,"timestamp":"2025-01-01T00:00:00.000Z","room_name":"session-s1"}\n\n' +
        'id: 2\nevent: transcription\ndata: {"event_type":"transcription","session_id":"s1","seq":2,"timestamp":"2025-01-01T00:00:00.000Z","text":"hello","is_final":true,"is_interruption":false}\n\n',
    );
    await body.cancel();
  });

  it('follows live events after the replay', async () => {
    const token = await createSession();
    await store.appendEvents('s1', transcripts(1));
    const body = readBody(await follow(buildApp(), token));
    await body.until(hasSeq(1));

    await store.appendEvents('s1', transcripts(2, 2));
    await body.until(hasSeq(3));
    expect(sseSeqs(body.text)).toStrictEqual([1, 2, 3]);
    await body.cancel();
  });

  it.each([
    ['the Last-Event-ID header', { lastEventId: '3' }],
    ['?lastEventId=', { query: '?lastEventId=3' }],
    [
      'the header over the query (a browser reconnecting)',
      { query: '?lastEventId=1', lastEventId: '3' },
    ],
  ])('replays the events after %s', async (_, init) => {
    const token = await createSession();
    await store.appendEvents('s1', transcripts(5));
    const body = readBody(await follow(buildApp(), token, init));

    await body.until(hasSeq(5));
    expect(sseSeqs(body.text)).toStrictEqual([4, 5]);
    await body.cancel();
  });

  it('sends every event exactly once while events are appended during a multi-page replay', async () => {
    const token = await createSession();
    await store.appendEvents('s1', transcripts(1200));
    const body = readBody(await follow(buildApp(), token, { lastEventId: '7' }));

    // An append after every chunk read lands at each stage: mid-replay, at the boundary, live.
    for (let appended = 1200; appended < 1300; appended += 5) {
      await body.readChunk();
      await store.appendEvents('s1', transcripts(5, appended + 1));
    }
    await body.until(hasSeq(1300));
    expect(sseSeqs(body.text)).toStrictEqual(Array.from({ length: 1293 }, (_, index) => index + 8));
    await body.cancel();
  });

  it('closes after the replay when the session has ended', async () => {
    const token = await createSession();
    await store.appendEvents('s1', [...transcripts(2), ended]);

    const all = await readBody(await follow(buildApp(), token)).toEnd();
    expect(sseSeqs(all)).toStrictEqual([1, 2, 3]);
    expect(all).toMatch(/event: session_ended\ndata: \{[^\n]*"reason":"bye"\}\n\n$/);
    const afterTheEnd = await readBody(
      await follow(buildApp(), token, { lastEventId: '3' }),
    ).toEnd();
    expect(afterTheEnd).toBe('retry: 3000\n\n');
    expect(activeSubscriptions).toBe(0);
  });

  it('closes when the session ends while it is followed', async () => {
    const token = await createSession();
    const body = readBody(await follow(buildApp(), token));
    await body.until((text) => text.startsWith('retry'));

    await store.appendEvents('s1', [transcript('last'), ended]);
    expect(sseSeqs(await body.toEnd())).toStrictEqual([1, 2]);
    expect(activeSubscriptions).toBe(0);
  });

  it('sends a heartbeat comment while idle', async () => {
    const token = await createSession();
    const body = readBody(await follow(buildApp({ heartbeatMs: 20 }), token));

    expect(await body.until((text) => text.includes(': ping\n\n'))).toBe(true);
    expect(body.text).toBe('retry: 3000\n\n: ping\n\n');
    await body.cancel();
  });

  it('drops a subscriber that does not read past the bound, without delaying another', async () => {
    const token = await createSession();
    const app = buildApp({ maxQueuedEvents: 10 });
    const stalled = await follow(app, token);
    const reader = readBody(await follow(app, token));
    await reader.until((text) => text.startsWith('retry'));
    expect(activeSubscriptions).toBe(2);

    const subscribersAfterAppend: number[] = [];
    for (let seq = 1; seq <= 30; seq += 1) {
      await store.appendEvents('s1', [transcript(`t${seq}`)]);
      subscribersAfterAppend.push(activeSubscriptions);
      await reader.until(hasSeq(seq));
    }

    // Ten waiting events are allowed; the eleventh drops it and unsubscribes it from the store.
    expect(subscribersAfterAppend.indexOf(1)).toBe(10);
    expect(activeSubscriptions).toBe(1);
    expect(sseSeqs(reader.text)).toStrictEqual(Array.from({ length: 30 }, (_, index) => index + 1));
    // Its queue is gone: what is left to read is what it was handed before being dropped.
    expect(await readBody(stalled).toEnd()).toBe('retry: 3000\n\n');
    await reader.cancel();
  });

  it('lets go of the store when the client disconnects', async () => {
    const token = await createSession();
    const body = readBody(await follow(buildApp({ heartbeatMs: 10 }), token));
    await body.until((text) => text.startsWith('retry'));
    expect(activeSubscriptions).toBe(1);

    await body.cancel();
    expect(activeSubscriptions).toBe(0);
  });

  it('rejects a Last-Event-ID that is not a sequence number with 400', async () => {
    const token = await createSession();
    const response = await follow(buildApp(), token, { lastEventId: 'abc' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).error.code).toBe('invalid_request');
  });
});

describe('when the server shuts down', () => {
  /** The retry hint that ends a stream on shutdown, at its end. */
  const finalRetry = (text: string) => Number(/\nretry: (\d+)\n\n$/.exec(text)?.[1]);

  it('sends the live events it holds, then a retry hint, and ends', async () => {
    const token = await createSession();
    await store.appendEvents('s1', transcripts(1));
    const closing = new AbortController();
    const body = readBody(await follow(buildApp({}, closing.signal), token));
    await body.until(hasSeq(1));

    // Appended, queued for the subscriber, not read yet when the shutdown comes.
    await store.appendEvents('s1', transcripts(2, 2));
    closing.abort();
    const text = await body.toEnd();
    expect(sseSeqs(text)).toStrictEqual([1, 2, 3]);
    expect(finalRetry(text)).toBeGreaterThanOrEqual(500);
    expect(finalRetry(text)).toBeLessThanOrEqual(3000);
    expect(activeSubscriptions).toBe(0);

    // The client comes back with Last-Event-ID and misses nothing appended since.
    await store.appendEvents('s1', transcripts(1, 4));
    const resumed = readBody(await follow(buildApp(), token, { lastEventId: '3' }));
    await resumed.until(hasSeq(4));
    expect(sseSeqs(resumed.text)).toStrictEqual([4]);
    await resumed.cancel();
  });

  it('wakes a stream that waits for events, and ends it with the hint', async () => {
    const token = await createSession();
    const closing = new AbortController();
    const body = readBody(await follow(buildApp({}, closing.signal), token));
    await body.until((text) => text.startsWith('retry'));

    closing.abort();
    const text = await body.toEnd();
    expect(text).toMatch(/^retry: 3000\n\nretry: \d+\n\n$/);
  });

  it('ends a stream whose session ended with its last event, with no hint to come back', async () => {
    const token = await createSession();
    await store.appendEvents('s1', transcripts(1));
    const closing = new AbortController();
    const body = readBody(await follow(buildApp({}, closing.signal), token));
    await body.until(hasSeq(1));

    await store.appendEvents('s1', [transcript('last'), ended]);
    closing.abort();
    const text = await body.toEnd();
    expect(sseSeqs(text)).toStrictEqual([1, 2, 3]);
    expect(text).toMatch(/event: session_ended\ndata: [^\n]*\n\n$/);
  });
});
