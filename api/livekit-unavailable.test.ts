/**
 * LiveKit down while a request needs it: the client gets 503 `livekit_unavailable` (our words, not
 * the connection error), as when a session cannot get its room, never a 500; what can be done
 * without LiveKit (ending a session) is still done.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildTestApp,
  createSession,
  errorShape,
  openTestStore,
  postJson,
  STACK_TRACE,
} from '../test/support/test-app.js';

const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function expectLivekitUnavailable(response: Response) {
  const text = await response.text();
  expect(text).not.toMatch(/ECONNREFUSED|fetch failed/);
  expect(text).not.toMatch(STACK_TRACE);
  expect({ status: response.status, body: JSON.parse(text) }).toStrictEqual({
    status: 503,
    body: errorShape('livekit_unavailable', expect.any(String)),
  });
}

describe('LiveKit down', () => {
  it('POST /api/sessions/:id/token of a session without a call answers 503', async () => {
    const { app, livekit } = buildTestApp({ store });
    const session = await createSession(app, { voice: false });
    livekit.down = true;
    const response = await app.request(`/api/sessions/${session.sessionId}/token`, {
      method: 'POST',
      headers: bearer(session.sessionToken),
    });
    await expectLivekitUnavailable(response);
  });

  it('POST /api/sessions answers 503', async () => {
    const { app, livekit } = buildTestApp({ store });
    livekit.down = true;
    await expectLivekitUnavailable(await app.request('/api/sessions', { method: 'POST' }));
  });

  it('POST /api/chat to a live call answers 503', async () => {
    const { app, livekit } = buildTestApp({ store });
    const session = await createSession(app);
    await store.appendEvents(session.sessionId, [
      {
        event_type: 'session_started',
        room_name: session.roomName,
        timestamp: new Date().toISOString(),
      },
    ]);
    livekit.down = true;
    const response = await app.request(
      '/api/chat',
      postJson(
        JSON.stringify({ message: 'hello', sessionId: session.sessionId }),
        bearer(session.sessionToken),
      ),
    );
    await expectLivekitUnavailable(response);
  });

  it('DELETE /api/sessions/:id still ends the session', async () => {
    const { app, livekit } = buildTestApp({ store });
    const session = await createSession(app);
    livekit.down = true;
    const response = await app.request(`/api/sessions/${session.sessionId}`, {
      method: 'DELETE',
      headers: bearer(session.sessionToken),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ endedAt: expect.any(String) });
  });
});
