/**
 * A session after its creation: reading it, refreshing its participant token, and ending it, on
 * the real app and store with LiveKit's room service faked. Creation is tested in api/app.test.ts,
 * and who may call these routes in api/session-auth.test.ts.
 */
import { decode } from 'hono/jwt';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type {
  CreateSessionResponse,
  ErrorBody,
  ParticipantTokenResponse,
  SessionResponse,
  TimedEventBody,
} from '../../common/protocol.js';
import {
  buildTestApp,
  createSession,
  errorShape,
  ISO_TIME,
  ingestTokens,
  LIVEKIT_URL,
  openTestStore,
  postJson,
  sessionTokens,
  startSession,
  type TestApp,
  timeAt,
} from '../../test/support/test-app.js';

/** One store for the file: every test's sessions have their own random ids. */
const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);
afterEach(() => {
  vi.useRealTimers();
});

const asHolder = (session: CreateSessionResponse, method = 'GET') => ({
  method,
  headers: { authorization: `Bearer ${session.sessionToken}` },
});

async function getSession(app: TestApp, session: CreateSessionResponse) {
  const response = await app.request(`/api/sessions/${session.sessionId}`, asHolder(session));
  expect(response.status).toBe(200);
  return (await response.json()) as SessionResponse;
}

async function endSession(app: TestApp, session: CreateSessionResponse) {
  const response = await app.request(
    `/api/sessions/${session.sessionId}`,
    asHolder(session, 'DELETE'),
  );
  expect(response.status).toBe(200);
  return (await response.json()) as SessionResponse;
}

const endings = async (sessionId: string) =>
  (await store.readEvents(sessionId, 0, 100)).filter(
    (event) => event.event_type === 'session_ended',
  );

describe('GET /api/sessions/:id', () => {
  it('answers a new session: idle, not live, last active when it was created', async () => {
    const { app } = buildTestApp({ store });
    const session = await createSession(app);

    const body = await getSession(app, session);
    expect(body).toStrictEqual({
      sessionId: session.sessionId,
      roomName: session.roomName,
      state: 'idle',
      live: false,
      createdAt: expect.stringMatching(ISO_TIME),
      lastActivityAt: body.createdAt,
      endedAt: null,
      // The default idle timeout (30 minutes) after the last activity.
      expiresAt: new Date(Date.parse(body.createdAt) + 1800_000).toISOString(),
    });
  });

  it('follows the log: live from session_started, state from state_change, activity from the last append', async () => {
    // The store stamps activity with its own clock when it appends, not with the events' times.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(timeAt(0)));
    const { app } = buildTestApp({ store });
    const session = await createSession(app);
    const created = await getSession(app, session);

    vi.setSystemTime(new Date(timeAt(1)));
    await store.appendEvents(session.sessionId, [
      {
        event_type: 'session_started',
        room_name: session.roomName,
        timestamp: timeAt(1),
      },
    ]);
    const expiresAfter = (second: number) =>
      new Date(Date.parse(timeAt(second)) + 1800_000).toISOString();
    expect(await getSession(app, session)).toStrictEqual({
      ...created,
      live: true,
      lastActivityAt: timeAt(1),
      expiresAt: expiresAfter(1),
    });

    vi.setSystemTime(new Date(timeAt(4)));
    await store.appendEvents(session.sessionId, [
      {
        event_type: 'state_change',
        new_state: 'userSpeaking',
        previous_state: 'idle',
        timestamp: timeAt(2),
      },
      {
        event_type: 'state_change',
        new_state: 'agentSpeaking',
        previous_state: 'userSpeaking',
        timestamp: timeAt(3),
      },
      {
        event_type: 'agent_speaking',
        text: 'Hello.',
        delta: 'Hello.',
        turn_id: 't1',
        timestamp: timeAt(4),
      },
    ]);
    expect(await getSession(app, session)).toStrictEqual({
      ...created,
      state: 'agentSpeaking',
      live: true,
      lastActivityAt: timeAt(4),
      expiresAt: expiresAfter(4),
    });
  });

  it('reports an ended session as not live, ended when its session_ended was appended', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(timeAt(0)));
    const { app } = buildTestApp({ store });
    const session = await createSession(app);
    vi.setSystemTime(new Date(timeAt(5)));
    await store.appendEvents(session.sessionId, [
      {
        event_type: 'session_started',
        room_name: session.roomName,
        timestamp: timeAt(1),
      },
      {
        event_type: 'session_ended',
        reason: 'participant_disconnected',
        timestamp: timeAt(5),
      },
    ]);

    expect(await getSession(app, session)).toMatchObject({
      live: false,
      lastActivityAt: timeAt(5),
      endedAt: timeAt(5),
    });
  });

  it("answers 500 internal_error without the store's error text when the store fails", async () => {
    const { app } = buildTestApp({
      store: {
        ...store,
        async getSession() {
          throw new Error(
            'SQLITE_CORRUPT: database disk image is malformed (/srv/data/sessions.db)',
          );
        },
      },
    });
    const { token } = await sessionTokens.issue('s-broken', 60);
    const response = await app.request('/api/sessions/s-broken', {
      headers: { authorization: `Bearer ${token}` },
    });

    expect(response.status).toBe(500);
    expect(await response.json()).toStrictEqual(
      errorShape('internal_error', 'Internal server error'),
    );
  });
});

describe('POST /api/sessions/:id/token', () => {
  it('ends a session idle past SESSION_IDLE_TIMEOUT_S instead of continuing it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(timeAt(0)));
    const { app, livekit } = buildTestApp({ store, env: { SESSION_IDLE_TIMEOUT_S: '60' } });
    const session = await createSession(app);
    vi.setSystemTime(new Date(timeAt(1)));
    await store.appendEvents(session.sessionId, [
      { event_type: 'user_speaking', timestamp: timeAt(1) },
    ]);
    expect((await getSession(app, session)).expiresAt).toBe(timeAt(61));
    vi.setSystemTime(new Date(timeAt(62)));

    const response = await app.request(
      `/api/sessions/${session.sessionId}/token`,
      asHolder(session, 'POST'),
    );
    expect(response.status).toBe(409);
    expect(((await response.json()) as ErrorBody).error.code).toBe('session_expired');
    const events = await store.readEvents(session.sessionId, 0, 10);
    expect(events.at(-1)).toMatchObject({ event_type: 'session_ended', reason: 'idle_timeout' });
    expect(livekit.deletedRooms).toStrictEqual([session.roomName]);
    expect(await getSession(app, session)).toMatchObject({ live: false, expiresAt: null });
  });

  it('hands out a fresh participant token: same room, identity, name and grants, expiring later', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(timeAt(0)));
    const { app } = buildTestApp({ store });
    const session = await createSession(app, { username: 'Alice' });

    vi.setSystemTime(new Date('2030-01-01T00:10:00.000Z'));
    const response = await app.request(
      `/api/sessions/${session.sessionId}/token`,
      asHolder(session, 'POST'),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as ParticipantTokenResponse;
    expect(body).toStrictEqual({
      sessionId: session.sessionId,
      roomName: session.roomName,
      livekitUrl: LIVEKIT_URL,
      participantToken: expect.any(String),
      participantIdentity: session.participantIdentity,
      expiresAt: '2030-01-01T00:25:00.000Z',
    });

    const first = decode(session.participantToken).payload;
    const fresh = decode(body.participantToken).payload;
    expect(body.participantToken).not.toBe(session.participantToken);
    expect(fresh).toStrictEqual({ ...first, nbf: expect.any(Number), exp: expect.any(Number) });
    expect(fresh).toMatchObject({ sub: session.participantIdentity, name: 'Alice' });
    expect(fresh.video).toMatchObject({ room: session.roomName, roomJoin: true });
    expect(fresh.exp).toBe(Date.parse('2030-01-01T00:25:00.000Z') / 1000);
    expect(fresh.exp).toBe((first.exp as number) + 600);
  });

  it('answers 409 session_ended once the session has ended', async () => {
    const { app } = buildTestApp({ store });
    const session = await createSession(app);
    await endSession(app, session);

    const response = await app.request(
      `/api/sessions/${session.sessionId}/token`,
      asHolder(session, 'POST'),
    );
    expect(response.status).toBe(409);
    expect(await response.json()).toStrictEqual(
      errorShape('session_ended', 'The session has ended.'),
    );
  });
});

describe('DELETE /api/sessions/:id', () => {
  it('deletes the room, appends one session_ended (ended_by_client) and answers the ended session', async () => {
    // One instant for the whole test: the event's timestamp and the end the store stamps agree.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(timeAt(0)));
    const { app, livekit } = buildTestApp({ store });
    const session = await createSession(app);
    await store.appendEvents(session.sessionId, [
      {
        event_type: 'session_started',
        room_name: session.roomName,
        timestamp: timeAt(1),
      },
    ]);
    const before = await getSession(app, session);

    const ended = await endSession(app, session);
    expect(ended).toStrictEqual({
      ...before,
      live: false,
      lastActivityAt: expect.stringMatching(ISO_TIME),
      endedAt: ended.lastActivityAt,
      expiresAt: null,
    });
    expect(livekit.deletedRooms).toStrictEqual([session.roomName]);
    expect(await store.readEvents(session.sessionId, 1, 100)).toStrictEqual([
      {
        event_type: 'session_ended',
        session_id: session.sessionId,
        seq: 2,
        timestamp: ended.endedAt,
        reason: 'ended_by_client',
      },
    ]);
    expect(await getSession(app, session)).toStrictEqual(ended);
  });

  it('answers the ended session again on a second DELETE, without deleting the room or appending again', async () => {
    const { app, livekit } = buildTestApp({ store });
    const session = await createSession(app);
    const first = await endSession(app, session);

    expect(await endSession(app, session)).toStrictEqual(first);
    expect(livekit.deletedRooms).toStrictEqual([session.roomName]);
    expect(await endings(session.sessionId)).toHaveLength(1);
  });

  it('ends the session once when two DELETEs race', async () => {
    const { app, livekit } = buildTestApp({ store });
    const session = await createSession(app);
    // LiveKit takes a while to answer, so both calls are under way at once.
    livekit.onDeleteRoom = () => new Promise((resolve) => setTimeout(resolve, 20));

    const [first, second] = await Promise.all([endSession(app, session), endSession(app, session)]);
    expect(second).toStrictEqual(first);
    expect(await endings(session.sessionId)).toHaveLength(1);
    expect(livekit.deletedRooms).toStrictEqual([session.roomName]);
  });

  it('ends the session as ended_by_client even when the agent reports its own end as the room goes', async () => {
    const { app, livekit, session, ingestToken } = await startSession(store);
    expect(await ingestTokens.verify(ingestToken)).toBe(session.sessionId);
    // Deleting the room disconnects the agent, whose session closes and reports it.
    const agentEnd: TimedEventBody = {
      event_type: 'session_ended',
      reason: 'participant_disconnected',
      timestamp: new Date().toISOString(),
    };
    livekit.onDeleteRoom = async () => {
      const ingested = await app.request(
        `/internal/sessions/${session.sessionId}/events`,
        postJson(JSON.stringify({ events: [agentEnd] }), {
          authorization: `Bearer ${ingestToken}`,
        }),
      );
      expect(ingested.status).toBe(200);
    };

    await endSession(app, session);
    expect((await endings(session.sessionId)).map((event) => event.reason)).toStrictEqual([
      'ended_by_client',
    ]);
  });

  it("ends the session when LiveKit cannot delete the room, without LiveKit's error text", async () => {
    const { app, livekit } = buildTestApp({ store });
    const session = await createSession(app);
    livekit.onDeleteRoom = async () => {
      throw new Error('twirp error unavailable: dial tcp 10.1.2.3:7880: connection refused');
    };

    const ended = await endSession(app, session);
    expect(ended).toMatchObject({ live: false, endedAt: expect.stringMatching(ISO_TIME) });
    expect(JSON.stringify(ended)).not.toContain('twirp');
    expect((await endings(session.sessionId)).map((event) => event.reason)).toStrictEqual([
      'ended_by_client',
    ]);
  });
});
