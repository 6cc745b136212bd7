/**
 * `POST /internal/sessions/:id/events`: the agent job appends its session's events with the ingest
 * token from its dispatch, and nothing else gets in. Real app and store, LiveKit faked.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { TimedEventBody } from '../../common/protocol.js';
import {
  buildTestApp,
  errorShape,
  ingestTokens,
  openTestStore,
  postJson,
  readBody,
  sseSeqs,
  startSession,
  type TestApp,
  timeAt,
} from '../../test/support/test-app.js';

/** One store for the file: every test's sessions have their own random ids. */
const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

const ingest = (app: TestApp, sessionId: string, token: string | undefined, body: unknown) =>
  app.request(
    `/internal/sessions/${sessionId}/events`,
    postJson(
      typeof body === 'string' ? body : JSON.stringify(body),
      token === undefined ? {} : { authorization: `Bearer ${token}` },
    ),
  );

const transcript = (text: string, second = 0): TimedEventBody => ({
  event_type: 'transcription',
  text,
  is_final: true,
  is_interruption: false,
  timestamp: timeAt(second),
});
const transcripts = (count: number) =>
  Array.from({ length: count }, (_, index) => transcript(`t${index + 1}`));

describe('POST /internal/sessions/:id/events', () => {
  it('appends the events in order, numbered from 1, with the timestamps they were sent with', async () => {
    const { app, session, ingestToken } = await startSession(store);
    const response = await ingest(app, session.sessionId, ingestToken, {
      events: [
        { event_type: 'session_started', room_name: session.roomName, timestamp: timeAt(1) },
        { event_type: 'user_speaking', timestamp: timeAt(2) },
        transcript('Hello.', 3),
      ],
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toStrictEqual({ appended: 3, last_seq: 3 });
    const base = { session_id: session.sessionId };
    expect(await store.readEvents(session.sessionId, 0, 10)).toStrictEqual([
      {
        ...base,
        event_type: 'session_started',
        seq: 1,
        timestamp: timeAt(1),
        room_name: session.roomName,
      },
      { ...base, event_type: 'user_speaking', seq: 2, timestamp: timeAt(2) },
      { ...base, ...transcript('Hello.', 3), seq: 3 },
    ]);
  });

  it('numbers a later batch on from the last event', async () => {
    const { app, session, ingestToken } = await startSession(store);
    await ingest(app, session.sessionId, ingestToken, { events: transcripts(3) });
    const response = await ingest(app, session.sessionId, ingestToken, {
      events: [transcript('four'), transcript('five')],
    });

    expect(await response.json()).toStrictEqual({ appended: 2, last_seq: 5 });
    const stored = await store.readEvents(session.sessionId, 0, 10);
    expect(stored.map((event) => [event.seq, 'text' in event && event.text])).toStrictEqual([
      [1, 't1'],
      [2, 't2'],
      [3, 't3'],
      [4, 'four'],
      [5, 'five'],
    ]);
  });

  it('accepts a batch of 500 events', async () => {
    const { app, session, ingestToken } = await startSession(store);
    const response = await ingest(app, session.sessionId, ingestToken, {
      events: transcripts(500),
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toStrictEqual({ appended: 500, last_seq: 500 });
  });

  const stateChange = (newState: string) => ({
    event_type: 'state_change',
    new_state: newState,
    previous_state: null,
    timestamp: timeAt(0),
  });
  // The message names where the body is wrong, so each case fails for its own reason.
  it.each([
    [
      'an unknown event_type',
      { events: [{ event_type: 'telepathy', timestamp: timeAt(0) }] },
      'events.0.event_type: ',
    ],
    [
      'an event without one of its fields',
      { events: [{ event_type: 'agent_speaking', text: 'Hi', delta: 'Hi', timestamp: timeAt(0) }] },
      'events.0.turn_id: ',
    ],
    [
      'a field of the wrong type',
      { events: [{ ...transcript('Hi'), is_final: 'yes' }] },
      'events.0.is_final: ',
    ],
    [
      'a state that is not a turn state',
      { events: [stateChange('asleep')] },
      'events.0.new_state: ',
    ],
    [
      'an event without a timestamp',
      { events: [{ event_type: 'user_speaking' }] },
      'events.0.timestamp: ',
    ],
    [
      'a timestamp that is not ISO 8601',
      { events: [transcript('Hi'), { ...transcript('Hi'), timestamp: 'yesterday' }] },
      'events.1.timestamp: ',
    ],
    [
      'a date without a time',
      { events: [{ ...transcript('Hi'), timestamp: '2030-01-01' }] },
      'events.0.timestamp: ',
    ],
    ['an empty batch', { events: [] }, 'events: Too small'],
    ['a batch of 501 events', { events: transcripts(501) }, 'events: Too big'],
    ['no events array', { event: transcript('Hi') }, 'events: '],
    ['malformed JSON', '{"events": [}', 'Malformed JSON'],
  ])('rejects %s with 400 invalid_request and stores nothing', async (_, body, where) => {
    const { app, session, ingestToken } = await startSession(store);
    const response = await ingest(app, session.sessionId, ingestToken, body);

    expect(response.status).toBe(400);
    expect(await response.json()).toStrictEqual(
      errorShape('invalid_request', expect.stringContaining(where)),
    );
    expect(await store.readEvents(session.sessionId, 0, 10)).toStrictEqual([]);
  });

  it('answers 200 with nothing appended once the session has ended, and stores nothing', async () => {
    const { app, session, ingestToken } = await startSession(store);
    const ended = await app.request(`/api/sessions/${session.sessionId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${session.sessionToken}` },
    });
    expect(ended.status).toBe(200);

    const response = await ingest(app, session.sessionId, ingestToken, { events: transcripts(2) });
    expect(response.status).toBe(200);
    expect(await response.json()).toStrictEqual({ appended: 0, last_seq: 0 });
    const stored = await store.readEvents(session.sessionId, 0, 10);
    expect(stored.map((event) => event.event_type)).toStrictEqual(['session_ended']);
  });

  it('hands the events to a subscriber of the session feed as they arrive', async () => {
    const { app, session, ingestToken } = await startSession(store);
    const feed = readBody(
      await app.request(`/api/sessions/${session.sessionId}/events`, {
        headers: { authorization: `Bearer ${session.sessionToken}` },
      }),
    );
    await feed.until((text) => text.startsWith('retry'));

    await ingest(app, session.sessionId, ingestToken, { events: [transcript('Hello.', 3)] });
    await feed.until((text) => sseSeqs(text).includes(1));
    await ingest(app, session.sessionId, ingestToken, { events: transcripts(2) });
    await feed.until((text) => sseSeqs(text).includes(3));

    expect(sseSeqs(feed.text)).toStrictEqual([1, 2, 3]);
    expect(feed.text).toContain(
      `id: 1\nevent: transcription\ndata: ${JSON.stringify({
        event_type: 'transcription',
        session_id: session.sessionId,
        seq: 1,
        timestamp: timeAt(3),
        text: 'Hello.',
        is_final: true,
        is_interruption: false,
      })}\n\n`,
    );
    await feed.cancel();
  });
});

describe('POST /internal/sessions/:id/events access', () => {
  const refused = errorShape('invalid_ingest_token', 'No valid ingest token for this session.');

  it.each([
    ['no token', async () => undefined],
    ['a malformed token', async () => 'not-a-token'],
    ['an expired ingest token', async (id: string) => (await ingestTokens.issue(id, -60)).token],
    ["the session's session token", async (_: string, sessionToken: string) => sessionToken],
    [
      "another session's ingest token",
      async () => (await ingestTokens.issue('another-session', 60)).token,
    ],
  ])('answers 401 invalid_ingest_token for %s, and stores nothing', async (_, makeToken) => {
    const { app, session } = await startSession(store);
    const token = await makeToken(session.sessionId, session.sessionToken);
    const response = await ingest(app, session.sessionId, token, { events: transcripts(1) });

    expect(response.status).toBe(401);
    expect(await response.json()).toStrictEqual(refused);
    expect(await store.readEvents(session.sessionId, 0, 10)).toStrictEqual([]);
  });

  it('takes the ingest token from the Authorization header only, not from ?token=', async () => {
    const { app, session, ingestToken } = await startSession(store);
    const response = await app.request(
      `/internal/sessions/${session.sessionId}/events?token=${ingestToken}`,
      postJson(JSON.stringify({ events: transcripts(1) })),
    );

    expect(response.status).toBe(401);
    expect(await response.json()).toStrictEqual(refused);
  });

  it('checks the token before the body: 401, not 400, for a bad body without a valid token', async () => {
    const { app, session } = await startSession(store);
    const response = await ingest(app, session.sessionId, session.sessionToken, { events: [] });

    expect(response.status).toBe(401);
    expect(await response.json()).toStrictEqual(refused);
  });

  it('answers 404 session_not_found for an ingest token that names an unknown session', async () => {
    const { app } = buildTestApp({ store });
    const { token } = await ingestTokens.issue('no-such-session', 60);
    const response = await ingest(app, 'no-such-session', token, { events: transcripts(1) });

    expect(response.status).toBe(404);
    expect(await response.json()).toStrictEqual(
      errorShape('session_not_found', 'No such session.'),
    );
  });
});
