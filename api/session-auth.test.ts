/**
 * Who may call a session-scoped route: only the holder of that session's session token, in the
 * Authorization header (as `?token=` on the event feed only, for EventSource). Every route is
 * checked the same way, and a refused call changes nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildTestApp,
  createSession,
  errorShape,
  openTestStore,
  SECRET,
  sessionTokens,
  startSession,
  type TestApp,
} from '../test/support/test-app.js';
import { createSessionTokens } from './session-tokens.js';

/** One store for the file: every test's sessions have their own random ids. */
const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

async function expectError(response: Response, status: number, code: string, message: string) {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect({ status: response.status, body: await response.json() }).toStrictEqual({
    status,
    body: errorShape(code, message),
  });
}

describe.each([
  ['GET', ''],
  ['POST', '/token'],
  ['DELETE', ''],
  ['GET', '/transcript'],
  ['GET', '/events'],
])('%s /api/sessions/:id%s', (method, suffix) => {
  /** EventSource cannot set headers: the feed alone takes the token in its URL. */
  const takesQueryToken = suffix === '/events';
  const call = (app: TestApp, sessionId: string, token?: string, query = '') =>
    app.request(`/api/sessions/${sessionId}${suffix}${query}`, {
      method,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });

  it('answers 200 with the session token in the Authorization header', async () => {
    const { app, session } = await startSession(store);
    const response = await call(app, session.sessionId, session.sessionToken);
    expect(response.status).toBe(200);
    await response.body?.cancel();
  });

  it(`${takesQueryToken ? 'accepts' : 'refuses (401, changing nothing)'} the session token as ?token=`, async () => {
    const { app, livekit, session } = await startSession(store);
    const response = await call(
      app,
      session.sessionId,
      undefined,
      `?token=${session.sessionToken}`,
    );
    if (takesQueryToken) {
      expect(response.status).toBe(200);
      await response.body?.cancel();
      return;
    }
    await expectError(
      response,
      401,
      'session_token_required',
      'This call needs the session token.',
    );
    expect(livekit.deletedRooms).toStrictEqual([]);
    expect(await store.getSession(session.sessionId)).toMatchObject({ endedAt: null });
  });

  it('answers 401 session_token_required without a token', async () => {
    const { app, session } = await startSession(store);
    await expectError(
      await call(app, session.sessionId),
      401,
      'session_token_required',
      'This call needs the session token.',
    );
  });

  it.each([
    ['a malformed token', async () => 'not-a-token'],
    ['an expired token', async (id: string) => (await sessionTokens.issue(id, -60)).token],
    [
      'a token signed with another secret',
      async (id: string) => (await createSessionTokens(`${SECRET}x`).issue(id, 60)).token,
    ],
    ["the session's ingest token", async (_: string, ingestToken: string) => ingestToken],
  ])('answers 401 invalid_session_token for %s', async (_, makeToken) => {
    const { app, session, ingestToken } = await startSession(store);
    const token = await makeToken(session.sessionId, ingestToken);
    await expectError(
      await call(app, session.sessionId, token),
      401,
      'invalid_session_token',
      'The session token is not valid or expired.',
    );
  });

  it("answers 403 forbidden for another session's token, and changes nothing", async () => {
    const { app, livekit, session } = await startSession(store);
    const other = await createSession(app);
    await expectError(
      await call(app, session.sessionId, other.sessionToken),
      403,
      'forbidden',
      'The session token is for another session.',
    );
    expect(livekit.deletedRooms).toStrictEqual([]);
    expect(await store.readEvents(session.sessionId, 0, 10)).toStrictEqual([]);
    expect(await store.getSession(session.sessionId)).toMatchObject({ endedAt: null });
  });

  it('answers 404 session_not_found for a token that names an unknown session', async () => {
    const { app } = buildTestApp({ store });
    const { token } = await sessionTokens.issue('no-such-session', 60);
    await expectError(
      await call(app, 'no-such-session', token),
      404,
      'session_not_found',
      'No such session.',
    );
  });
});

describe('GET /api/sessions/:id/events?token=', () => {
  it('answers 401 invalid_session_token for a bad ?token=', async () => {
    const { app, session } = await startSession(store);
    await expectError(
      await app.request(`/api/sessions/${session.sessionId}/events?token=not-a-token`),
      401,
      'invalid_session_token',
      'The session token is not valid or expired.',
    );
  });
});
